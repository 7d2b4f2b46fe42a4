package io.shardkit.tx.tcc;

import static io.shardkit.tx.tcc.TccTestSupport.await;
import static io.shardkit.tx.tcc.TccTestSupport.awaitFailure;
import static org.assertj.core.api.Assertions.assertThat;

import io.shardkit.router.ShardOverloadedException;
import io.shardkit.router.ShardedPool;
import io.shardkit.testkit.ShardDatabases;
import io.shardkit.testkit.Shards;
import io.shardkit.tx.TccOptions;
import io.shardkit.tx.TransactionOptions;
import io.shardkit.tx.TransactionRolledBackException;
import io.shardkit.tx.Transactions;
import io.shardkit.tx.TransactionsOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A step of an admitted transaction that meets a full wait queue on a participant's pool: the
 * statement is refused at once by the pool and the caller hears a typed outcome naming the data
 * source ({@link ShardOverloadedException}: XA's work fails with it, as {@code
 * Pool.withTransaction} does; TCC's rollback names it as the branch's cause), never the driver's
 * exception, and nothing is applied. {@code ds_1}'s pool has 1 connection and room for 1 waiter;
 * both are taken by sleeping statements for real.
 */
@Shards(2)
class WaitQueueRefusalTest {

  static final TccOptions OPTIONS =
      TccOptions.builder().tablePrefix("wq_t").logDataSource("ds_0").build();

  static Vertx vertx;
  static ShardedPool pool;
  static ShardDatabases databases;
  static Transactions transactions;
  static Bank bank;

  @BeforeAll
  static void start(ShardDatabases dbs) throws Exception {
    databases = dbs;
    Bank.reset(dbs, OPTIONS);
    vertx = TccTestSupport.vertx();
    var sources = dbs.dataSources("ds_");
    pool =
        ShardedPool.builder(vertx)
            .rules(TccTestSupport.rules(2))
            .dataSource("ds_0", sources.get("ds_0"), new PoolOptions().setMaxSize(8))
            .dataSource(
                "ds_1", sources.get("ds_1"), new PoolOptions().setMaxSize(1).setMaxWaitQueueSize(1))
            .transactionManager(
                p ->
                    Transactions.create(
                        vertx,
                        p,
                        TransactionsOptions.builder("ds_0")
                            .tablePrefix("wq_t")
                            .tcc(OPTIONS)
                            .build()))
            .build();
    TccTestSupport.warmUp(pool);
    bank = new Bank();
    transactions = Transactions.of(pool);
    transactions.register(bank.debit).register(bank.credit);
    await(transactions.installSchema());
    await(transactions.warmUp());
  }

  @AfterAll
  static void stop() throws Exception {
    await(transactions.close());
    await(pool.close());
    TccTestSupport.close(vertx);
  }

  @BeforeEach
  void reset() {
    databases.executeOnAll("DELETE FROM account", "DELETE FROM " + OPTIONS.fenceTable());
    Bank.open(databases, 10, 100);
  }

  /** Takes ds_1's one connection and its one waiting place for {@code seconds}. */
  static List<Future<?>> saturateDs1(double seconds) {
    io.vertx.sqlclient.Pool ds1 = pool.pool("ds_1");
    return List.of(
        ds1.query("SELECT SLEEP(" + seconds + ")").execute(),
        ds1.query("SELECT SLEEP(" + seconds + ")").execute());
  }

  static void assertOverloadedOnDs1(Throwable actual) {
    Throwable overloaded = actual;
    while (overloaded != null && !(overloaded instanceof ShardOverloadedException)) {
      overloaded = overloaded.getCause();
    }
    assertThat(overloaded)
        .as("a ShardOverloadedException in %s", actual)
        .isInstanceOfSatisfying(
            ShardOverloadedException.class, o -> assertThat(o.dataSource()).isEqualTo("ds_1"));
  }

  @Test
  void anXaStatementRefusedByAFullWaitQueueRollsBackWithTheTypedRefusal() throws Exception {
    List<Future<?>> busy = saturateDs1(1.0);
    Thread.sleep(100); // the sleeps hold the connection and the queue
    long start = System.nanoTime();
    Throwable actual =
        awaitFailure(
            pool.withTransaction(
                Duration.ofSeconds(5),
                conn ->
                    conn.preparedQuery("UPDATE account SET balance = balance - 1 WHERE id = ?")
                        .execute(Tuple.of(0L)) // ds_0: enlisted
                        .compose(
                            rs ->
                                conn.preparedQuery(
                                        "UPDATE account SET balance = balance + 1 WHERE id = ?")
                                    .execute(Tuple.of(1L))))); // ds_1: refused
    long tookMs = (System.nanoTime() - start) / 1_000_000;
    System.out.printf("xa step refused by a full wait queue in %d ms: %s%n", tookMs, actual);
    assertThat(actual).isInstanceOf(ShardOverloadedException.class);
    assertOverloadedOnDs1(actual);
    assertThat(tookMs).as("refused at once, not after the 1 s sleeps").isLessThan(800);
    Future.join(busy).toCompletionStage().toCompletableFuture().get();
    assertThat(Bank.account(databases, 0)[0]).isEqualTo(100);
    assertThat(Bank.account(databases, 1)[0]).isEqualTo(100);
  }

  @Test
  void aTccTryRefusedByAFullWaitQueueIsCancelledWithTheTypedRefusal() throws Exception {
    List<Future<?>> busy = saturateDs1(1.0);
    Thread.sleep(100);
    Throwable actual =
        awaitFailure(
            transactions.<Void>tcc(
                TransactionOptions.ofTimeout(Duration.ofSeconds(10)),
                tx -> bank.transfer(tx, 0, 1, 5))); // the credit's try runs on ds_1
    System.out.printf("tcc try refused by a full wait queue: %s%n", actual);
    assertOverloadedOnDs1(
        TransactionRolledBackException.of(actual).map(Throwable.class::cast).orElse(actual));
    Future.join(busy).toCompletionStage().toCompletableFuture().get();
    // cancelled: nothing frozen, nothing incoming, balances as opened
    assertThat(
            TccTestSupport.eventually(
                Duration.ofSeconds(10),
                () -> java.util.Arrays.equals(Bank.totals(databases), new long[] {1000, 0, 0})))
        .isTrue();
  }
}
