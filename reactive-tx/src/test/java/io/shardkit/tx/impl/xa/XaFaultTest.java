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
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Atomicity under a failure at each step, with the fault injected for real (kill -9, SIGSTOP, a
 * coordinator that stops talking and drops its connections) and the invariant checked after
 * recovery: both shards agree (transfer applied on both or on neither) and no shardkit branch is
 * left prepared. Account 1 lives on ds_1 (shard B), account 2 on ds_0 (shard A, also the log).
 */
@Shards(2)
@ExtendWith(LeakGuardExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class XaFaultTest {

  XaFixture fx;

  /**
   * Whether the decision is kept on the first participant (the default): the transfer 1 → 2 starts
   * on ds_1, which then decides (a local transaction committed with the COMMIT row) and only ds_0
   * is prepared; otherwise both are prepared and the decision goes to the coordinator log on ds_0
   * ({@link XaFaultLogDecisionTest}).
   */
  boolean onParticipant() {
    return true;
  }

  /** Branches prepared by a two-shard transfer: 1 with the decision on a participant, else 2. */
  int preparedPerTransfer() {
    return onParticipant() ? 1 : 2;
  }

  @BeforeAll
  void setUp(ShardDatabases dbs) throws Exception {
    XaFixture.createTables(dbs);
    fx = new XaFixture(dbs, XaFixture.options().decisionOnParticipant(onParticipant()), 4);
    await(fx.transactions.installSchema());
  }

  @AfterAll
  void tearDown() throws Exception {
    fx.close();
  }

  @BeforeEach
  void reset() {
    fx.resetAccounts(4, 100);
  }

  @AfterEach
  void noStop() {
    fx.tx.stopAt(StopPoint.NONE);
    fx.drain(); // a test that failed before its recovery leaves no branch locking the next's rows
  }

  private Shard shardB() {
    return fx.dbs.get(1).shard();
  }

  /** The shard holding a prepared branch of the transfer 1 → 2 (ds_0 when ds_1 decides). */
  private int preparedIndex() {
    return onParticipant() ? 0 : 1;
  }

  private Shard preparedShard() {
    return fx.dbs.get(preparedIndex()).shard();
  }

  /** Runs the transfer 1 → 2 with the coordinator abandoning it at {@code stop}; its gid. */
  private String abandonedTransfer(StopPoint stop, Duration timeout) throws Exception {
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

  private void assertApplied(boolean expectedApplied) {
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
  private RecoveryReport recoverAll() throws Exception {
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
    // The shard that prepares (B, or A when B decides) is killed after the work wrote on both
    // shards: its XA PREPARE fails for real.
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
                                      preparedShard().kill();
                                      return null;
                                    }))));
    assertThat(actual).isInstanceOf(TransactionRolledBackException.class);
    TransactionRolledBackException rolledBack = (TransactionRolledBackException) actual;
    assertThat(rolledBack.phase()).isEqualTo("prepare");
    assertThat(rolledBack.causes()).containsOnlyKeys("ds_" + preparedIndex());
    preparedShard().start();
    assertApplied(false);
  }

  @Test
  void coordinatorGoneAfterAllPreparedBeforeDecisionIsRolledBackAfterDeadline() throws Exception {
    Duration timeout = Duration.ofSeconds(2);
    long start = System.currentTimeMillis();
    String gid = abandonedTransfer(StopPoint.AFTER_PREPARE, timeout);
    assertThat(fx.preparedBranchesEverywhere()).isEqualTo(preparedPerTransfer());
    // Before deadline + grace the branches may still belong to a live coordinator: left alone.
    RecoveryReport early = await(fx.tx.recovery().runOnce());
    if (System.currentTimeMillis() < start + timeout.toMillis()) {
      assertThat(early.rolledBack()).isZero();
      assertThat(early.inDoubt()).isEqualTo(preparedPerTransfer());
      assertThat(fx.preparedBranchesEverywhere()).isEqualTo(preparedPerTransfer());
    }
    Thread.sleep(Math.max(0, start + timeout.toMillis() + 400 - System.currentTimeMillis()));
    RecoveryReport report = recoverAll();
    assertThat(report.abortsDecided()).isEqualTo(1);
    assertThat(report.rolledBack()).isEqualTo(preparedPerTransfer());
    assertThat(await(fx.tx.decision(gid))).contains(Decision.ROLLBACK);
    assertApplied(false);
  }

  @Test
  void coordinatorGoneAfterDecisionBeforeAnyCommitIsCommittedByRecovery() throws Exception {
    String gid = abandonedTransfer(StopPoint.AFTER_DECISION, Duration.ofSeconds(30));
    assertThat(fx.preparedBranchesEverywhere()).isEqualTo(preparedPerTransfer());
    // nothing visible before the commits, but the deciding branch's, committed with the decision
    assertThat(fx.balance(1)).isEqualTo(onParticipant() ? 60 : 100);
    assertThat(fx.balance(2)).isEqualTo(100);
    RecoveryReport report = recoverAll();
    assertThat(report.committed()).isEqualTo(preparedPerTransfer());
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
    preparedShard().kill();
    RecoveryReport whileDown = await(fx.tx.recovery().runOnce());
    assertThat(whileDown.unreachable()).contains("ds_" + preparedIndex());
    if (!onParticipant()) {
      long until = System.nanoTime() + 10_000_000_000L;
      while (fx.preparedBranches(0) > 0 && System.nanoTime() < until) {
        await(fx.tx.recovery().runOnce());
      }
      assertThat(fx.balance(2)).isEqualTo(140); // ds_0 committed from the log
    } else {
      assertThat(fx.balance(1)).isEqualTo(60); // ds_1 committed with the decision
    }
    preparedShard().start();
    assertThat(fx.preparedBranches(preparedIndex()))
        .as("prepared branch survived kill -9")
        .isEqualTo(1);
    recoverAll();
    assertApplied(true);
  }

  @Test
  void shardKilledWhilePreparedWithoutDecisionIsRolledBackAfterRestart() throws Exception {
    long start = System.currentTimeMillis();
    abandonedTransfer(StopPoint.AFTER_PREPARE, Duration.ofSeconds(1));
    preparedShard().kill();
    preparedShard().start();
    assertThat(fx.preparedBranches(preparedIndex()))
        .as("prepared branch survived kill -9")
        .isEqualTo(1);
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
      // The preparing shard freezes after the work wrote on both: its XA END/PREPARE never
      // answers.
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
                                        preparedShard().pause();
                                        return null;
                                      }))));
    } finally {
      long actualMillis = (System.nanoTime() - start) / 1_000_000;
      Thread.sleep(1_500); // stay frozen well past the deadline and the rollback timeout
      preparedShard().resume();
      assertThat(actualMillis).isBetween(timeout.toMillis(), timeout.toMillis() + 300);
    }
    assertThat(actual).isInstanceOf(ShardkitTimeoutException.class);
    Thread.sleep(Math.max(0, 500 - (System.nanoTime() - start) / 1_000_000));
    recoverAll();
    assertApplied(false);
  }

  @Test
  void decidingShardKilledBeforeItsCommitIsUnknownThenRolledBack() throws Exception {
    Assumptions.assumeTrue(onParticipant(), "only a participant decides");
    // Shard B (ds_1) decides; it dies after the work wrote on both: ds_0 prepares, then the
    // commit that carries the decision cannot be answered. Not known yet: the server may have
    // committed it before dying. Recovery settles it once B is back (ABORT, as it never did).
    long start = System.currentTimeMillis();
    Throwable actual =
        failure(
            fx.pool.withTransaction(
                Duration.ofSeconds(1),
                sql ->
                    transfer(sql, "k", 1, 2, 40)
                        .compose(
                            v ->
                                fx.vertx.executeBlocking(
                                    () -> {
                                      shardB().kill();
                                      return null;
                                    }))));
    assertThat(actual)
        .as("the deciding commit had no answer")
        .isInstanceOfAny(
            io.shardkit.tx.TransactionOutcomeUnknownException.class,
            TransactionRolledBackException.class);
    assertThat(fx.preparedBranches(0)).as("ds_0 waits prepared").isEqualTo(1);
    shardB().start();
    Thread.sleep(Math.max(0, start + 1_400 - System.currentTimeMillis()));
    RecoveryReport report = recoverAll();
    assertThat(report.abortsDecided()).isEqualTo(1);
    assertApplied(false);
  }

  @Test
  void decidingShardPausedDuringItsCommitAnswersAtTheDeadlineAndCommitsAfter() throws Exception {
    Assumptions.assumeTrue(onParticipant(), "only a participant decides");
    // ds_0 prepares, then ds_1 freezes with the deciding commit on its way: the caller hears at
    // the deadline that the outcome is not known; once ds_1 runs again the commit lands and ds_0
    // is committed after it.
    Duration timeout = Duration.ofSeconds(1);
    long start = System.nanoTime();
    fx.tx.beforeDecision(
        gid ->
            fx.vertx.executeBlocking(
                () -> {
                  shardB().pause();
                  return null;
                }));
    Throwable actual;
    try {
      actual = failure(fx.pool.withTransaction(timeout, sql -> transfer(sql, "q", 1, 2, 40)));
    } finally {
      fx.tx.beforeDecision(gid -> io.vertx.core.Future.succeededFuture());
      long actualMillis = (System.nanoTime() - start) / 1_000_000;
      Thread.sleep(1_000);
      shardB().resume();
      assertThat(actualMillis).isBetween(timeout.toMillis(), timeout.toMillis() + 300);
    }
    assertThat(actual).isInstanceOf(ShardkitTimeoutException.class);
    assertThat(actual.getCause())
        .isInstanceOf(io.shardkit.tx.TransactionOutcomeUnknownException.class);
    recoverAll();
    assertApplied(true);
  }
}
