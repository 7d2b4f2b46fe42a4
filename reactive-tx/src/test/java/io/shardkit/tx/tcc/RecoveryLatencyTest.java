package io.shardkit.tx.tcc;

import static io.shardkit.tx.tcc.TccTestSupport.await;
import static io.shardkit.tx.tcc.TccTestSupport.awaitFailure;
import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardkit.context.junit.LeakGuardExtension;
import io.shardkit.router.ShardedPool;
import io.shardkit.testkit.ShardDatabases;
import io.shardkit.testkit.Shards;
import io.shardkit.tx.TccOptions;
import io.shardkit.tx.TransactionOptions;
import io.shardkit.tx.TransactionOutcomePendingException.Decision;
import io.shardkit.tx.Transactions;
import io.shardkit.tx.TransactionsOptions;
import io.shardkit.tx.impl.TransactionsImpl;
import io.shardkit.tx.impl.tcc.SagaCoordinatorImpl;
import io.shardkit.tx.impl.xa.StopPoint;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Recovery latency of XA and Saga (TCC's is in {@link TccRecoveryTest}): an instance's coordinator
 * stops right after deciding (XA: COMMIT durable, every branch prepared, nothing committed; Saga:
 * pivot durable, its retry-only deposit not run) and the instance dies (its Vert.x closed); another
 * instance's recovery finishes the transaction within the configured bound, measured from the
 * death, and records {@code shardkit.tx.recovery.latency} (deadline → finished).
 */
@Shards(2)
@ExtendWith(LeakGuardExtension.class)
class RecoveryLatencyTest {

  static final Duration INTERVAL = Duration.ofMillis(500);
  static final Duration TAKEOVER = Duration.ofSeconds(1);
  static final TccOptions TCC =
      TccOptions.builder()
          .tablePrefix("lat")
          .phaseTimeout(Duration.ofSeconds(1))
          .completionTimeout(Duration.ofSeconds(30)) // recovery must not wait for this budget
          .recoveryInterval(INTERVAL)
          .recoveryGrace(Duration.ofMillis(300))
          .recoveryTakeover(TAKEOVER)
          .retryInitialDelay(Duration.ofMillis(20))
          .retryMaxDelay(Duration.ofMillis(200))
          .build();
  static final String DEBIT = "UPDATE account SET balance = balance - ? WHERE id = ?";
  static final String CREDIT = "UPDATE account SET balance = balance + ? WHERE id = ?";

  ShardDatabases databases;

  @BeforeEach
  void reset(ShardDatabases dbs) {
    databases = dbs;
    SagaBank.reset(dbs, TCC);
    dbs.executeOnAll("DROP TABLE IF EXISTS lat_xa_lease");
    Bank.open(dbs, 2, 1_000);
  }

  /** One application instance on the shards. */
  final class Instance {
    final Vertx vertx = TccTestSupport.vertx();
    final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    final ShardedPool pool;
    final Transactions transactions;
    final SagaBank saga = new SagaBank("saga.");

    Instance(String name) throws Exception {
      TransactionsOptions options =
          TransactionsOptions.builder("ds_0")
              .tablePrefix("lat")
              .recoveryInterval(INTERVAL)
              .recoveryGrace(Duration.ofMillis(300))
              .rollbackTimeout(Duration.ofSeconds(1))
              .meterRegistry(meters)
              .tcc(TCC.toBuilder().instanceId(name).meterRegistry(meters).build())
              .build();
      pool =
          ShardedPool.builder(vertx)
              .rules(TccTestSupport.rules(2))
              .dataSources(databases.dataSources("ds_"), new PoolOptions().setMaxSize(4))
              .transactionManager(p -> Transactions.create(vertx, p, options))
              .build();
      TccTestSupport.warmUp(pool);
      pool.dataSourcesFor(DEBIT, Tuple.of(1L, 1L));
      transactions = Transactions.of(pool).register(saga.debit).register(saga.deposit);
      await(transactions.installSchema());
      await(transactions.warmUp());
    }

    TransactionsImpl impl() {
      return (TransactionsImpl) transactions;
    }

    /** Dies: no close of its manager or pool, its Vert.x closed under them. */
    void die() throws Exception {
      TccTestSupport.close(vertx);
    }

    void close() throws Exception {
      await(transactions.close());
      await(pool.close());
      TccTestSupport.close(vertx);
    }

    long latencyCount(String mode) {
      Timer t = meters.find("shardkit.tx.recovery.latency").tag("mode", mode).timer();
      return t == null ? 0 : t.count();
    }

    double latencyMaxMillis(String mode) {
      Timer t = meters.find("shardkit.tx.recovery.latency").tag("mode", mode).timer();
      return t == null ? -1 : t.max(java.util.concurrent.TimeUnit.MILLISECONDS);
    }
  }

  @Test
  void anXaTransactionDecidedByADeadCoordinatorIsCommittedByAnotherInstanceWithinAPass()
      throws Exception {
    Instance dead = new Instance("dead");
    Instance survivor = new Instance("survivor");
    await(survivor.transactions.startRecovery());
    try {
      dead.impl().xa().stopAt(StopPoint.AFTER_DECISION);
      AtomicReference<String> gid = new AtomicReference<>();
      awaitFailure(
          dead.pool.withTransaction(
              Duration.ofSeconds(1),
              sql -> {
                gid.set(io.shardkit.context.TxScope.current().orElseThrow().globalId());
                return sql.preparedQuery(DEBIT)
                    .execute(Tuple.of(10L, 0L))
                    .compose(rs -> sql.preparedQuery(CREDIT).execute(Tuple.of(10L, 1L)))
                    .mapEmpty();
              }));
      dead.die();
      long diedAt = System.nanoTime();
      assertThat(await(survivor.transactions.decision(gid.get()))).contains(Decision.COMMIT);
      boolean finished =
          TccTestSupport.eventually(
              Duration.ofSeconds(15),
              () ->
                  TwoInstancesRecoveryTest.preparedXaBranches(databases) == 0
                      && Bank.account(databases, 1)[0] == 1_010);
      long millis = (System.nanoTime() - diedAt) / 1_000_000;
      System.out.printf(
          "XA: decided transaction of a dead coordinator committed by another instance %d ms after"
              + " the death (recovery interval %d ms; latency meter deadline → finished: max %.0f"
              + " ms over %d branches)%n",
          millis,
          INTERVAL.toMillis(),
          survivor.latencyMaxMillis("xa"),
          survivor.latencyCount("xa"));
      assertThat(finished).as("committed by the survivor's recovery").isTrue();
      assertThat(Bank.account(databases, 0)[0]).isEqualTo(990);
      // a pass (the server may report the dead connection's branch a pass late), plus slack
      assertThat(millis).isLessThan(2 * INTERVAL.toMillis() + 1_500);
      // one branch: the first (ds_0) committed its work with the decision before the death
      assertThat(survivor.latencyCount("xa")).isEqualTo(1);
    } finally {
      survivor.close();
    }
  }

  @Test
  void aSagaPastItsPivotWhoseCoordinatorDiedIsFinishedATakeoverLater() throws Exception {
    Instance dead = new Instance("dead");
    Instance survivor = new Instance("survivor");
    await(survivor.transactions.startRecovery());
    try {
      dead.impl().tccCoordinator().saga().stopAt(SagaCoordinatorImpl.StopAt.AFTER_PIVOT);
      AtomicReference<String> gid = new AtomicReference<>();
      awaitFailure(
          dead.transactions.saga(
              TransactionOptions.ofTimeout(Duration.ofSeconds(1)),
              s -> {
                gid.set(s.globalId());
                return s.step(dead.saga.debit, new Bank.Move(0, 10))
                    .compose(v -> s.step(dead.saga.deposit, new Bank.Move(1, 10)));
              }));
      dead.die();
      long diedAt = System.nanoTime();
      boolean finished =
          TccTestSupport.eventually(
              Duration.ofSeconds(15),
              () ->
                  Bank.account(databases, 1)[0] == 1_010
                      && databases
                              .get(0)
                              .query(
                                  "SELECT state FROM "
                                      + TCC.txTable()
                                      + " WHERE gid = '"
                                      + gid.get()
                                      + "'")
                              .get(0)
                              .getInteger("state")
                          == 4);
      long millis = (System.nanoTime() - diedAt) / 1_000_000;
      System.out.printf(
          "Saga: saga past its pivot of a dead coordinator finished forward by another instance %d"
              + " ms after the death (takeover %d ms, recovery interval %d ms; latency meter"
              + " deadline → finished: %.0f ms)%n",
          millis, TAKEOVER.toMillis(), INTERVAL.toMillis(), survivor.latencyMaxMillis("saga"));
      assertThat(finished).as("finished forward by the survivor's recovery").isTrue();
      assertThat(Bank.account(databases, 0)[0]).isEqualTo(990);
      assertThat(millis)
          .as("a takeover and a recovery interval, not the 30 s completion budget")
          .isLessThan(TAKEOVER.toMillis() + INTERVAL.toMillis() + 1_500);
      assertThat(survivor.latencyCount("saga")).isEqualTo(1);
    } finally {
      survivor.close();
    }
  }
}
