package io.shardkit.tx.impl.xa;

import static io.shardkit.tx.impl.xa.XaFixture.await;
import static io.shardkit.tx.impl.xa.XaFixture.failure;
import static io.shardkit.tx.impl.xa.XaFixture.transfer;
import static org.assertj.core.api.Assertions.assertThat;

import io.shardkit.context.ShardkitException;
import io.shardkit.context.ShardkitTimeoutException;
import io.shardkit.context.TxScope;
import io.shardkit.context.junit.LeakGuardExtension;
import io.shardkit.testkit.Shard;
import io.shardkit.testkit.ShardDatabases;
import io.shardkit.testkit.Shards;
import io.shardkit.tx.TransactionOutcomePendingException.Decision;
import io.shardkit.tx.TransactionRolledBackException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Atomicity under a failure at each step, with the fault injected for real (kill -9, SIGSTOP, a
 * coordinator that stops talking and drops its connections) and the invariant checked after
 * recovery: both shards agree (transfer applied on both or on neither) and no shardkit branch is
 * left prepared. Account 1 lives on ds_1 (shard B), account 2 on ds_0 (shard A, also the log).
 */
@Shards(2)
@ExtendWith(LeakGuardExtension.class)
class XaFaultTest {

  static XaFixture fx;

  @BeforeAll
  static void setUp(ShardDatabases dbs) throws Exception {
    XaFixture.createTables(dbs);
    fx = new XaFixture(dbs, XaFixture.options(), 4);
    await(fx.transactions.installSchema());
  }

  @AfterAll
  static void tearDown() throws Exception {
    fx.close();
  }

  @BeforeEach
  void reset() {
    fx.resetAccounts(4, 100);
  }

  @AfterEach
  void noStop() {
    fx.tx.stopAt(StopPoint.NONE);
  }

  private static Shard shardB() {
    return fx.dbs.get(1).shard();
  }

  /** Runs the transfer 1 → 2 with the coordinator abandoning it at {@code stop}; its gid. */
  private static String abandonedTransfer(StopPoint stop, Duration timeout) throws Exception {
    fx.tx.stopAt(stop);
    AtomicReference<String> gid = new AtomicReference<>();
    Throwable actual =
        failure(
            fx.pool.withTransaction(
                timeout,
                sql -> {
                  gid.set(TxScope.current().orElseThrow().globalId());
                  return transfer(sql, "x", 1, 2, 40);
                }));
    fx.tx.stopAt(StopPoint.NONE);
    assertThat(actual)
        .isExactlyInstanceOf(ShardkitException.class)
        .hasMessageContaining("abandoned");
    return gid.get();
  }

  private static void assertApplied(boolean expectedApplied) {
    long expectedFrom = expectedApplied ? 60 : 100;
    long expectedTo = expectedApplied ? 140 : 100;
    assertThat(fx.balance(1)).as("account 1 on ds_1").isEqualTo(expectedFrom);
    assertThat(fx.balance(2)).as("account 2 on ds_0").isEqualTo(expectedTo);
    for (int i = 0; i < 2; i++) {
      assertThat(fx.dbs.get(i).query("SELECT * FROM transfer"))
          .as("transfer rows on ds_%d", i)
          .hasSize(expectedApplied ? 1 : 0);
    }
    assertThat(fx.preparedBranchesEverywhere()).as("shardkit branches in XA RECOVER").isZero();
  }

  /**
   * Recovery passes until no shardkit branch is left prepared (or 20 s), summed. Several passes may
   * be needed: a branch stays attached to its closed connection until the server notices the close
   * (XA COMMIT answers 1397 until then), and a restarted shard needs a moment.
   */
  private static RecoveryReport recoverAll() throws Exception {
    long until = System.nanoTime() + 20_000_000_000L;
    RecoveryReport sum = await(fx.tx.recovery().runOnce());
    while (fx.preparedBranchesEverywhere() > 0 && System.nanoTime() < until) {
      Thread.sleep(100);
      RecoveryReport r = await(fx.tx.recovery().runOnce());
      System.out.println(
          "recovery pass: "
              + r
              + " XA RECOVER ds_0 "
              + fx.dbs.get(0).shard().query(null, "XA RECOVER")
              + " ds_1 "
              + fx.dbs.get(1).shard().query(null, "XA RECOVER"));
      sum =
          new RecoveryReport(
              sum.committed() + r.committed(),
              sum.rolledBack() + r.rolledBack(),
              sum.abortsDecided() + r.abortsDecided(),
              r.inDoubt(),
              sum.pruned() + r.pruned(),
              r.unreachable(),
              r.leasedElsewhere());
    }
    return sum;
  }

  @Test
  void prepareFailingOnOneShardRollsBackBoth() throws Exception {
    // Shard B is killed after the work wrote on both shards: its XA PREPARE fails for real.
    Throwable actual =
        failure(
            fx.pool.withTransaction(
                Duration.ofSeconds(10),
                sql ->
                    transfer(sql, "p", 1, 2, 40)
                        .compose(
                            v ->
                                fx.vertx.executeBlocking(
                                    () -> {
                                      shardB().kill();
                                      return null;
                                    }))));
    assertThat(actual).isInstanceOf(TransactionRolledBackException.class);
    TransactionRolledBackException rolledBack = (TransactionRolledBackException) actual;
    assertThat(rolledBack.phase()).isEqualTo("prepare");
    assertThat(rolledBack.causes()).containsOnlyKeys("ds_1");
    shardB().start();
    assertApplied(false);
  }

  @Test
  void coordinatorGoneAfterAllPreparedBeforeDecisionIsRolledBackAfterDeadline() throws Exception {
    Duration timeout = Duration.ofSeconds(2);
    long start = System.currentTimeMillis();
    String gid = abandonedTransfer(StopPoint.AFTER_PREPARE, timeout);
    assertThat(fx.preparedBranchesEverywhere()).isEqualTo(2);
    // Before deadline + grace the branches may still belong to a live coordinator: left alone.
    RecoveryReport early = await(fx.tx.recovery().runOnce());
    if (System.currentTimeMillis() < start + timeout.toMillis()) {
      assertThat(early.rolledBack()).isZero();
      assertThat(early.inDoubt()).isEqualTo(2);
      assertThat(fx.preparedBranchesEverywhere()).isEqualTo(2);
    }
    Thread.sleep(Math.max(0, start + timeout.toMillis() + 400 - System.currentTimeMillis()));
    RecoveryReport report = recoverAll();
    assertThat(report.abortsDecided()).isEqualTo(1);
    assertThat(report.rolledBack()).isEqualTo(2);
    assertThat(await(fx.tx.decision(gid))).contains(Decision.ROLLBACK);
    assertApplied(false);
  }

  @Test
  void coordinatorGoneAfterDecisionBeforeAnyCommitIsCommittedByRecovery() throws Exception {
    String gid = abandonedTransfer(StopPoint.AFTER_DECISION, Duration.ofSeconds(30));
    assertThat(fx.preparedBranchesEverywhere()).isEqualTo(2);
    assertThat(fx.balance(1)).isEqualTo(100); // nothing visible before the commits
    RecoveryReport report = recoverAll();
    assertThat(report.committed()).isEqualTo(2);
    assertThat(report.abortsDecided()).isZero();
    assertThat(await(fx.tx.decision(gid))).contains(Decision.COMMIT);
    assertApplied(true);
  }

  @Test
  void coordinatorGoneAfterOneCommitIsCompletedByRecovery() throws Exception {
    abandonedTransfer(StopPoint.AFTER_ONE_COMMIT, Duration.ofSeconds(30));
    assertThat(fx.preparedBranchesEverywhere()).isEqualTo(1);
    RecoveryReport report = recoverAll();
    assertThat(report.committed()).isEqualTo(1);
    assertApplied(true);
  }

  @Test
  void shardKilledWhilePreparedWithCommitDecisionIsCommittedAfterRestart() throws Exception {
    abandonedTransfer(StopPoint.AFTER_DECISION, Duration.ofSeconds(30));
    shardB().kill();
    RecoveryReport whileDown = await(fx.tx.recovery().runOnce());
    assertThat(whileDown.unreachable()).contains("ds_1");
    long until = System.nanoTime() + 10_000_000_000L;
    while (fx.preparedBranches(0) > 0 && System.nanoTime() < until) {
      await(fx.tx.recovery().runOnce());
    }
    assertThat(fx.balance(2)).isEqualTo(140); // ds_0 committed from the log
    shardB().start();
    assertThat(fx.preparedBranches(1)).as("prepared branch survived kill -9").isEqualTo(1);
    recoverAll();
    assertApplied(true);
  }

  @Test
  void shardKilledWhilePreparedWithoutDecisionIsRolledBackAfterRestart() throws Exception {
    long start = System.currentTimeMillis();
    abandonedTransfer(StopPoint.AFTER_PREPARE, Duration.ofSeconds(1));
    shardB().kill();
    shardB().start();
    assertThat(fx.preparedBranches(1)).as("prepared branch survived kill -9").isEqualTo(1);
    Thread.sleep(Math.max(0, start + 1_400 - System.currentTimeMillis()));
    recoverAll();
    assertApplied(false);
  }

  @Test
  void shardPausedPastTheDeadlineFailsAtTheDeadlineAndLeavesNothing() throws Exception {
    Duration timeout = Duration.ofSeconds(1);
    long start = System.nanoTime();
    Throwable actual;
    try {
      // Shard B freezes after the work wrote on both: its XA END/PREPARE never answers.
      actual =
          failure(
              fx.pool.withTransaction(
                  timeout,
                  sql ->
                      transfer(sql, "z", 1, 2, 40)
                          .compose(
                              v ->
                                  fx.vertx.executeBlocking(
                                      () -> {
                                        shardB().pause();
                                        return null;
                                      }))));
    } finally {
      long actualMillis = (System.nanoTime() - start) / 1_000_000;
      Thread.sleep(1_500); // stay frozen well past the deadline and the rollback timeout
      shardB().resume();
      assertThat(actualMillis).isBetween(timeout.toMillis(), timeout.toMillis() + 300);
    }
    assertThat(actual).isInstanceOf(ShardkitTimeoutException.class);
    Thread.sleep(Math.max(0, 500 - (System.nanoTime() - start) / 1_000_000));
    recoverAll();
    assertApplied(false);
  }
}
