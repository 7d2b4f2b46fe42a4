package io.shardkit.tx.tcc;

import static io.shardkit.tx.tcc.TccTestSupport.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.shardkit.context.TxScope;
import io.shardkit.context.junit.LeakGuardExtension;
import io.shardkit.router.ShardedPool;
import io.shardkit.testkit.Shard;
import io.shardkit.testkit.ShardDatabases;
import io.shardkit.testkit.Shards;
import io.shardkit.tx.TccOptions;
import io.shardkit.tx.TransactionOptions;
import io.shardkit.tx.TransactionOutcomePendingException.Decision;
import io.shardkit.tx.TransactionResult;
import io.shardkit.tx.Transactions;
import io.shardkit.tx.TransactionsOptions;
import io.shardkit.tx.impl.TransactionsImpl;
import io.shardkit.tx.impl.tcc.LocalParticipants;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@code xaResult}, {@code tccResult}, {@code sagaResult}: the global id on success (the one the
 * work saw), and the pending flag: false when everything was applied before the answer, true when
 * the caller was answered (successfully) with the second phase still running or left to recovery,
 * whose effects then become visible once it is applied.
 */
@Shards(2)
@ExtendWith(LeakGuardExtension.class)
class TransactionResultTest {

  static final TccOptions TCC =
      TccOptions.builder()
          .tablePrefix("res")
          .phaseTimeout(Duration.ofSeconds(1))
          .completionTimeout(Duration.ofSeconds(2))
          .recoveryInterval(Duration.ofMillis(200))
          .recoveryGrace(Duration.ofMillis(200))
          .recoveryTakeover(Duration.ofMillis(600))
          .retryInitialDelay(Duration.ofMillis(20))
          .retryMaxDelay(Duration.ofMillis(200))
          .build();
  static final Duration DEADLINE = Duration.ofMillis(800);
  static final String DEBIT = "UPDATE account SET balance = balance - ? WHERE id = ?";
  static final String CREDIT = "UPDATE account SET balance = balance + ? WHERE id = ?";

  ShardDatabases databases;
  Vertx vertx;
  ShardedPool pool;
  Transactions transactions;
  Bank bank;
  SagaBank saga;

  @BeforeEach
  void start(ShardDatabases dbs) throws Exception {
    databases = dbs;
    SagaBank.reset(dbs, TCC);
    dbs.executeOnAll("DROP TABLE IF EXISTS res_xa_lease");
    Bank.open(dbs, 2, 1_000);
    vertx = TccTestSupport.vertx();
    TransactionsOptions options =
        TransactionsOptions.builder("ds_0")
            .tablePrefix("res")
            .recoveryGrace(Duration.ofMillis(200))
            .recoveryInterval(Duration.ofMillis(200))
            .rollbackTimeout(Duration.ofMillis(500))
            .tcc(TCC)
            .build();
    pool =
        ShardedPool.builder(vertx)
            .rules(TccTestSupport.rules(2))
            .dataSources(dbs.dataSources("ds_"), new PoolOptions().setMaxSize(4))
            .transactionManager(p -> Transactions.create(vertx, p, options))
            .build();
    TccTestSupport.warmUp(pool);
    pool.dataSourcesFor(DEBIT, Tuple.of(1L, 1L));
    bank = new Bank();
    saga = new SagaBank("saga.");
    transactions =
        Transactions.of(pool)
            .register(bank.debit)
            .register(bank.credit)
            .register(saga.debit)
            .register(saga.deposit);
    await(transactions.installSchema());
    await(transactions.warmUp());
  }

  @AfterEach
  void stop() throws Exception {
    Shard one = databases.get(1).shard();
    if (one.isPaused()) {
      one.resume();
    }
    await(transactions.close(), Duration.ofSeconds(30));
    await(pool.close());
    TccTestSupport.close(vertx);
  }

  Future<String> xaTransfer(io.vertx.sqlclient.SqlConnection sql) {
    return sql.preparedQuery(DEBIT)
        .execute(Tuple.of(10L, 0L))
        .compose(rs -> sql.preparedQuery(CREDIT).execute(Tuple.of(10L, 1L)))
        .map(rs -> TxScope.current().orElseThrow().globalId());
  }

  @Test
  void xaResultCarriesTheGlobalIdAndSaysWhenABranchIsLeftToRecovery() throws Exception {
    TransactionResult<String> done =
        await(transactions.xaResult(TransactionOptions.ofTimeout(DEADLINE), this::xaTransfer));
    assertThat(done.globalId()).isEqualTo(done.value()).isNotBlank();
    assertThat(done.secondPhasePending()).isFalse();
    assertThat(Bank.account(databases, 1)[0]).isEqualTo(1_010);

    // ds_1 freezes between the durable decision and the XA COMMITs: the caller is told committed
    // at the deadline, pending; once the shard is back, recovery commits it
    Shard one = databases.get(1).shard();
    ((TransactionsImpl) transactions)
        .xa()
        .beforeCommit(
            gid ->
                vertx.executeBlocking(
                    () -> {
                      one.pause();
                      return null;
                    }));
    long t0 = System.nanoTime();
    TransactionResult<String> pending;
    try {
      pending =
          await(transactions.xaResult(TransactionOptions.ofTimeout(DEADLINE), this::xaTransfer));
    } finally {
      ((TransactionsImpl) transactions).xa().beforeCommit(null);
    }
    long millis = (System.nanoTime() - t0) / 1_000_000;
    Thread.sleep(300);
    one.resume();
    assertThat(pending.secondPhasePending()).isTrue();
    assertThat(pending.globalId()).isEqualTo(pending.value());
    assertThat(millis).isLessThanOrEqualTo(DEADLINE.toMillis() + 100 + 150);
    assertThat(await(transactions.decision(pending.globalId()))).contains(Decision.COMMIT);
    await(transactions.startRecovery());
    assertThat(
            TccTestSupport.eventually(
                Duration.ofSeconds(15), () -> Bank.account(databases, 1)[0] == 1_020))
        .as("the credit on ds_1 applied by recovery")
        .isTrue();
    assertThat(Bank.account(databases, 0)[0]).isEqualTo(980);
  }

  @Test
  void tccResultCarriesTheGlobalIdAndSaysWhenConfirmsAreStillRunning() throws Exception {
    AtomicReference<String> seen = new AtomicReference<>();
    TransactionResult<Integer> done =
        await(
            transactions.tccResult(
                TransactionOptions.ofTimeout(DEADLINE),
                tx -> {
                  seen.set(tx.globalId());
                  return bank.transfer(tx, 0, 1, 10).map(42);
                }));
    assertThat(done.value()).isEqualTo(42);
    assertThat(done.globalId()).isEqualTo(seen.get());
    assertThat(done.secondPhasePending()).isFalse();

    // the credit's confirm stalls 1.5 s, past the deadline: committed, answered at the deadline
    // with the value, pending; the confirm lands afterwards
    stall("confirm", "credit", 1_500);
    long t0 = System.nanoTime();
    TransactionResult<Integer> pending =
        await(
            transactions.tccResult(
                TransactionOptions.ofTimeout(DEADLINE), tx -> bank.transfer(tx, 0, 1, 10).map(7)));
    long millis = (System.nanoTime() - t0) / 1_000_000;
    assertThat(pending.value()).isEqualTo(7);
    assertThat(pending.secondPhasePending()).isTrue();
    assertThat(millis).isLessThanOrEqualTo(DEADLINE.toMillis() + 100 + 150);
    assertThat(Bank.account(databases, 1)).containsExactly(1_010, 0, 10);
    assertThat(
            TccTestSupport.eventually(
                Duration.ofSeconds(10),
                () -> Bank.account(databases, 1)[0] == 1_020 && Bank.account(databases, 1)[2] == 0))
        .as("the stalled confirm applied")
        .isTrue();
  }

  @Test
  void tccAsyncConfirmAnswersOnceTheDecisionIsDurableAndConfirmsAfterwards() throws Exception {
    // the credit's confirm stalls 1.5 s: with the asynchronous confirm the caller is answered at
    // the decision, before it; the confirm lands afterwards, in the background
    stall("confirm", "credit", 1_500);
    long t0 = System.nanoTime();
    TransactionResult<Integer> answered =
        await(
            transactions.tccResult(
                TransactionOptions.ofTimeout(DEADLINE).withAsyncSecondPhase(true),
                tx -> bank.transfer(tx, 0, 1, 10).map(5)));
    long millis = (System.nanoTime() - t0) / 1_000_000;
    long[] creditAtAnswer = Bank.account(databases, 1);
    assertThat(answered.value()).isEqualTo(5);
    assertThat(answered.secondPhasePending()).isTrue();
    assertThat(millis).as("answered before the stalled confirm ends").isLessThan(1_500);
    assertThat(creditAtAnswer)
        .as("the credit is still held, not applied, when the caller hears committed")
        .containsExactly(1_000, 0, 10);
    assertThat(
            TccTestSupport.eventually(
                Duration.ofSeconds(10),
                () ->
                    java.util.Arrays.equals(Bank.account(databases, 1), new long[] {1_010, 0, 0})
                        && java.util.Arrays.equals(
                            Bank.account(databases, 0), new long[] {990, 0, 0})))
        .as("both confirms applied in the background")
        .isTrue();
  }

  @Test
  void tccAsyncConfirmsLeftByADeadCoordinatorAreFinishedByRecovery() throws Exception {
    // the coordinator answers (the decision is durable) and dies before sending any confirm
    ((TransactionsImpl) transactions)
        .tccCoordinator()
        .stopAt(io.shardkit.tx.impl.tcc.TccCoordinatorImpl.StopAt.AFTER_DECISION);
    TransactionResult<Integer> answered;
    try {
      answered =
          await(
              transactions.tccResult(
                  TransactionOptions.ofTimeout(DEADLINE).withAsyncSecondPhase(true),
                  tx -> bank.transfer(tx, 0, 1, 10).map(9)));
    } finally {
      ((TransactionsImpl) transactions)
          .tccCoordinator()
          .stopAt(io.shardkit.tx.impl.tcc.TccCoordinatorImpl.StopAt.NONE);
    }
    assertThat(answered.secondPhasePending()).isTrue();
    Thread.sleep(300);
    assertThat(Bank.account(databases, 0))
        .as("debit tried, never confirmed")
        .containsExactly(990, 10, 0);
    assertThat(Bank.account(databases, 1))
        .as("credit tried, never confirmed")
        .containsExactly(1_000, 0, 10);
    await(transactions.startRecovery());
    assertThat(
            TccTestSupport.eventually(
                Duration.ofSeconds(15),
                () ->
                    java.util.Arrays.equals(Bank.account(databases, 1), new long[] {1_010, 0, 0})
                        && java.util.Arrays.equals(
                            Bank.account(databases, 0), new long[] {990, 0, 0})))
        .as("recovery confirmed both branches")
        .isTrue();
  }

  @Test
  void sagaResultCarriesTheGlobalIdAndSaysWhenARetryOnlyStepIsStillRunning() throws Exception {
    AtomicReference<String> seen = new AtomicReference<>();
    TransactionResult<Void> done =
        await(
            transactions.sagaResult(
                TransactionOptions.ofTimeout(DEADLINE),
                s -> {
                  seen.set(s.globalId());
                  return s.step(saga.debit, new Bank.Move(0, 10))
                      .compose(v -> s.step(saga.deposit, new Bank.Move(1, 10)));
                }));
    assertThat(done.globalId()).isEqualTo(seen.get());
    assertThat(done.secondPhasePending()).isFalse();

    // the retry-only deposit stalls past the deadline: the saga is committed (its pivot is
    // durable); the body, waiting for the deposit, has no value by then, so the caller hears
    // committed without a value (TransactionCommittedException); a body that does not wait for
    // its retry-only step gets its value with the pending flag
    stall("action", "saga.deposit", 1_500);
    long t0 = System.nanoTime();
    TransactionResult<String> pending =
        await(
            transactions.sagaResult(
                TransactionOptions.ofTimeout(DEADLINE),
                s ->
                    s.step(saga.debit, new Bank.Move(0, 10))
                        .map(
                            v -> {
                              s.step(saga.deposit, new Bank.Move(1, 10)); // not awaited
                              return "sent";
                            })));
    long millis = (System.nanoTime() - t0) / 1_000_000;
    assertThat(pending.value()).isEqualTo("sent");
    assertThat(pending.secondPhasePending()).isTrue();
    assertThat(millis).isLessThanOrEqualTo(DEADLINE.toMillis() + 100 + 150);
    assertThat(
            TccTestSupport.eventually(
                Duration.ofSeconds(10), () -> Bank.account(databases, 1)[0] == 1_020))
        .as("the stalled deposit applied")
        .isTrue();
  }

  /** The first {@code phase} of {@code action} waits {@code millis} before its local commit. */
  void stall(String phase, String action, long millis) {
    java.util.concurrent.atomic.AtomicBoolean once =
        new java.util.concurrent.atomic.AtomicBoolean();
    ((LocalParticipants) ((TransactionsImpl) transactions).tccCoordinator().participants())
        .beforeCommit(
            (p, branch) -> {
              if (p.equals(phase)
                  && branch.action().equals(action)
                  && once.compareAndSet(false, true)) {
                Promise<Void> later = Promise.promise();
                vertx.setTimer(millis, id -> later.complete());
                return later.future();
              }
              return Future.succeededFuture();
            });
  }
}
