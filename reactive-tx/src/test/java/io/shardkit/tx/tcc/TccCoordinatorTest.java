package io.shardkit.tx.tcc;

import static io.shardkit.tx.tcc.TccTestSupport.await;
import static io.shardkit.tx.tcc.TccTestSupport.awaitFailure;
import static io.shardkit.tx.tcc.TccTestSupport.eventually;
import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardkit.context.ShardkitTimeoutException;
import io.shardkit.context.TxScope;
import io.shardkit.context.junit.LeakGuardExtension;
import io.shardkit.router.ShardedPool;
import io.shardkit.testkit.ShardDatabases;
import io.shardkit.testkit.Shards;
import io.shardkit.tx.TccAction;
import io.shardkit.tx.TccOptions;
import io.shardkit.tx.TransactionRolledBackException;
import io.shardkit.tx.impl.tcc.TccCoordinatorImpl;
import io.shardkit.tx.impl.tcc.TccCoordinatorImpl.StopAt;
import io.shardkit.tx.impl.tcc.TccRecoveryReport;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The coordinator on two real shards: commit, cancel on a failed try / failed body / deadline, a
 * coordinator abandoned at each step and finished by recovery, and a decision racing recovery.
 */
@Shards(2)
@ExtendWith(LeakGuardExtension.class)
class TccCoordinatorTest {

  static final TccOptions OPTIONS =
      TccOptions.builder()
          .tablePrefix("coord_t")
          .phaseTimeout(Duration.ofSeconds(1))
          .completionTimeout(Duration.ofSeconds(3))
          .recoveryGrace(Duration.ofMillis(300))
          .recoveryLease(Duration.ofSeconds(5))
          .retryInitialDelay(Duration.ofMillis(20))
          .retryMaxDelay(Duration.ofMillis(200))
          .build();

  static Vertx vertx;
  static ShardDatabases databases;
  static ShardedPool pool;
  Bank bank;
  TccCoordinatorImpl coordinator;

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
  void reset() throws Exception {
    Bank.reset(databases, OPTIONS);
    Bank.open(databases, 4, 100);
    bank = new Bank();
    coordinator = TccTestSupport.coordinator(vertx, pool, OPTIONS);
    coordinator.register(bank.debit).register(bank.credit);
    await(coordinator.setup());
  }

  /** Debit account 0 (ds_0) and credit account 1 (ds_1), tries in parallel. */
  Future<String> transfer(long amount) {
    return coordinator.execute(
        Duration.ofSeconds(5), tx -> bank.transfer(tx, 0, 1, amount).map(tx.globalId()));
  }

  int logState(String gid) {
    List<io.vertx.core.json.JsonObject> rows =
        databases
            .get(0)
            .query("SELECT state FROM " + OPTIONS.txTable() + " WHERE gid = '" + gid + "'");
    return rows.isEmpty() ? 0 : rows.get(0).getInteger("state");
  }

  String onlyGid() {
    return databases.get(0).query("SELECT gid FROM " + OPTIONS.txTable()).get(0).getString("gid");
  }

  @Test
  void transferConfirmsBothBranches() throws Exception {
    String gid = await(transfer(30));

    assertThat(Bank.account(databases, 0)).containsExactly(70, 0, 0);
    assertThat(Bank.account(databases, 1)).containsExactly(130, 0, 0);
    assertThat(Bank.fence(databases, 0, OPTIONS, gid, "1"))
        .containsExactly(Map.entry(1, 1), Map.entry(2, 2));
    assertThat(Bank.fence(databases, 1, OPTIONS, gid, "2"))
        .containsExactly(Map.entry(1, 1), Map.entry(2, 2));
    assertThat(eventually(Duration.ofSeconds(5), () -> logState(gid) == 4)).isTrue();
  }

  @Test
  void failedTryCancelsEveryBranchIncludingTheFailedOne() throws Exception {
    // The credit's try commits first; then the debit's try fails (insufficient funds).
    Throwable actual =
        awaitFailure(
            coordinator.execute(
                Duration.ofSeconds(5),
                tx ->
                    tx.enlist(bank.credit, new Bank.Move(1, 500))
                        .compose(v -> tx.enlist(bank.debit, new Bank.Move(0, 500)))));
    String gid = onlyGid();

    assertThat(TccTestSupport.rolledBack(actual)).as("shardkit's details").isNotNull();
    TransactionRolledBackException rolledBack = TccTestSupport.rolledBack(actual);
    assertThat(rolledBack.phase()).isEqualTo("try");
    assertThat(rolledBack.causes()).containsKey("2:debit");
    assertThat(rolledBack.causes().get("2:debit")).hasMessageContaining("insufficient funds");
    assertThat(Bank.account(databases, 0)).containsExactly(100, 0, 0);
    assertThat(Bank.account(databases, 1)).containsExactly(100, 0, 0);
    // Credit (ds_1): tried, then cancelled for real. Debit (ds_0): its failed try left nothing,
    // its cancel recorded an empty rollback (try row written by the cancel).
    assertThat(Bank.fence(databases, 1, OPTIONS, gid, "1"))
        .containsExactly(Map.entry(1, 1), Map.entry(3, 3));
    assertThat(Bank.fence(databases, 0, OPTIONS, gid, "2"))
        .containsExactly(Map.entry(1, 3), Map.entry(3, 3));
    assertThat(bank.runs("credit.cancel")).isEqualTo(1);
    assertThat(bank.runs("debit.cancel")).isZero();
    assertThat(eventually(Duration.ofSeconds(5), () -> logState(gid) == 5)).isTrue();
  }

  @Test
  void failedBodyCancelsWhatItEnlisted() throws Exception {
    Throwable actual =
        awaitFailure(
            coordinator.execute(
                Duration.ofSeconds(5),
                tx ->
                    tx.enlist(bank.debit, new Bank.Move(0, 30))
                        .compose(
                            v ->
                                Future.failedFuture(
                                    new IllegalStateException("the user changed their mind")))));

    assertThat(actual).as("the body's own failure").isInstanceOf(IllegalStateException.class);
    assertThat(TccTestSupport.rolledBack(actual)).as("shardkit's details").isNotNull();
    assertThat((TccTestSupport.rolledBack(actual)).phase()).isEqualTo("execute");
    assertThat(actual).hasMessageContaining("the user changed their mind");
    assertThat(bank.runs("debit.cancel")).isEqualTo(1);
    assertThat(Bank.account(databases, 0)).containsExactly(100, 0, 0);
  }

  @Test
  void tryThatNeverCompletesIsCancelledAtTheDeadlineAndNothingStaysPinned() throws Exception {
    TccAction<Bank.Move> stuck =
        TccAction.builder("stuck", Bank.CODEC)
            .shardedBy("account", Bank.Move::account)
            .onTry(
                (ctx, m) ->
                    ctx.connection()
                        .preparedQuery("UPDATE account SET frozen = frozen + ? WHERE id = ?")
                        .execute(Tuple.of(m.amount(), m.account()))
                        .compose(rows -> Promise.<Void>promise().future()))
            .onConfirm((ctx, m) -> Future.failedFuture("must not confirm"))
            .onCancel((ctx, m) -> Future.failedFuture("must not run: the try never committed"))
            .build();
    coordinator.register(stuck);
    Duration expectedTimeout = Duration.ofMillis(600);
    long start = System.nanoTime();

    Throwable actual =
        awaitFailure(
            coordinator.execute(
                expectedTimeout,
                tx ->
                    Future.all(
                            tx.enlist(bank.credit, new Bank.Move(1, 10)),
                            tx.enlist(stuck, new Bank.Move(0, 10)))
                        .mapEmpty()));
    Duration waited = Duration.ofNanos(System.nanoTime() - start);
    String gid = onlyGid();
    new LeakGuardExtension(Duration.ofSeconds(3)).check("after the stuck try");

    assertThat(TccTestSupport.rolledBack(actual)).as("shardkit's details").isNotNull();
    assertThat((TccTestSupport.rolledBack(actual)).causes().get("deadline"))
        .isInstanceOf(ShardkitTimeoutException.class);
    assertThat(waited).isGreaterThanOrEqualTo(expectedTimeout.minusMillis(20));
    assertThat(waited).isLessThan(expectedTimeout.plusSeconds(2));
    assertThat(TxScope.registry().pinnedResources()).isZero();
    assertThat(Bank.account(databases, 0)).containsExactly(100, 0, 0);
    assertThat(Bank.account(databases, 1)).containsExactly(100, 0, 0);
    assertThat(Bank.fence(databases, 0, OPTIONS, gid, "2"))
        .containsExactly(Map.entry(1, 3), Map.entry(3, 3));
  }

  @Test
  void coordinatorAbandonedAfterTheCommitDecisionIsConfirmedByRecovery() throws Exception {
    coordinator.stopAt(StopAt.AFTER_DECISION);

    awaitFailure(transfer(30));
    String gid = onlyGid();
    long[] debitedBeforeRecovery = Bank.account(databases, 0);
    long[] creditedBeforeRecovery = Bank.account(databases, 1);
    int stateBeforeRecovery = logState(gid);
    TccRecoveryReport actual = recoverWhenDue();
    TccRecoveryReport second = await(coordinator.recovery().runOnce());

    assertThat(stateBeforeRecovery).isEqualTo(2);
    assertThat(debitedBeforeRecovery).containsExactly(70, 30, 0);
    assertThat(creditedBeforeRecovery).containsExactly(100, 0, 30);
    assertThat(actual.confirmed()).containsExactly(gid);
    assertThat(second.claimed()).isZero();
    assertThat(Bank.account(databases, 0)).containsExactly(70, 0, 0);
    assertThat(Bank.account(databases, 1)).containsExactly(130, 0, 0);
    assertThat(bank.runs("debit.confirm")).isEqualTo(1);
    assertThat(bank.runs("credit.confirm")).isEqualTo(1);
    assertThat(logState(gid)).isEqualTo(4);
  }

  @Test
  void coordinatorAbandonedAfterOneConfirmIsFinishedByRecoveryWithoutDoubleEffect()
      throws Exception {
    coordinator.stopAt(StopAt.AFTER_FIRST_CONFIRM);

    awaitFailure(transfer(30));
    String gid = onlyGid();
    long[] debitedBeforeRecovery = Bank.account(databases, 0);
    long[] creditedBeforeRecovery = Bank.account(databases, 1);
    TccRecoveryReport actual = recoverWhenDue();

    assertThat(debitedBeforeRecovery).containsExactly(70, 0, 0);
    assertThat(creditedBeforeRecovery).containsExactly(100, 0, 30);
    assertThat(actual.confirmed()).containsExactly(gid);
    assertThat(Bank.account(databases, 0)).containsExactly(70, 0, 0);
    assertThat(Bank.account(databases, 1)).containsExactly(130, 0, 0);
    assertThat(bank.runs("debit.confirm")).isEqualTo(1);
    assertThat(bank.runs("credit.confirm")).isEqualTo(1);
  }

  @Test
  void coordinatorAbandonedBeforeDecidingIsCancelledByRecoveryAfterItsDeadline() throws Exception {
    coordinator.stopAt(StopAt.BEFORE_DECISION);

    awaitFailure(coordinator.execute(Duration.ofMillis(800), tx -> bank.transfer(tx, 0, 1, 30)));
    String gid = onlyGid();
    TccRecoveryReport early = await(coordinator.recovery().runOnce());
    TccRecoveryReport actual = recoverWhenDue();

    assertThat(early.claimed()).isZero();
    assertThat(actual.cancelled()).containsExactly(gid);
    assertThat(Bank.account(databases, 0)).containsExactly(100, 0, 0);
    assertThat(Bank.account(databases, 1)).containsExactly(100, 0, 0);
    assertThat(bank.runs("debit.cancel")).isEqualTo(1);
    assertThat(bank.runs("credit.cancel")).isEqualTo(1);
    assertThat(logState(gid)).isEqualTo(5);
  }

  @Test
  void recoveryThatCancelsFirstWinsOverASlowCoordinatorsCommit() throws Exception {
    AtomicReference<TccRecoveryReport> recovered = new AtomicReference<>();
    coordinator.beforeDecision(
        gid -> {
          // The coordinator stalls between its tries and its decision, past deadline + grace;
          // recovery cancels meanwhile.
          Promise<Void> resume = Promise.promise();
          vertx.setTimer(
              1_500,
              id ->
                  coordinator
                      .recovery()
                      .runOnce()
                      .onComplete(
                          ar -> {
                            recovered.set(ar.result());
                            resume.complete();
                          }));
          return resume.future();
        });

    long start = System.nanoTime();
    Throwable actual =
        awaitFailure(
            coordinator.execute(Duration.ofMillis(800), tx -> bank.transfer(tx, 0, 1, 30)));
    long answeredMillis = (System.nanoTime() - start) / 1_000_000;
    String gid = onlyGid();

    // the caller is answered by its deadline: the decision was being written, the log decides
    assertThat(actual).isInstanceOf(io.shardkit.tx.TccOutcomeUnknownException.class);
    assertThat(answeredMillis).isLessThan(800 + 400);
    // ... and the log decided CANCEL: recovery won, the slow coordinator's COMMIT lost
    // (the row reads CANCELLED before the recovery round that wrote it has returned its report)
    assertThat(
            eventually(Duration.ofSeconds(10), () -> logState(gid) == 5 && recovered.get() != null))
        .isTrue();
    assertThat(recovered.get().cancelled()).containsExactly(gid);
    assertThat(bank.runs("debit.confirm")).isZero();
    assertThat(bank.runs("credit.confirm")).isZero();
    assertThat(Bank.account(databases, 0)).containsExactly(100, 0, 0);
    assertThat(Bank.account(databases, 1)).containsExactly(100, 0, 0);
    assertThat(logState(gid)).isEqualTo(5);
  }

  @Test
  void aCallerIsAnsweredByItsDeadlineWhileConfirmsStallCommitted() throws Exception {
    java.util.concurrent.atomic.AtomicBoolean stalled =
        new java.util.concurrent.atomic.AtomicBoolean();
    ((io.shardkit.tx.impl.tcc.LocalParticipants) coordinator.participants())
        .beforeCommit(
            (phase, branch) -> {
              if (phase.equals("confirm") && stalled.compareAndSet(false, true)) {
                Promise<Void> later = Promise.promise();
                vertx.setTimer(2_500, id -> later.complete());
                return later.future();
              }
              return Future.succeededFuture();
            });
    long start = System.nanoTime();
    String gid =
        await(
            coordinator.execute(
                Duration.ofMillis(1_000), tx -> bank.transfer(tx, 0, 1, 30).map(tx.globalId())));
    long answeredMillis = (System.nanoTime() - start) / 1_000_000;

    // committed (the decision is durable): success by the deadline, confirms still running
    assertThat(answeredMillis).isLessThan(1_000 + 400);
    assertThat(logState(gid)).isIn(2, 4);
    assertThat(eventually(Duration.ofSeconds(15), () -> logState(gid) == 4)).isTrue();
    assertThat(Bank.account(databases, 0)).containsExactly(70, 0, 0);
    assertThat(Bank.account(databases, 1)).containsExactly(130, 0, 0);
  }

  @Test
  void metersCountOutcomesPhasesAndRetries() throws Exception {
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    TccCoordinatorImpl measured =
        TccTestSupport.coordinator(vertx, pool, OPTIONS.toBuilder().meterRegistry(meters).build());
    measured.register(bank.debit).register(bank.credit);

    await(measured.execute(Duration.ofSeconds(5), tx -> bank.transfer(tx, 0, 1, 10)));
    awaitFailure(
        measured.execute(
            Duration.ofSeconds(5),
            tx ->
                tx.enlist(bank.credit, new Bank.Move(1, 10))
                    .compose(v -> tx.enlist(bank.debit, new Bank.Move(0, 5_000)))));

    assertThat(count(meters, "shardkit.tx.transactions", "outcome", "committed")).isEqualTo(1);
    assertThat(count(meters, "shardkit.tx.transactions", "outcome", "cancelled")).isEqualTo(1);
    assertThat(timerCount(meters, "try", "applied")).isEqualTo(3);
    assertThat(timerCount(meters, "try", "failed")).isEqualTo(1);
    assertThat(timerCount(meters, "confirm", "applied")).isEqualTo(2);
    assertThat(timerCount(meters, "cancel", "applied")).isEqualTo(1);
    assertThat(timerCount(meters, "cancel", "empty_rollback")).isEqualTo(1);
  }

  @Test
  void hooksRunOnceOnTheCallersContextAfterTheOutcomeAndAFailingHookNeverFailsTheCommit()
      throws Exception {
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    TccCoordinatorImpl measured =
        TccTestSupport.coordinator(vertx, pool, OPTIONS.toBuilder().meterRegistry(meters).build());
    measured.register(bank.debit).register(bank.credit);
    io.vertx.core.Context caller = vertx.getOrCreateContext();
    List<String> actual = new java.util.concurrent.CopyOnWriteArrayList<>();
    Promise<Void> committed = Promise.promise();
    caller.runOnContext(
        v ->
            measured
                .execute(
                    Duration.ofSeconds(5),
                    tx -> {
                      tx.onCommit(
                          () ->
                              actual.add("commit on caller " + (Vertx.currentContext() == caller)));
                      tx.onCommit(
                          () -> {
                            throw new IllegalStateException("cache down");
                          });
                      tx.onRollback(() -> actual.add("rollback"));
                      return bank.transfer(tx, 0, 1, 10);
                    })
                .onComplete(
                    ar -> {
                      actual.add("caller told " + ar.succeeded());
                      committed.handle(ar);
                    }));
    await(committed.future());
    assertThat(actual).containsExactly("commit on caller true", "caller told true");
    assertThat(count(meters, "shardkit.tx.hook.failures", "hook", "commit")).isEqualTo(1);

    List<String> cancelled = new java.util.concurrent.CopyOnWriteArrayList<>();
    awaitFailure(
        measured.execute(
            Duration.ofSeconds(5),
            tx -> {
              tx.onCommit(() -> cancelled.add("commit"));
              tx.onRollback(() -> cancelled.add("rollback"));
              return tx.enlist(bank.debit, new Bank.Move(0, 5_000)); // insufficient funds
            }));
    assertThat(cancelled).containsExactly("rollback");
  }

  static double count(SimpleMeterRegistry meters, String name, String tag, String value) {
    io.micrometer.core.instrument.Counter counter = meters.find(name).tag(tag, value).counter();
    return counter == null ? 0 : counter.count();
  }

  static long timerCount(SimpleMeterRegistry meters, String phase, String result) {
    io.micrometer.core.instrument.Timer timer =
        meters.find("shardkit.tx.phase").tag("phase", phase).tag("result", result).timer();
    return timer == null ? 0 : timer.count();
  }

  /** Runs recovery rounds until one claims something (the coordinator's lease must run out). */
  TccRecoveryReport recoverWhenDue() throws Exception {
    long end = System.nanoTime() + Duration.ofSeconds(15).toNanos();
    while (System.nanoTime() < end) {
      TccRecoveryReport report = await(coordinator.recovery().runOnce());
      if (report.claimed() > 0) {
        return report;
      }
      Thread.sleep(200);
    }
    throw new AssertionError("recovery claimed nothing within 15 s");
  }
}
