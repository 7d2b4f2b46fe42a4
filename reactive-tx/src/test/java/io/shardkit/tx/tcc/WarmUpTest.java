package io.shardkit.tx.tcc;

import static io.shardkit.tx.tcc.TccTestSupport.await;
import static io.shardkit.tx.tcc.TccTestSupport.awaitFailure;
import static org.assertj.core.api.Assertions.assertThat;

import io.shardkit.context.ConfigurationException;
import io.shardkit.context.junit.LeakGuardExtension;
import io.shardkit.router.ShardedPool;
import io.shardkit.testkit.ShardDatabases;
import io.shardkit.testkit.ShardProxy;
import io.shardkit.testkit.Shards;
import io.shardkit.tx.TccOptions;
import io.shardkit.tx.TransactionOptions;
import io.shardkit.tx.Transactions;
import io.shardkit.tx.TransactionsOptions;
import io.vertx.core.Vertx;
import io.vertx.mysqlclient.MySQLConnectOptions;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@code Transactions.warmUp()}: a freshly built pool and manager, warmed up, run their first XA
 * and first TCC transaction within a tight deadline without opening a single connection (counted on
 * a TCP proxy in front of each shard); a cold one opens them inside its first transaction; a
 * missing table is named before any transaction.
 */
@Shards(2)
@ExtendWith(LeakGuardExtension.class)
class WarmUpTest {

  static final TccOptions OPTIONS = TccOptions.builder().tablePrefix("warm").build();
  static final Duration TIGHT = Duration.ofMillis(500);
  static final String DEBIT = "UPDATE account SET balance = balance - ? WHERE id = ?";
  static final String CREDIT = "UPDATE account SET balance = balance + ? WHERE id = ?";

  static ShardDatabases databases;
  static final List<ShardProxy> proxies = new ArrayList<>();
  static Map<String, MySQLConnectOptions> dataSources;

  @BeforeAll
  static void schema(ShardDatabases dbs) throws Exception {
    databases = dbs;
    Bank.reset(dbs, OPTIONS);
    dbs.executeOnAll("DROP TABLE IF EXISTS warm_xa_lease");
    Bank.open(dbs, 2, 1_000);
    dataSources = new LinkedHashMap<>();
    for (int i = 0; i < dbs.size(); i++) {
      ShardProxy proxy = dbs.get(i).shard().openProxy();
      proxies.add(proxy);
      dataSources.put("ds_" + i, proxy.connectOptions(dbs.get(i).database()));
    }
    Instance installer = new Instance();
    await(installer.transactions.installSchema());
    installer.close();
  }

  @AfterAll
  static void closeProxies() {
    proxies.forEach(ShardProxy::close);
  }

  /** A fresh application instance: its own Vert.x, pool (through the proxies) and manager. */
  static final class Instance {
    final Vertx vertx = TccTestSupport.vertx();
    final ShardedPool pool;
    final Transactions transactions;
    final Bank bank = new Bank();

    Instance() {
      this(TransactionsOptions.builder("ds_0").tablePrefix("warm").tcc(OPTIONS).build());
    }

    Instance(TransactionsOptions options) {
      pool =
          ShardedPool.builder(vertx)
              .rules(TccTestSupport.rules(2))
              .dataSources(dataSources, new PoolOptions().setMaxSize(4))
              .transactionManager(p -> Transactions.create(vertx, p, options))
              .build();
      TccTestSupport.warmUp(pool); // the router parses the statements once, on this thread
      pool.dataSourcesFor(DEBIT, Tuple.of(1L, 1L));
      transactions = Transactions.of(pool).register(bank.debit).register(bank.credit);
    }

    void close() throws Exception {
      await(transactions.close());
      await(pool.close());
      TccTestSupport.close(vertx);
    }
  }

  /** Proxy counts before an instance: the connections of the previous one are closed (async). */
  static int[] quiet() throws Exception {
    TccTestSupport.eventually(
        Duration.ofSeconds(5), () -> java.util.Arrays.stream(openConnections()).sum() == 0);
    return openConnections();
  }

  static int[] openConnections() {
    int[] open = new int[proxies.size()];
    for (int i = 0; i < open.length; i++) {
      open[i] = proxies.get(i).openConnections();
    }
    return open;
  }

  /** XA transfer between account 0 (ds_0) and account 1 (ds_1): two shards, two phases. */
  static io.vertx.core.Future<Void> xa(Instance at, Duration timeout) {
    return at.pool.withTransaction(
        timeout,
        sql ->
            sql.preparedQuery(DEBIT)
                .execute(Tuple.of(1L, 0L))
                .compose(rs -> sql.preparedQuery(CREDIT).execute(Tuple.of(1L, 1L)))
                .mapEmpty());
  }

  @Test
  void aWarmedUpInstanceRunsItsFirstTransactionsWithinATightDeadlineOpeningNoConnection()
      throws Exception {
    int[] before = quiet();
    Instance fresh = new Instance();
    try {
      await(fresh.transactions.warmUp());
      int[] warmed = openConnections();
      // (the router may read its schema metadata on one more pooled connection meanwhile)
      assertThat(warmed[0] - before[0])
          .as("ds_0 (log): a pooled connection and the two kept for decisions")
          .isGreaterThanOrEqualTo(3);
      assertThat(warmed[1] - before[1]).as("ds_1: a pooled connection").isGreaterThanOrEqualTo(1);

      long t0 = System.nanoTime();
      await(xa(fresh, TIGHT));
      long xaMillis = (System.nanoTime() - t0) / 1_000_000;
      assertThat(openConnections()).as("connections opened by the first XA").isEqualTo(warmed);

      long t1 = System.nanoTime();
      await(
          fresh.transactions.tcc(
              TransactionOptions.ofTimeout(TIGHT), tx -> fresh.bank.transfer(tx, 0, 1, 1)));
      long tccMillis = (System.nanoTime() - t1) / 1_000_000;
      assertThat(openConnections()).as("connections opened by the first TCC").isEqualTo(warmed);
      long t2 = System.nanoTime();
      await(
          fresh.transactions.tcc(
              TransactionOptions.ofTimeout(TIGHT), tx -> fresh.bank.transfer(tx, 1, 0, 1)));
      long secondTccMillis = (System.nanoTime() - t2) / 1_000_000;
      System.out.printf(
          "warmed up (%d + %d connections): first XA transaction %d ms, first TCC %d ms (second"
              + " %d ms; deadline %d ms), no connection opened%n",
          warmed[0] - before[0],
          warmed[1] - before[1],
          xaMillis,
          tccMillis,
          secondTccMillis,
          TIGHT.toMillis());
    } finally {
      fresh.close();
    }
  }

  @Test
  void aColdInstanceOpensItsConnectionsInsideItsFirstTransaction() throws Exception {
    int[] before = quiet();
    Instance cold = new Instance();
    try {
      long t0 = System.nanoTime();
      await(xa(cold, Duration.ofSeconds(5)));
      long millis = (System.nanoTime() - t0) / 1_000_000;
      int[] after = openConnections();
      System.out.printf(
          "cold: first XA transaction %d ms, opening %d + %d connections inside it%n",
          millis, after[0] - before[0], after[1] - before[1]);
      assertThat(after[0] - before[0]).isGreaterThanOrEqualTo(3);
      assertThat(after[1] - before[1]).isGreaterThanOrEqualTo(1);
    } finally {
      cold.close();
    }
  }

  @Test
  void aMissingTableIsNamedBeforeAnyTransaction() throws Exception {
    Instance wrong =
        new Instance(
            TransactionsOptions.builder("ds_0")
                .tablePrefix("nowhere")
                .tcc(OPTIONS.toBuilder().tablePrefix("nowhere").build())
                .build());
    try {
      Throwable failure = awaitFailure(wrong.transactions.warmUp());
      assertThat(failure)
          .isInstanceOf(ConfigurationException.class)
          .hasMessageContaining("nowhere_")
          .hasMessageContaining("installSchema()");
    } finally {
      wrong.close();
    }
  }
}
