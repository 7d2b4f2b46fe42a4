package io.shardkit.tx.impl.xa;

import static io.shardkit.tx.impl.xa.XaFixture.await;
import static io.shardkit.tx.impl.xa.XaFixture.failure;
import static io.shardkit.tx.impl.xa.XaFixture.transfer;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardkit.context.TxContext;
import io.shardkit.context.TxScope;
import io.shardkit.context.junit.LeakGuardExtension;
import io.shardkit.router.ShardedPool;
import io.shardkit.router.ShardingRules;
import io.shardkit.testkit.ShardDatabases;
import io.shardkit.testkit.Shards;
import io.shardkit.tx.TransactionOutcomePendingException.Decision;
import io.shardkit.tx.Transactions;
import io.shardkit.tx.TransactionsOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.templates.SqlTemplate;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The shape every Vert.x user knows, {@code pool.withTransaction(conn -> ...)}, on a {@link
 * ShardedPool} built with reactive-tx's manager: a transfer across two shards commits atomically
 * (XA, decision in the log), a failure anywhere leaves both shards unchanged, the work sees the
 * transaction's global id, and {@code SqlTemplate} and {@code getConnection().begin()} work inside.
 * Account {@code id} lives on {@code ds_(id mod 2)}.
 */
@Shards(2)
@ExtendWith(LeakGuardExtension.class)
class PoolWithTransactionTest {

  static ShardDatabases dbs;
  static Vertx vertx;
  static ShardedPool pool;
  static Transactions transactions;
  static XaFixture fx;

  @BeforeAll
  static void setUp(ShardDatabases databases) throws Exception {
    dbs = databases;
    XaFixture.createTables(dbs);
    fx = new XaFixture(dbs, XaFixture.options(), 3); // for balances and the reset only
    vertx = Vertx.vertx();
    ShardingRules rules =
        ShardingRules.builder()
            .table("account", t -> t.dataNodes("ds_${0..1}.account").databaseStrategy("id", "mod"))
            .table(
                "transfer",
                t -> t.dataNodes("ds_${0..1}.transfer").databaseStrategy("account", "mod"))
            .build();
    pool =
        ShardedPool.builder(vertx)
            .rules(rules)
            .dataSources(dbs.dataSources("ds_"), new PoolOptions().setMaxSize(4))
            .transactionManager(p -> Transactions.create(vertx, p, XaFixture.options().build()))
            .build();
    transactions = Transactions.of(pool);
    await(transactions.installSchema());
    fx.resetAccounts(10, 100);
    // first parse of the statements off the event loop (JSqlParser's warm-up is slow)
    await(pool.withTransaction(conn -> transfer(conn, "warm-up", 1, 2, 0)));
  }

  @AfterAll
  static void tearDown() throws Exception {
    await(pool.close());
    await(vertx.close());
    fx.close();
  }

  @BeforeEach
  void reset() {
    fx.resetAccounts(10, 100);
  }

  @Test
  void aTransferAcrossTwoShardsCommitsOnBothWithADurableDecision() throws Exception {
    AtomicReference<String> globalId = new AtomicReference<>();
    await(
        pool.withTransaction(
            conn -> {
              globalId.set(TxScope.current().map(TxContext::globalId).orElse(null));
              return transfer(conn, "t1", 1, 2, 30);
            }));
    assertThat(fx.balance(1)).isEqualTo(70);
    assertThat(fx.balance(2)).isEqualTo(130);
    // the id the work saw is the XA transaction's: the decision row is under it
    assertThat(globalId.get()).isNotNull();
    assertThat(await(transactions.decision(globalId.get()))).contains(Decision.COMMIT);
    assertThat(fx.preparedBranchesEverywhere()).isZero();
  }

  @Test
  void aFailureAfterTheFirstShardWroteLeavesBothShardsUnchanged() throws Exception {
    IllegalStateException refusal = new IllegalStateException("insufficient funds");
    Throwable failure =
        failure(
            pool.withTransaction(
                conn ->
                    conn.preparedQuery("UPDATE account SET balance = balance - 30 WHERE id = ?")
                        .execute(io.vertx.sqlclient.Tuple.of(1))
                        .compose(
                            rs ->
                                conn.preparedQuery(
                                        "UPDATE account SET balance = balance + 30 WHERE id = ?")
                                    .execute(io.vertx.sqlclient.Tuple.of(2)))
                        .compose(rs -> Future.failedFuture(refusal))));
    assertThat(failure).isSameAs(refusal); // the caller gets its own failure, as on a plain pool
    assertThat(fx.balance(1)).isEqualTo(100);
    assertThat(fx.balance(2)).isEqualTo(100);
    assertThat(fx.preparedBranchesEverywhere()).isZero();
  }

  @Test
  void sqlTemplateRunsInsideTheTransaction() throws Exception {
    await(
        pool.withTransaction(
            conn ->
                SqlTemplate.forUpdate(
                        conn, "UPDATE account SET balance = balance - #{amount} WHERE id = #{id}")
                    .execute(Map.of("amount", 5, "id", 3))
                    .compose(
                        r ->
                            SqlTemplate.forUpdate(
                                    conn,
                                    "UPDATE account SET balance = balance + #{amount}"
                                        + " WHERE id = #{id}")
                                .execute(Map.of("amount", 5, "id", 4)))));
    assertThat(fx.balance(3)).isEqualTo(95);
    assertThat(fx.balance(4)).isEqualTo(105);
  }

  @Test
  void getConnectionBeginRollbackUndoesEveryShard() throws Exception {
    SqlConnection conn = await(pool.getConnection());
    try {
      io.vertx.sqlclient.Transaction tx = await(conn.begin());
      await(transfer(conn, "t2", 5, 6, 40));
      assertThat(fx.balance(5)).isEqualTo(100); // not visible before the end
      await(tx.rollback());
    } finally {
      await(conn.close());
    }
    assertThat(fx.balance(5)).isEqualTo(100);
    assertThat(fx.balance(6)).isEqualTo(100);
    assertThat(fx.preparedBranchesEverywhere()).isZero();
  }

  @Test
  void theDeadlineRollsBackEveryShard() throws Exception {
    Throwable failure =
        failure(
            pool.withTransaction(
                Duration.ofMillis(500),
                conn -> transfer(conn, "t3", 7, 8, 10).compose(v -> Future.<Void>future(p -> {}))));
    assertThat(failure).isInstanceOf(io.shardkit.context.ShardkitTimeoutException.class);
    // the rollback may still be running in the background: wait until no branch is left
    long end = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while ((fx.balance(7) != 100 || fx.preparedBranchesEverywhere() != 0)
        && System.nanoTime() < end) {
      Thread.sleep(50);
    }
    assertThat(fx.balance(7)).isEqualTo(100);
    assertThat(fx.balance(8)).isEqualTo(100);
    assertThat(fx.preparedBranchesEverywhere()).isZero();
  }

  @Test
  void aPoolWithoutTheManagerSaysHowToGetOne() {
    Pool plain = pool; // the type users hand around
    assertThat(plain).isInstanceOf(ShardedPool.class);
    ShardedPool without =
        ShardedPool.builder(vertx)
            .rules(pool.rules())
            .dataSources(dbs.dataSources("ds_"), new PoolOptions().setMaxSize(1))
            .build();
    try {
      assertThatThrownBy(() -> Transactions.of(without))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("transactionManager");
    } finally {
      without.close();
    }
  }

  @Test
  void aLogDataSourcePoolTooSmallForRecoveryIsRefusedAtStartNamingIt() {
    // the coordinator keeps two of the log data source's connections for decisions: with a pool
    // of two, recovery could never read a decision; refused when the manager is built
    for (int size : new int[] {1, 2}) {
      assertThatThrownBy(
              () ->
                  ShardedPool.builder(vertx)
                      .rules(pool.rules())
                      .dataSources(dbs.dataSources("ds_"), new PoolOptions().setMaxSize(size))
                      .transactionManager(
                          p -> Transactions.create(vertx, p, TransactionsOptions.of("ds_0")))
                      .build())
          .isInstanceOf(io.shardkit.context.ConfigurationException.class)
          .hasMessageContaining("logDataSource")
          .hasMessageContaining("'ds_0' has maxSize " + size)
          .hasMessageContaining("maxSize 3 or more");
    }
  }
}
