package io.shardkit.examples;

import io.shardkit.router.ShardedPool;
import io.shardkit.router.ShardingRules;
import io.shardkit.router.UnsupportedSqlException;
import io.shardkit.testkit.ShardDatabases;
import io.shardkit.testkit.TestShards;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A tour of the router: rules from JSON, DDL and inserts through a ShardedPool, a point read, a
 * scatter GROUP BY, a streamed ORDER BY and a refused statement. Run with {@code mvn -pl examples
 * -am compile exec:java -Dexec.mainClass=io.shardkit.examples.RouterTour}.
 */
public final class RouterTour {

  private RouterTour() {}

  static final String RULES =
      """
      {
        "tables": {
          "t_order": {
            "dataNodes": "ds_${0..1}.t_order_${0..3}",
            "databaseStrategy": {"column": "user_id", "algorithm": {"type": "mod"}},
            "tableStrategy": {"column": "order_id", "algorithm": {"type": "hash-mod"}},
            "keyGenerator": {"column": "order_id", "type": "snowflake", "props": {"workerId": 1}}
          }
        },
        "broadcastTables": ["t_status"]
      }
      """;

  public static void main(String[] args) throws Exception {
    // Private shards, closed at the end with the pool and Vert.x: the program then ends by itself.
    try (TestShards shards = TestShards.start(2)) {
      tour(shards);
    }
    System.out.println("router tour: done");
  }

  static void tour(TestShards shards) throws Exception {
    Vertx vertx = Vertx.vertx();
    ShardDatabases databases = shards.createDatabases("tour", 2);
    ShardingRules rules = ShardingRules.fromJson(new JsonObject(RULES));
    ShardedPool pool =
        ShardedPool.builder(vertx)
            .rules(rules)
            .dataSources(databases.dataSources("ds_"), new PoolOptions().setMaxSize(4))
            // the batch below writes to both data sources outside a transaction: without a
            // transaction manager (reactive-tx) that is refused unless opted in, accepting that a
            // failure
            // on one data source leaves the other's rows written (see the router README)
            .nonAtomicMultiNodeWrites(true)
            .build();
    try {
      await(
          pool.query("CREATE TABLE t_order (order_id BIGINT PRIMARY KEY, user_id INT, amount INT)")
              .execute());
      List<Tuple> rows = new ArrayList<>();
      for (int i = 0; i < 20; i++) {
        rows.add(Tuple.of(i % 5, 10 * i));
      }
      await(
          pool.preparedQuery("INSERT INTO t_order (user_id, amount) VALUES (?, ?)")
              .executeBatch(rows));
      for (Row r :
          await(
              pool.query(
                      "SELECT user_id, COUNT(*) n, SUM(amount) total FROM t_order GROUP BY user_id")
                  .execute())) {
        System.out.println(
            "user "
                + r.getInteger("user_id")
                + ": "
                + r.getLong("n")
                + " orders, "
                + r.getValue("total"));
      }
      Row any =
          await(
                  pool.query("SELECT order_id, user_id FROM t_order ORDER BY order_id LIMIT 1")
                      .execute())
              .iterator()
              .next();
      long orderId = any.getLong(0);
      int userId = any.getInteger(1);
      System.out.println(
          "order "
              + orderId
              + " lives in "
              + rules.nodeFor("t_order", java.util.Map.of("user_id", userId, "order_id", orderId)));
      System.out.println(
          "a point read touches "
              + pool.dataSourcesFor(
                  "SELECT * FROM t_order WHERE user_id = ? AND order_id = ?",
                  Tuple.of(userId, orderId)));
      Promise<Integer> streamed = Promise.promise();
      pool.stream("SELECT order_id, amount FROM t_order ORDER BY amount DESC", Tuple.tuple(), 4)
          .onSuccess(
              stream -> {
                int[] count = {0};
                stream
                    .handler(r -> count[0]++)
                    .exceptionHandler(streamed::fail)
                    .endHandler(v -> streamed.complete(count[0]));
              })
          .onFailure(streamed::fail);
      System.out.println("streamed " + await(streamed.future()) + " rows in amount order");
      await(
          pool.query("SELECT * FROM t_order o JOIN t_order x ON o.amount = x.user_id")
              .execute()
              .recover(
                  e -> {
                    System.out.println(
                        "refused before any I/O: "
                            + (e instanceof UnsupportedSqlException)
                            + " - "
                            + e.getMessage());
                    return Future.succeededFuture();
                  }));
    } finally {
      await(pool.close());
      databases.close();
      await(vertx.close());
    }
  }

  private static <T> T await(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }
}
