package io.shardkit.tx.impl.xa;

import io.shardkit.router.ShardedPool;
import io.shardkit.router.ShardingRules;
import io.shardkit.testkit.ShardDatabases;
import io.shardkit.tx.Transactions;
import io.shardkit.tx.TransactionsOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.PoolOptions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Shared set-up of the XA tests: an {@code account} table sharded by id over every data source
 * ({@code id mod n}), a broadcast table {@code t_config}, a ShardedPool and a {@link
 * XaTransactionsImpl} whose log lives on {@code ds_0}.
 */
final class XaFixture implements AutoCloseable {

  static final String ACCOUNT_DDL =
      "CREATE TABLE account (id BIGINT PRIMARY KEY, balance BIGINT NOT NULL) ENGINE=InnoDB";
  static final String TRANSFER_DDL =
      "CREATE TABLE transfer (tid VARCHAR(40) NOT NULL, account BIGINT NOT NULL,"
          + " delta BIGINT NOT NULL, PRIMARY KEY (tid, account)) ENGINE=InnoDB";
  static final String CONFIG_DDL =
      "CREATE TABLE t_config (k VARCHAR(32) PRIMARY KEY, v VARCHAR(64)) ENGINE=InnoDB";

  final Vertx vertx;
  final ShardDatabases dbs;
  final ShardedPool pool;
  final Transactions transactions;
  final XaTransactionsImpl tx;

  XaFixture(ShardDatabases dbs, TransactionsOptions.Builder options, int poolSize) {
    this(dbs, options, poolSize, 1);
  }

  /** With options already built (e.g. read from JSON). */
  XaFixture(ShardDatabases dbs, TransactionsOptions options, int poolSize) {
    this(dbs, () -> options, poolSize, 1);
  }

  /** With {@code pipelining} as the connections' pipelining limit (Vert.x's default is 1). */
  XaFixture(ShardDatabases dbs, TransactionsOptions.Builder options, int poolSize, int pipelining) {
    this(dbs, options::build, poolSize, pipelining);
  }

  private XaFixture(
      ShardDatabases dbs,
      java.util.function.Supplier<TransactionsOptions> options,
      int poolSize,
      int pipelining) {
    this.dbs = dbs;
    this.vertx =
        Vertx.vertx(
            new VertxOptions()
                .setBlockedThreadCheckInterval(200)
                .setMaxEventLoopExecuteTime(200)
                .setMaxEventLoopExecuteTimeUnit(TimeUnit.MILLISECONDS));
    int n = dbs.size();
    ShardingRules rules = rules(n);
    this.pool =
        ShardedPool.builder(vertx)
            .rules(rules)
            .dataSources(withPipelining(dbs, pipelining), new PoolOptions().setMaxSize(poolSize))
            .transactionManager(p -> Transactions.create(vertx, p, options.get()))
            .build();
    this.transactions = Transactions.of(pool);
    this.tx = ((io.shardkit.tx.impl.TransactionsImpl) transactions).xa();
  }

  /**
   * {@code account} and {@code transfer} sharded by account id mod n, {@code t_config} broadcast.
   */
  static ShardingRules rules(int n) {
    return ShardingRules.builder()
        .table(
            "account",
            t -> t.dataNodes("ds_${0.." + (n - 1) + "}.account").databaseStrategy("id", "mod"))
        .table(
            "transfer",
            t ->
                t.dataNodes("ds_${0.." + (n - 1) + "}.transfer").databaseStrategy("account", "mod"))
        .broadcastTables("t_config")
        .build();
  }

  private static java.util.Map<String, io.vertx.mysqlclient.MySQLConnectOptions> withPipelining(
      ShardDatabases dbs, int pipelining) {
    java.util.Map<String, io.vertx.mysqlclient.MySQLConnectOptions> out =
        new java.util.LinkedHashMap<>();
    dbs.dataSources("ds_")
        .forEach(
            (name, o) ->
                out.put(
                    name,
                    new io.vertx.mysqlclient.MySQLConnectOptions(o)
                        .setPipeliningLimit(pipelining)));
    return out;
  }

  /** The shards' data sources as JSON, for a child JVM ({@link #childJvm}). */
  static String dataSourcesJson(ShardDatabases dbs) {
    JsonObject sources = new JsonObject();
    dbs.dataSources("ds_").forEach((name, options) -> sources.put(name, options.toJson()));
    return sources.encode();
  }

  /** Reads {@link #dataSourcesJson} back, in a child JVM's main. */
  static java.util.Map<String, io.vertx.mysqlclient.MySQLConnectOptions> dataSources(String json) {
    java.util.Map<String, io.vertx.mysqlclient.MySQLConnectOptions> out =
        new java.util.LinkedHashMap<>();
    new JsonObject(json)
        .forEach(
            e ->
                out.put(
                    e.getKey(),
                    new io.vertx.mysqlclient.MySQLConnectOptions((JsonObject) e.getValue())));
    return out;
  }

  /**
   * A JVM running {@code main} with this test's class path and {@code args}; its stderr appended to
   * a temporary file named after {@code main}.
   */
  static ProcessBuilder childJvm(Class<?> main, List<String> args) throws java.io.IOException {
    List<String> command = new java.util.ArrayList<>();
    command.add(java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(main.getName());
    command.addAll(args);
    java.nio.file.Path log = java.nio.file.Files.createTempFile(main.getSimpleName(), ".log");
    return new ProcessBuilder(command)
        .redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()));
  }

  /** Default options for fault tests: short grace and rollback timeout. */
  static TransactionsOptions.Builder options() {
    return TransactionsOptions.builder("ds_0")
        .recoveryGrace(Duration.ofMillis(300))
        .rollbackTimeout(Duration.ofSeconds(1))
        .logRetention(Duration.ofMinutes(5));
  }

  /** A second app instance on the same shards (own Vert.x, pool and coordinator). */
  XaFixture another(TransactionsOptions.Builder options) {
    return new XaFixture(dbs, options, 4);
  }

  /**
   * Creates the tables of a test class, which starts with no shardkit branch prepared on its
   * servers: a branch an earlier class left (its pools closed, so it can be finished once the
   * servers have seen the closes) would be counted by this class's server-wide {@code XA RECOVER}.
   */
  static void createTables(ShardDatabases dbs) {
    long until = System.nanoTime() + 10_000_000_000L;
    while (drain(dbs) > 0 && System.nanoTime() < until) {
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
    dbs.executeOnAll(ACCOUNT_DDL, TRANSFER_DDL, CONFIG_DDL);
  }

  /** Resets accounts 1..count to {@code balance} each. */
  void resetAccounts(int count, long balance) {
    for (int i = 0; i < dbs.size(); i++) {
      dbs.get(i).execute("DELETE FROM account", "DELETE FROM transfer", "DELETE FROM t_config");
    }
    StringBuilder[] inserts = new StringBuilder[dbs.size()];
    for (long id = 1; id <= count; id++) {
      int shard = (int) (id % dbs.size());
      if (inserts[shard] == null) {
        inserts[shard] = new StringBuilder("INSERT INTO account VALUES ");
      } else {
        inserts[shard].append(", ");
      }
      inserts[shard].append('(').append(id).append(", ").append(balance).append(')');
    }
    for (int i = 0; i < inserts.length; i++) {
      if (inserts[i] != null) {
        dbs.get(i).execute(inserts[i].toString());
      }
    }
  }

  long balance(long id) {
    List<JsonObject> rows =
        dbs.get((int) (id % dbs.size())).query("SELECT balance FROM account WHERE id = " + id);
    return rows.get(0).getLong("balance");
  }

  long totalBalance() {
    long sum = 0;
    for (int i = 0; i < dbs.size(); i++) {
      List<JsonObject> rows =
          dbs.get(i).query("SELECT COALESCE(SUM(balance), 0) AS s FROM account");
      sum += Long.parseLong(String.valueOf(rows.get(0).getValue("s")));
    }
    return sum;
  }

  /** shardkit XA branches the server of shard {@code i} holds prepared. */
  int preparedBranches(int i) {
    int count = 0;
    for (JsonObject row : dbs.get(i).shard().query(null, "XA RECOVER")) {
      if (Xid.isShardkit(row.getInteger("formatID"))) {
        count++;
      }
    }
    return count;
  }

  int preparedBranchesEverywhere() {
    int sum = 0;
    for (int i = 0; i < dbs.size(); i++) {
      if (dbs.get(i).shard().isRunning() && !dbs.get(i).shard().isPaused()) {
        sum += preparedBranches(i);
      }
    }
    return sum;
  }

  /** XA decision rows: in the coordinator log on ds_0 and on every participant. */
  int logRows() {
    int rows =
        dbs.get(0)
            .query("SELECT COUNT(*) AS c FROM shardkit_tx WHERE protocol = 'XA'")
            .get(0)
            .getInteger("c");
    for (int i = 0; i < dbs.size(); i++) {
      boolean created =
          !dbs.get(i)
              .query(
                  "SELECT 1 FROM information_schema.tables WHERE table_schema = DATABASE()"
                      + " AND table_name = 'shardkit_xa_decision'")
              .isEmpty();
      if (created) { // only where decisions on participants are on
        rows +=
            dbs.get(i)
                .query("SELECT COUNT(*) AS c FROM shardkit_xa_decision")
                .get(0)
                .getInteger("c");
      }
    }
    return rows;
  }

  /** The transfer: debit {@code from}, credit {@code to}, recording the transfer on both. */
  static Future<Void> transfer(
      io.vertx.sqlclient.SqlClient sql, String tid, long from, long to, long amount) {
    return sql.preparedQuery("UPDATE account SET balance = balance - ? WHERE id = ?")
        .execute(io.vertx.sqlclient.Tuple.of(amount, from))
        .compose(
            rs ->
                rs.rowCount() == 1
                    ? Future.succeededFuture()
                    : Future.failedFuture(new IllegalStateException("no account " + from)))
        .compose(
            v ->
                sql.preparedQuery("UPDATE account SET balance = balance + ? WHERE id = ?")
                    .execute(io.vertx.sqlclient.Tuple.of(amount, to)))
        .compose(
            rs ->
                rs.rowCount() == 1
                    ? Future.succeededFuture()
                    : Future.failedFuture(new IllegalStateException("no account " + to)))
        .compose(
            v ->
                sql.preparedQuery("INSERT INTO transfer (tid, account, delta) VALUES (?, ?, ?)")
                    .executeBatch(
                        List.of(
                            io.vertx.sqlclient.Tuple.of(tid, from, -amount),
                            io.vertx.sqlclient.Tuple.of(tid, to, amount))))
        .mapEmpty();
  }

  static <T> T await(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }

  static Throwable failure(Future<?> future) throws Exception {
    try {
      await(future);
    } catch (java.util.concurrent.ExecutionException e) {
      return e.getCause();
    }
    throw new AssertionError("expected a failure, got success");
  }

  /**
   * Test hygiene: rolls back any shardkit branch a failed test left prepared (XA RECOVER is
   * server-wide and the shards are shared by the test classes), so one failure does not cascade. A
   * branch still attached to an open connection (1397 until the server has seen it close) is left.
   *
   * @return how many shardkit branches are left prepared
   */
  int drain() {
    return drain(dbs);
  }

  private static int drain(ShardDatabases dbs) {
    int left = 0;
    for (int i = 0; i < dbs.size(); i++) {
      var shard = dbs.get(i).shard();
      if (!shard.isRunning() || shard.isPaused()) {
        continue;
      }
      for (JsonObject row : shard.query(null, "XA RECOVER")) {
        if (Xid.isShardkit(row.getInteger("formatID"))) {
          byte[] data = row.getBinary("data");
          String hex = java.util.HexFormat.of().formatHex(data);
          int g = row.getInteger("gtrid_length") * 2;
          try {
            shard.execute(
                null,
                "XA ROLLBACK X'"
                    + hex.substring(0, g)
                    + "',X'"
                    + hex.substring(g)
                    + "',"
                    + row.getInteger("formatID"));
          } catch (RuntimeException stillAttached) {
            left++;
          }
        }
      }
    }
    return left;
  }

  @Override
  public void close() throws Exception {
    drain();
    await(transactions.close());
    await(pool.close());
    await(vertx.close());
  }
}
