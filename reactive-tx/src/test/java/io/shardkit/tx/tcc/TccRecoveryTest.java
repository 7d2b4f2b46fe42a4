package io.shardkit.tx.tcc;

import static io.shardkit.tx.tcc.TccTestSupport.await;
import static io.shardkit.tx.tcc.TccTestSupport.awaitFailure;
import static io.shardkit.tx.tcc.TccTestSupport.eventually;
import static org.assertj.core.api.Assertions.assertThat;

import io.shardkit.context.junit.LeakGuardExtension;
import io.shardkit.router.ShardedPool;
import io.shardkit.testkit.Shard;
import io.shardkit.testkit.ShardDatabases;
import io.shardkit.testkit.Shards;
import io.shardkit.tx.TccBranch;
import io.shardkit.tx.TccOptions;
import io.shardkit.tx.TccParticipant;
import io.shardkit.tx.TccParticipants;
import io.shardkit.tx.TccPhaseOutcome;
import io.shardkit.tx.impl.tcc.LocalParticipants;
import io.shardkit.tx.impl.tcc.TccCoordinatorImpl;
import io.shardkit.tx.impl.tcc.TccCoordinatorImpl.StopAt;
import io.shardkit.tx.impl.tcc.TccRecovery;
import io.shardkit.tx.impl.tcc.TccRecoveryReport;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Recovery in several instances at once, and confirm across a participant shard's crash. */
@Shards(2)
@ExtendWith(LeakGuardExtension.class)
class TccRecoveryTest {

  static final TccOptions OPTIONS =
      TccOptions.builder()
          .tablePrefix("recov_t")
          .phaseTimeout(Duration.ofSeconds(1))
          .completionTimeout(Duration.ofSeconds(2))
          .recoveryGrace(Duration.ofMillis(300))
          .recoveryLease(Duration.ofSeconds(10))
          .recoveryBatchSize(3)
          .retryInitialDelay(Duration.ofMillis(20))
          .retryMaxDelay(Duration.ofMillis(500))
          .build();

  static Vertx vertx;
  static ShardDatabases databases;
  static ShardedPool pool;
  Bank bank;

  @BeforeAll
  static void start(ShardDatabases dbs) {
    databases = dbs;
    vertx = TccTestSupport.vertx();
    pool = TccTestSupport.pool(vertx, dbs.dataSources("ds_"));
  }

  @AfterAll
  static void stop() throws Exception {
    await(pool.close());
    TccTestSupport.close(vertx);
  }

  @BeforeEach
  void reset() {
    Bank.reset(databases, OPTIONS);
    Bank.open(databases, 2, 1_000);
    bank = new Bank();
  }

  /** A participant that records every confirm call it passes on: "gid/branch". */
  static TccParticipant counting(TccParticipant delegate, List<String> confirms) {
    return new TccParticipant() {
      @Override
      public Future<TccPhaseOutcome> tryBranch(TccBranch branch) {
        return delegate.tryBranch(branch);
      }

      @Override
      public Future<TccPhaseOutcome> confirm(TccBranch branch) {
        confirms.add(branch.globalId() + "/" + branch.branchId());
        return delegate.confirm(branch);
      }

      @Override
      public Future<TccPhaseOutcome> cancel(TccBranch branch) {
        return delegate.cancel(branch);
      }
    };
  }

  /** Another application instance: its own coordinator (and recovery) on the same shards. */
  TccCoordinatorImpl instance(String name, List<String> confirms) throws Exception {
    TccOptions options = OPTIONS.toBuilder().instanceId(name).build();
    TccParticipants local = TccParticipants.create(vertx, pool, options);
    local.register(bank.debit).register(bank.credit);
    TccCoordinatorImpl coordinator = TccTestSupport.coordinator(vertx, pool, options);
    coordinator.registerParticipant("debit", counting(local, confirms));
    coordinator.registerParticipant("credit", counting(local, confirms));
    return coordinator;
  }

  static Future<List<TccRecoveryReport>> drain(TccRecovery recovery, List<TccRecoveryReport> so) {
    return recovery
        .runOnce()
        .compose(
            report -> {
              so.add(report);
              return report.claimed() == 0 ? Future.succeededFuture(so) : drain(recovery, so);
            });
  }

  @Test
  void twoRecoveryInstancesRunningAtOnceNeverDriveOneTransactionTwice() throws Exception {
    int expectedTransactions = 12;
    TccCoordinatorImpl crashed = TccTestSupport.coordinator(vertx, pool, OPTIONS);
    crashed.register(bank.debit).register(bank.credit);
    await(crashed.setup());
    crashed.stopAt(StopAt.AFTER_DECISION);
    for (int i = 0; i < expectedTransactions; i++) {
      awaitFailure(crashed.execute(Duration.ofSeconds(5), tx -> bank.transfer(tx, 0, 1, 5)));
    }
    List<String> confirmsB = new CopyOnWriteArrayList<>();
    List<String> confirmsC = new CopyOnWriteArrayList<>();
    TccCoordinatorImpl b = instance("app-b", confirmsB);
    TccCoordinatorImpl c = instance("app-c", confirmsC);
    assertThat(
            eventually(
                Duration.ofSeconds(10),
                () ->
                    databases
                            .get(0)
                            .query(
                                "SELECT COUNT(*) AS n FROM "
                                    + OPTIONS.txTable()
                                    + " WHERE next_attempt_at <= UTC_TIMESTAMP(3)")
                            .get(0)
                            .getInteger("n")
                        == expectedTransactions))
        .isTrue();

    Future<List<TccRecoveryReport>> byB = drain(b.recovery(), new CopyOnWriteArrayList<>());
    Future<List<TccRecoveryReport>> byC = drain(c.recovery(), new CopyOnWriteArrayList<>());
    Set<String> confirmedByB = confirmed(await(byB));
    Set<String> confirmedByC = confirmed(await(byC));
    System.out.printf(
        "recovery instances: app-b finished %d, app-c finished %d%n",
        confirmedByB.size(), confirmedByC.size());

    Set<String> all = new HashSet<>(confirmedByB);
    all.addAll(confirmedByC);
    assertThat(all).hasSize(expectedTransactions);
    assertThat(confirmedByB).doesNotContainAnyElementsOf(confirmedByC);
    List<String> everyConfirmCall = new ArrayList<>(confirmsB);
    everyConfirmCall.addAll(confirmsC);
    assertThat(everyConfirmCall).hasSize(2 * expectedTransactions).doesNotHaveDuplicates();
    assertThat(Bank.account(databases, 0)).containsExactly(1_000 - 5 * expectedTransactions, 0, 0);
    assertThat(Bank.account(databases, 1)).containsExactly(1_000 + 5 * expectedTransactions, 0, 0);
    assertThat(bank.runs("debit.confirm")).isEqualTo(expectedTransactions);
  }

  @Test
  void aDecidedTransactionWhoseCoordinatorDiedIsFinishedATakeoverLaterNotAfterTheBudget()
      throws Exception {
    // a completion budget of 30 s: before takeovers, recovery waited for all of it
    TccOptions options =
        OPTIONS.toBuilder()
            .completionTimeout(Duration.ofSeconds(30))
            .recoveryTakeover(Duration.ofSeconds(1))
            .build();
    TccCoordinatorImpl crashed = TccTestSupport.coordinator(vertx, pool, options);
    crashed.register(bank.debit).register(bank.credit);
    await(crashed.setup());
    crashed.stopAt(StopAt.AFTER_DECISION);
    awaitFailure(crashed.execute(Duration.ofSeconds(5), tx -> bank.transfer(tx, 0, 1, 5)));
    long diedAt = System.nanoTime();

    io.micrometer.core.instrument.simple.SimpleMeterRegistry meters =
        new io.micrometer.core.instrument.simple.SimpleMeterRegistry();
    TccCoordinatorImpl survivor =
        TccTestSupport.coordinator(
            vertx, pool, options.toBuilder().instanceId("survivor").meterRegistry(meters).build());
    survivor.register(bank.debit).register(bank.credit);
    TccRecovery recovery = survivor.recovery();
    List<String> confirmed = new ArrayList<>();
    while (confirmed.isEmpty() && System.nanoTime() - diedAt < 20_000_000_000L) {
      confirmed.addAll(await(recovery.runOnce()).confirmed());
      if (confirmed.isEmpty()) {
        Thread.sleep(100);
      }
    }
    long finishedMillis = (System.nanoTime() - diedAt) / 1_000_000;
    System.out.printf(
        "decided transaction finished by another instance %d ms after its coordinator died%n",
        finishedMillis);

    assertThat(confirmed).hasSize(1);
    assertThat(finishedMillis).as("a takeover (1 s) later, not the 30 s budget").isLessThan(4_000);
    assertThat(Bank.account(databases, 0)).containsExactly(995, 0, 0);
    assertThat(Bank.account(databases, 1)).containsExactly(1_005, 0, 0);
    io.micrometer.core.instrument.Timer latency =
        meters.find("shardkit.tx.recovery.latency").tag("mode", "tcc").timer();
    assertThat(latency).as("recovery latency meter").isNotNull();
    assertThat(latency.count()).isEqualTo(1);
  }

  @Test
  void aLiveCoordinatorKeepsItsDecidedTransactionFromRecovery() throws Exception {
    TccOptions options =
        OPTIONS.toBuilder()
            .phaseTimeout(Duration.ofSeconds(4))
            .completionTimeout(Duration.ofSeconds(30))
            .recoveryTakeover(Duration.ofMillis(600))
            .build();
    TccCoordinatorImpl alive = TccTestSupport.coordinator(vertx, pool, options);
    alive.register(bank.debit).register(bank.credit);
    await(alive.setup());
    // its confirms stall 2.5 s (more than four takeovers) while it is alive
    ((LocalParticipants) alive.participants())
        .beforeCommit(
            (phase, branch) -> {
              if (!phase.equals("confirm")) {
                return Future.succeededFuture();
              }
              io.vertx.core.Promise<Void> later = io.vertx.core.Promise.promise();
              vertx.setTimer(2_500, id -> later.complete());
              return later.future();
            });
    Future<Void> transfer = alive.execute(Duration.ofSeconds(5), tx -> bank.transfer(tx, 0, 1, 5));
    TccCoordinatorImpl other =
        TccTestSupport.coordinator(vertx, pool, options.toBuilder().instanceId("other").build());
    other.register(bank.debit).register(bank.credit);
    int claimed = 0;
    while (!transfer.isComplete()) {
      claimed += await(other.recovery().runOnce()).claimed();
      Thread.sleep(100);
    }
    await(transfer);
    assertThat(claimed).as("rows another instance took from a live coordinator").isZero();
    assertThat(Bank.account(databases, 1)).containsExactly(1_005, 0, 0);
  }

  @Test
  void aCommitWhoseConfirmCannotRunYetSucceedsAndIsAppliedOnceRecoveryCan() throws Exception {
    TccOptions impatient =
        OPTIONS.toBuilder()
            .completionTimeout(Duration.ofSeconds(2))
            .recoveryTakeover(Duration.ofMillis(500))
            .build();
    TccCoordinatorImpl coordinator = TccTestSupport.coordinator(vertx, pool, impatient);
    coordinator.register(bank.debit).register(bank.credit);
    await(coordinator.setup());
    Shard creditShard = databases.get(1).shard();
    AtomicBoolean killed = new AtomicBoolean();
    ((LocalParticipants) coordinator.participants())
        .beforeCommit(
            (phase, branch) -> {
              if (phase.equals("confirm")
                  && branch.action().equals("credit")
                  && killed.compareAndSet(false, true)) {
                return vertx.executeBlocking(
                    () -> {
                      creditShard.kill();
                      return null;
                    });
              }
              return Future.succeededFuture();
            });
    String gid;
    try {
      // the credit's shard dies under its confirm and stays down past the completion budget:
      // the transaction is committed (COMMIT is durable), so the caller hears success
      gid =
          await(
              coordinator.execute(
                  Duration.ofSeconds(5), tx -> bank.transfer(tx, 0, 1, 30).map(tx.globalId())),
              Duration.ofSeconds(30));
      assertThat(killed).isTrue();
      assertThat(Bank.account(databases, 0))
          .as("the debit is confirmed")
          .containsExactly(970, 0, 0);
    } finally {
      creditShard.start();
    }
    // once the shard is back, recovery confirms the credit: the effects are visible
    TccCoordinatorImpl other =
        TccTestSupport.coordinator(vertx, pool, impatient.toBuilder().instanceId("other").build());
    other.register(bank.debit).register(bank.credit);
    List<String> confirmed = new ArrayList<>();
    long end = System.nanoTime() + 20_000_000_000L;
    while (!confirmed.contains(gid) && System.nanoTime() < end) {
      confirmed.addAll(await(other.recovery().runOnce()).confirmed());
      Thread.sleep(100);
    }
    assertThat(confirmed).contains(gid);
    assertThat(Bank.account(databases, 1)).containsExactly(1_030, 0, 0);
  }

  static Set<String> confirmed(List<TccRecoveryReport> reports) {
    Set<String> gids = new HashSet<>();
    for (TccRecoveryReport r : reports) {
      assertThat(r.retryLater()).isEmpty();
      gids.addAll(r.confirmed());
    }
    return gids;
  }

  @Test
  void participantShardKilledDuringConfirmAndRestartedConfirmsAfterTheRestart() throws Exception {
    TccOptions patient =
        OPTIONS.toBuilder()
            .phaseTimeout(Duration.ofSeconds(3))
            .completionTimeout(Duration.ofSeconds(45))
            .retryMaxDelay(Duration.ofSeconds(1))
            .build();
    TccCoordinatorImpl coordinator = TccTestSupport.coordinator(vertx, pool, patient);
    coordinator.register(bank.debit).register(bank.credit);
    await(coordinator.setup());
    Shard creditShard = databases.get(1).shard();
    AtomicBoolean killed = new AtomicBoolean();
    AtomicInteger confirmsSeen = new AtomicInteger();
    Map<String, Boolean> seen = new ConcurrentHashMap<>();
    ((LocalParticipants) coordinator.participants())
        .beforeCommit(
            (phase, branch) -> {
              if (phase.equals("confirm") && branch.action().equals("credit")) {
                confirmsSeen.incrementAndGet();
                seen.put(branch.globalId(), true);
                if (killed.compareAndSet(false, true)) {
                  // The credit's confirm ran its statements; its shard dies before the commit.
                  return vertx.executeBlocking(
                      () -> {
                        creditShard.kill();
                        return null;
                      });
                }
              }
              return Future.succeededFuture();
            });

    Future<String> transfer =
        coordinator.execute(
            Duration.ofSeconds(5), tx -> bank.transfer(tx, 0, 1, 30).map(tx.globalId()));
    assertThat(eventually(Duration.ofSeconds(10), killed::get)).isTrue();
    Thread.sleep(1_500);
    boolean completedWhileDown = transfer.isComplete();
    creditShard.start();
    String gid = await(transfer, Duration.ofSeconds(60));

    assertThat(completedWhileDown).isFalse();
    assertThat(confirmsSeen.get()).isGreaterThanOrEqualTo(2);
    assertThat(Bank.account(databases, 0)).containsExactly(970, 0, 0);
    assertThat(Bank.account(databases, 1)).containsExactly(1_030, 0, 0);
    assertThat(Bank.fence(databases, 1, OPTIONS, gid, "2"))
        .containsExactly(Map.entry(1, 1), Map.entry(2, 2));
  }
}
