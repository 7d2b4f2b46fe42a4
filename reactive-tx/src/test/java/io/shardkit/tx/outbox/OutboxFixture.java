package io.shardkit.tx.outbox;

import io.shardkit.router.ShardedPool;
import io.shardkit.router.ShardingRules;
import io.shardkit.testkit.ShardDatabases;
import io.shardkit.tx.Transactions;
import io.shardkit.tx.TransactionsOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.mysqlclient.MySQLConnectOptions;
import io.vertx.sqlclient.PoolOptions;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Two shards: {@code account} and {@code account_view} by {@code id mod n}, the outbox by {@code
 * aggregate_key mod n} (so a message about account k lands on k's shard), the inbox by {@code
 * shard_key mod n}.
 */
final class OutboxFixture {

  private OutboxFixture() {}

  static Vertx vertx() {
    return Vertx.vertx(
        new VertxOptions()
            .setMaxEventLoopExecuteTime(200)
            .setMaxEventLoopExecuteTimeUnit(TimeUnit.MILLISECONDS));
  }

  static ShardingRules rules(int n) {
    String range = "${0.." + (n - 1) + "}";
    return ShardingRules.builder()
        .table(
            "account", t -> t.dataNodes("ds_" + range + ".account").databaseStrategy("id", "mod"))
        .table(
            "account_view",
            t -> t.dataNodes("ds_" + range + ".account_view").databaseStrategy("id", "mod"))
        .table(
            "shardkit_outbox",
            t ->
                t.dataNodes("ds_" + range + ".shardkit_outbox")
                    .databaseStrategy("aggregate_key", "mod"))
        .table(
            "shardkit_inbox",
            t ->
                t.dataNodes("ds_" + range + ".shardkit_inbox").databaseStrategy("shard_key", "mod"))
        .build();
  }

  static ShardedPool pool(Vertx vertx, Map<String, MySQLConnectOptions> dataSources) {
    return ShardedPool.builder(vertx)
        .rules(rules(dataSources.size()))
        .dataSources(dataSources, new PoolOptions().setMaxSize(8))
        .transactionManager(p -> Transactions.create(vertx, p, TransactionsOptions.of("ds_0")))
        .build();
  }

  static void createTables(ShardDatabases databases) {
    databases.executeOnAll(
        "CREATE TABLE account (id BIGINT PRIMARY KEY, balance BIGINT NOT NULL,"
            + " version BIGINT NOT NULL DEFAULT 0)",
        "CREATE TABLE account_view (id BIGINT PRIMARY KEY, last_seq BIGINT NOT NULL,"
            + " applied BIGINT NOT NULL)");
  }

  static <T> T await(Future<T> future) throws Exception {
    try {
      return future.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw new AssertionError("expected success, got " + e.getCause(), e.getCause());
    }
  }

  static Throwable awaitFailure(Future<?> future) throws Exception {
    try {
      Object v = future.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
      throw new AssertionError("expected a failure, got " + v);
    } catch (ExecutionException e) {
      return e.getCause();
    }
  }

  static boolean eventually(Duration timeout, BooleanSupplier condition) throws Exception {
    long end = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < end) {
      if (condition.getAsBoolean()) {
        return true;
      }
      Thread.sleep(20);
    }
    return condition.getAsBoolean();
  }

  static long count(ShardDatabases databases, int shard, String sql) {
    return Long.parseLong(String.valueOf(databases.get(shard).query(sql).get(0).getValue("n")));
  }
}
