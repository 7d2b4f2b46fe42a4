package io.shardkit.tx.tcc;

import static io.shardkit.tx.tcc.TccTestSupport.await;
import static io.shardkit.tx.tcc.TccTestSupport.awaitFailure;
import static org.assertj.core.api.Assertions.assertThat;

import io.shardkit.context.ShardkitException;
import io.shardkit.context.junit.LeakGuardExtension;
import io.shardkit.router.ShardedPool;
import io.shardkit.testkit.ShardDatabases;
import io.shardkit.testkit.Shards;
import io.shardkit.tx.SagaStep;
import io.shardkit.tx.TccBranch;
import io.shardkit.tx.TccOptions;
import io.shardkit.tx.TccPhaseOutcome;
import io.shardkit.tx.TccTryRefusedException;
import io.shardkit.tx.TransactionOptions;
import io.shardkit.tx.TransactionRolledBackException;
import io.shardkit.tx.Transactions;
import io.shardkit.tx.TransactionsOptions;
import io.shardkit.tx.impl.TransactionsImpl;
import io.shardkit.tx.impl.tcc.SagaCoordinatorImpl.StopAt;
import io.shardkit.tx.impl.tcc.TccRecoveryReport;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Sagas on two real shards: the happy path, reverse compensation (order read back from the shards'
 * journal), the fence's empty compensation and late action, a retry-only step retried until it
 * succeeds, forward recovery of a saga abandoned past its pivot by a second manager, backward
 * recovery of one abandoned before deciding, and the refusal of a compensatable step after a
 * retry-only one. Accounts 0..3, {@code id mod 2} picks the shard.
 */
@Shards(2)
@ExtendWith(LeakGuardExtension.class)
class SagaTest {

  static final TccOptions OPTIONS =
      TccOptions.builder()
          .tablePrefix("saga_t")
          .phaseTimeout(Duration.ofSeconds(1))
          .completionTimeout(Duration.ofSeconds(2))
          .recoveryInterval(Duration.ofMillis(300))
          .recoveryGrace(Duration.ofMillis(300))
          .recoveryLease(Duration.ofSeconds(2))
          .retryInitialDelay(Duration.ofMillis(20))
          .retryMaxDelay(Duration.ofMillis(200))
          .build();
  static final TransactionOptions TIMEOUT = TransactionOptions.ofTimeout(Duration.ofSeconds(5));

  static Vertx vertx;
  static ShardDatabases databases;
  static ShardedPool pool;
  SagaBank bank;
  Transactions transactions;

  @BeforeAll
  static void start(ShardDatabases dbs) throws Exception {
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
    SagaBank.reset(databases, OPTIONS);
    Bank.open(databases, 4, 100);
    bank = new SagaBank();
    transactions = manager(bank);
    await(transactions.installSchema());
  }

  Transactions manager(SagaBank steps) {
    Transactions t =
        Transactions.create(vertx, pool, TransactionsOptions.builder("ds_0").tcc(OPTIONS).build());
    t.register(steps.debit).register(steps.credit).register(steps.deposit);
    return t;
  }

  static Bank.Move move(long account, long amount) {
    return new Bank.Move(account, amount);
  }

  static long balance(long account) {
    return Bank.account(databases, account)[0];
  }

  static JsonObject logRow(String gid) {
    List<JsonObject> rows =
        databases
            .get(0)
            .query(
                "SELECT state, protocol, branches FROM "
                    + OPTIONS.txTable()
                    + " WHERE gid = '"
                    + gid
                    + "'");
    return rows.isEmpty() ? null : rows.get(0);
  }

  static int logState(String gid) {
    JsonObject row = logRow(gid);
    return row == null ? -1 : row.getInteger("state");
  }

  /** Runs recovery rounds of {@code at} until it claimed something (or 10 s passed). */
  static TccRecoveryReport recoverWhenDue(Transactions at) throws Exception {
    long end = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (System.nanoTime() < end) {
      TccRecoveryReport report =
          await(((TransactionsImpl) at).tccCoordinator().recovery().runOnce());
      if (report.claimed() > 0) {
        return report;
      }
      Thread.sleep(100);
    }
    throw new AssertionError("nothing became due for recovery");
  }

  @Test
  void stepsInSequenceCommitWithoutAnyFurtherPhase() throws Exception {
    AtomicReference<String> gid = new AtomicReference<>();

    Long actual =
        await(
            transactions.saga(
                TIMEOUT,
                saga -> {
                  gid.set(saga.globalId());
                  return saga.step(bank.debit, move(0, 30))
                      .compose(debited -> saga.step(bank.credit, move(1, debited)).map(debited));
                }));

    assertThat(actual).isEqualTo(30L);
    assertThat(balance(0)).isEqualTo(70);
    assertThat(balance(1)).isEqualTo(130);
    assertThat(bank.runs("debit.compensation") + bank.runs("credit.compensation")).isZero();
    JsonObject row = logRow(gid.get());
    assertThat(row.getInteger("state")).isEqualTo(4);
    assertThat(row.getString("protocol")).isEqualTo("SAGA");
    assertThat(SagaBank.journal(databases))
        .extracting(r -> r.getString("kind"))
        .containsOnly("action");
  }

  @Test
  void parallelStepsAndAStepCalledByName() throws Exception {
    await(
        transactions.saga(
            TIMEOUT,
            saga ->
                Future.all(
                        saga.step(bank.debit, move(0, 10)),
                        saga.step(bank.debit, move(1, 20)),
                        saga.<Void>step("credit", move(2, 30)))
                    .mapEmpty()));

    assertThat(new long[] {balance(0), balance(1), balance(2)}).containsExactly(90, 80, 130);
  }

  @Test
  void aFailingStepCompensatesTheEarlierStepsInReverseOrder() throws Exception {
    AtomicReference<String> gid = new AtomicReference<>();

    Throwable actual =
        awaitFailure(
            transactions.saga(
                TIMEOUT,
                saga -> {
                  gid.set(saga.globalId());
                  return saga.step(bank.debit, move(0, 10))
                      .compose(v -> saga.step(bank.credit, move(1, 10)))
                      .compose(v -> saga.step(bank.debit, move(2, 10)))
                      .compose(v -> saga.step(bank.debit, move(3, 1_000))); // fails
                }));

    assertThat(TccTestSupport.rolledBack(actual)).as("shardkit's details").isNotNull();
    TransactionRolledBackException rolledBack = TccTestSupport.rolledBack(actual);
    assertThat(rolledBack.phase()).isEqualTo("action");
    assertThat(rolledBack.getCause()).hasMessageContaining("insufficient funds on account 3");
    List<String> compensated = new ArrayList<>();
    for (JsonObject row : SagaBank.journal(databases)) {
      if (row.getString("kind").equals("compensation")) {
        compensated.add(row.getString("branch_id"));
      }
    }
    assertThat(compensated).as("compensation order, oldest first").containsExactly("3", "2", "1");
    assertThat(new long[] {balance(0), balance(1), balance(2), balance(3)})
        .containsExactly(100, 100, 100, 100);
    // the failed step's compensation was an empty rollback: its marker refuses a late action
    assertThat(Bank.fence(databases, 1, OPTIONS, gid.get(), "4"))
        .containsExactly(java.util.Map.entry(1, 3), java.util.Map.entry(3, 3));
    assertThat(logState(gid.get())).isEqualTo(5);
  }

  @Test
  void theBodysFailureCompensatesAndIsTheCause() throws Exception {
    IllegalStateException mine = new IllegalStateException("changed my mind");

    Throwable actual =
        awaitFailure(
            transactions.saga(
                TIMEOUT,
                saga ->
                    saga.step(bank.debit, move(0, 10)).compose(v -> Future.failedFuture(mine))));

    assertThat(TccTestSupport.rolledBack(actual)).as("shardkit's details").isNotNull();
    assertThat((TccTestSupport.rolledBack(actual)).phase()).isEqualTo("execute");
    assertThat(actual).as("the body's own failure, as Pool.withTransaction").isSameAs(mine);
    assertThat(balance(0)).isEqualTo(100);
    assertThat(bank.runs("debit.compensation")).isEqualTo(1);
  }

  @Test
  void compensationBeforeTheActionIsEmptyAndTheLateActionIsRefused() throws Exception {
    TccBranch step = new TccBranch("g-saga-late", "1", "debit", move(0, 30).toJson());

    TccPhaseOutcome compensation = await(transactions.participants().cancel(step));
    Throwable lateAction = awaitFailure(transactions.participants().tryBranch(step));
    TccPhaseOutcome again = await(transactions.participants().cancel(step));

    assertThat(compensation).isEqualTo(TccPhaseOutcome.EMPTY_ROLLBACK);
    assertThat(lateAction).isInstanceOf(TccTryRefusedException.class);
    assertThat(again).isEqualTo(TccPhaseOutcome.DUPLICATE);
    assertThat(bank.runs("debit.action") + bank.runs("debit.compensation")).isZero();
    assertThat(balance(0)).isEqualTo(100);
    assertThat(SagaBank.journal(databases)).isEmpty();
  }

  @Test
  void actionThenCompensationTwiceUndoesOnce() throws Exception {
    TccBranch step = new TccBranch("g-saga-twice", "1", "debit", move(0, 30).toJson());

    await(transactions.participants().tryBranch(step));
    TccPhaseOutcome duplicateAction = await(transactions.participants().tryBranch(step));
    TccPhaseOutcome first = await(transactions.participants().cancel(step));
    TccPhaseOutcome second = await(transactions.participants().cancel(step));
    Throwable confirm = awaitFailure(transactions.participants().confirm(step));

    assertThat(duplicateAction).isEqualTo(TccPhaseOutcome.DUPLICATE);
    assertThat(first).isEqualTo(TccPhaseOutcome.APPLIED);
    assertThat(second).isEqualTo(TccPhaseOutcome.DUPLICATE);
    assertThat(confirm).hasMessageContaining("has no confirm phase");
    assertThat(bank.runs("debit.action")).isEqualTo(1);
    assertThat(bank.runs("debit.compensation")).isEqualTo(1);
    assertThat(balance(0)).isEqualTo(100);
  }

  @Test
  void aRetryOnlyStepIsRetriedUntilItSucceedsAndCommitsTheSaga() throws Exception {
    bank.failDeposits.set(3);
    AtomicReference<String> gid = new AtomicReference<>();

    await(
        transactions.saga(
            TIMEOUT,
            saga -> {
              gid.set(saga.globalId());
              return saga.step(bank.debit, move(0, 40))
                  .compose(v -> saga.step(bank.deposit, move(1, 40)));
            }));

    assertThat(bank.runs("deposit.attempt")).isEqualTo(4);
    assertThat(bank.runs("deposit.action")).isEqualTo(1);
    assertThat(new long[] {balance(0), balance(1)}).containsExactly(60, 140);
    assertThat(TccTestSupport.eventually(Duration.ofSeconds(5), () -> logState(gid.get()) == 4))
        .isTrue();
    JsonObject row = logRow(gid.get());
    assertThat(
            new io.vertx.core.json.JsonArray(row.getString("branches"))
                .getJsonObject(1)
                .getBoolean("retryOnly"))
        .isTrue();
  }

  @Test
  void aSagaAbandonedPastItsPivotIsFinishedForwardByAnotherInstance() throws Exception {
    ((TransactionsImpl) transactions).tccCoordinator().saga().stopAt(StopAt.AFTER_PIVOT);
    AtomicReference<String> gid = new AtomicReference<>();

    Throwable abandoned =
        awaitFailure(
            transactions.saga(
                TransactionOptions.ofTimeout(Duration.ofSeconds(1)),
                saga -> {
                  gid.set(saga.globalId());
                  return saga.step(bank.debit, move(0, 30))
                      .compose(v -> saga.step(bank.deposit, move(1, 30)));
                }));
    int stateBeforeRecovery = logState(gid.get());
    long[] before = {balance(0), balance(1)};
    SagaBank other = new SagaBank();
    Transactions survivor = manager(other);
    TccRecoveryReport report = recoverWhenDue(survivor);
    TccRecoveryReport second =
        await(((TransactionsImpl) survivor).tccCoordinator().recovery().runOnce());

    assertThat(abandoned).hasMessageContaining("abandoned");
    assertThat(stateBeforeRecovery).as("COMMIT: past the pivot").isEqualTo(2);
    assertThat(before).containsExactly(70, 100);
    assertThat(report.confirmed()).containsExactly(gid.get());
    assertThat(second.claimed()).isZero();
    assertThat(new long[] {balance(0), balance(1)}).containsExactly(70, 130);
    assertThat(other.runs("deposit.action")).isEqualTo(1);
    assertThat(bank.runs("deposit.action")).isZero();
    assertThat(other.runs("debit.compensation") + bank.runs("debit.compensation")).isZero();
    assertThat(logState(gid.get())).isEqualTo(4);
  }

  @Test
  void aSagaAbandonedBeforeDecidingIsCompensatedByAnotherInstanceAfterItsDeadline()
      throws Exception {
    ((TransactionsImpl) transactions).tccCoordinator().saga().stopAt(StopAt.BEFORE_DECISION);
    AtomicReference<String> gid = new AtomicReference<>();

    awaitFailure(
        transactions.saga(
            TransactionOptions.ofTimeout(Duration.ofSeconds(1)),
            saga -> {
              gid.set(saga.globalId());
              return saga.step(bank.debit, move(0, 30))
                  .compose(v -> saga.step(bank.credit, move(1, 30)));
            }));
    SagaBank other = new SagaBank();
    Transactions survivor = manager(other);
    TccRecoveryReport report = recoverWhenDue(survivor);

    assertThat(report.cancelled()).containsExactly(gid.get());
    assertThat(new long[] {balance(0), balance(1)}).containsExactly(100, 100);
    List<String> compensated = new ArrayList<>();
    for (JsonObject row : SagaBank.journal(databases)) {
      if (row.getString("kind").equals("compensation")) {
        compensated.add(row.getString("step"));
      }
    }
    assertThat(compensated).containsExactly("credit", "debit");
    assertThat(logState(gid.get())).isEqualTo(5);
  }

  @Test
  void aCompensatableStepAfterARetryOnlyOneIsRefused() throws Exception {
    AtomicReference<Throwable> refused = new AtomicReference<>();

    await(
        transactions.saga(
            TIMEOUT,
            saga ->
                saga.step(bank.debit, move(0, 10))
                    .compose(v -> saga.step(bank.deposit, move(1, 10)))
                    .compose(v -> saga.step(bank.credit, move(1, 5)))
                    .recover(
                        failure -> {
                          refused.set(failure);
                          return Future.succeededFuture();
                        })));

    assertThat(refused.get())
        .isInstanceOf(ShardkitException.class)
        .hasMessageContaining("past its pivot")
        .hasMessageContaining("deposit");
    assertThat(bank.runs("credit.action")).isZero();
    assertThat(new long[] {balance(0), balance(1)}).containsExactly(90, 110);
  }

  @Test
  void theCallerIsAnsweredByTheDeadlineWhileACompensationStalls() throws Exception {
    java.util.concurrent.atomic.AtomicBoolean stalled =
        new java.util.concurrent.atomic.AtomicBoolean();
    ((io.shardkit.tx.impl.tcc.LocalParticipants) transactions.participants())
        .beforeCommit(
            (phase, branch) -> {
              if (phase.equals("compensation") && stalled.compareAndSet(false, true)) {
                io.vertx.core.Promise<Void> later = io.vertx.core.Promise.promise();
                vertx.setTimer(2_500, id -> later.complete());
                return later.future();
              }
              return Future.succeededFuture();
            });
    IllegalStateException mine = new IllegalStateException("no");
    long start = System.nanoTime();
    Throwable actual =
        awaitFailure(
            transactions.saga(
                io.shardkit.tx.TransactionOptions.ofTimeout(Duration.ofMillis(1_000)),
                saga ->
                    saga.step(bank.debit, move(0, 10)).compose(v -> Future.failedFuture(mine))));
    long answeredMillis = (System.nanoTime() - start) / 1_000_000;

    // rolled back (CANCEL decided, its compensation still running): answered by the deadline
    assertThat(actual).isSameAs(mine);
    assertThat(answeredMillis).isLessThan(1_000 + 400);
    assertThat(TccTestSupport.eventually(Duration.ofSeconds(15), () -> balance(0) == 100)).isTrue();
  }

  @Test
  void aBodyFailingAfterThePivotIsCommittedTypedAndRunsTheCommitHooks() throws Exception {
    java.util.concurrent.atomic.AtomicInteger committed =
        new java.util.concurrent.atomic.AtomicInteger();
    java.util.concurrent.atomic.AtomicInteger rolledBack =
        new java.util.concurrent.atomic.AtomicInteger();
    Throwable actual =
        awaitFailure(
            transactions.saga(
                TIMEOUT,
                saga -> {
                  saga.onCommit(committed::incrementAndGet);
                  saga.onRollback(rolledBack::incrementAndGet);
                  return saga.step(bank.debit, move(0, 10))
                      .compose(v -> saga.step(bank.deposit, move(1, 10)))
                      .compose(
                          v -> Future.failedFuture(new IllegalStateException("after the pivot")));
                }));

    // committed (forward past the pivot), typed so that nobody retries it, the cause attached
    assertThat(actual).isInstanceOf(io.shardkit.tx.TransactionCommittedException.class);
    assertThat(actual).hasCauseInstanceOf(IllegalStateException.class);
    assertThat(((io.shardkit.tx.TransactionCommittedException) actual).decision())
        .isEqualTo(io.shardkit.tx.TransactionOutcomePendingException.Decision.COMMIT);
    assertThat(committed.get()).as("onCommit hooks").isEqualTo(1);
    assertThat(rolledBack.get()).as("onRollback hooks").isZero();
    assertThat(new long[] {balance(0), balance(1)}).containsExactly(90, 110);
  }

  @Test
  void aRetryOnlyStepAfterAFailedStepIsNotRunAndTheSagaIsCompensated() throws Exception {
    Throwable actual =
        awaitFailure(
            transactions.saga(
                TIMEOUT,
                saga -> {
                  Future<Long> ok = saga.step(bank.debit, move(0, 10));
                  Future<Long> fails = saga.step(bank.debit, move(2, 1_000));
                  Future<Void> pivot = saga.step(bank.deposit, move(1, 10));
                  return Future.all(ok, fails, pivot).mapEmpty();
                }));

    assertThat(TccTestSupport.rolledBack(actual)).as("shardkit's details").isNotNull();
    assertThat(bank.runs("deposit.attempt")).isZero();
    assertThat(new long[] {balance(0), balance(1), balance(2)}).containsExactly(100, 100, 100);
  }

  @Test
  void aStepServedByAnotherParticipantIsRunAndCompensatedThroughIt() throws Exception {
    // the participant side (what TccGrpc.bind serves in another process): its own fenced steps
    SagaBank served = new SagaBank();
    io.shardkit.tx.TccParticipants service =
        io.shardkit.tx.TccParticipants.create(vertx, pool, OPTIONS).register(served.debit);
    Transactions coordinator =
        Transactions.create(
            vertx,
            pool,
            TransactionsOptions.builder("ds_0").tcc(OPTIONS.toBuilder().build()).build());
    SagaStep<Bank.Move, Void> remoteDebit = SagaStep.remote("debit", Bank.CODEC);
    coordinator.register(remoteDebit).register(bank.credit);
    coordinator.registerParticipant("debit", service);

    Throwable actual =
        awaitFailure(
            coordinator.saga(
                TIMEOUT,
                saga ->
                    saga.step(remoteDebit, move(0, 25))
                        .compose(v -> saga.step(bank.credit, move(1, 25)))
                        .compose(v -> Future.failedFuture(new IllegalStateException("no")))));

    assertThat(TccTestSupport.rolledBack(actual)).as("shardkit's details").isNotNull();
    assertThat((TccTestSupport.rolledBack(actual)).causes()).containsOnlyKeys("execute");
    assertThat(SagaBank.journal(databases))
        .extracting(r -> r.getString("step") + "." + r.getString("kind"))
        .containsExactly(
            "debit.action", "credit.action", "credit.compensation", "debit.compensation");
    assertThat(served.runs("debit.action")).isEqualTo(1);
    assertThat(served.runs("debit.compensation")).isEqualTo(1);
    assertThat(bank.runs("credit.compensation")).isEqualTo(1);
    assertThat(new long[] {balance(0), balance(1)}).containsExactly(100, 100);
  }

  @Test
  void aRetryOnlyStepCannotHaveACompensation() {
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () ->
                SagaStep.builder("bad", Bank.CODEC)
                    .dataSource("ds_0")
                    .<Void>action((ctx, m) -> Future.succeededFuture())
                    .compensation((ctx, m) -> Future.succeededFuture())
                    .retryOnly()
                    .build())
        .hasMessageContaining("retry-only step has no compensation");
  }
}
