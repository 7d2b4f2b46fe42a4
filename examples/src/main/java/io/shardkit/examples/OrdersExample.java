package io.shardkit.examples;

import io.shardkit.router.DataNode;
import io.shardkit.router.ShardedPool;
import io.shardkit.router.ShardingRules;
import io.shardkit.testkit.ShardDatabases;
import io.shardkit.testkit.TestShards;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The first program to run: shards {@code t_order} over 2 databases × 2 tables, inserts orders
 * through a {@link ShardedPool}, reads one back by key and all of them by scatter, and prints where
 * each row landed, read from the physical tables themselves.
 *
 * <p>Shards come from the testkit: embedded MariaDB servers, or your own servers when {@code
 * SHARDKIT_TESTKIT_ENDPOINTS=user:password@host:port,...} is set. Run with {@code mvn -pl examples
 * -am compile exec:java}.
 */
public final class OrdersExample {

  static final String RULES =
      """
      {
        "tables": {
          "t_order": {
            "dataNodes": "ds_${0..1}.t_order_${0..1}",
            "databaseStrategy": {"column": "user_id", "algorithm": {"type": "mod"}},
            "tableStrategy": {"column": "order_id", "algorithm": {"type": "mod"}}
          }
        }
      }
      """;

  private OrdersExample() {}

  public static void main(String[] args) {
    // Private shards, closed at the end with the pool and Vert.x: the program then ends by itself.
    try (TestShards shards = TestShards.start(2)) {
      Vertx vertx = Vertx.vertx();
      ShardDatabases databases = shards.createDatabases("orders_example", 2);
      System.out.printf(
          "2 %s shards: %s, %s%n",
          shards.provider(), shards.shard(0).name(), shards.shard(1).name());
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
        run(pool, rules).toCompletionStage().toCompletableFuture().join();
      } finally {
        pool.close().toCompletionStage().toCompletableFuture().join();
        databases.close();
        vertx.close().toCompletionStage().toCompletableFuture().join();
      }
    }
  }

  /** The example's work, as one Future chain; also run by the examples' test. */
  static Future<Map<String, List<Long>>> run(ShardedPool pool, ShardingRules rules) {
    List<Tuple> orders = new ArrayList<>();
    for (long orderId = 1; orderId <= 8; orderId++) {
      orders.add(Tuple.of(orderId, (int) (orderId % 3) + 10, "NEW", 10 * orderId));
    }
    return pool.query(
            "CREATE TABLE t_order (order_id BIGINT PRIMARY KEY, user_id INT NOT NULL,"
                + " status VARCHAR(16), amount INT)")
        .execute()
        .compose(
            v ->
                pool.preparedQuery(
                        "INSERT INTO t_order (order_id, user_id, status, amount) VALUES (?, ?, ?, ?)")
                    .executeBatch(orders))
        .compose(
            v ->
                pool.preparedQuery(
                        "SELECT order_id, amount FROM t_order WHERE user_id = ? AND order_id = ?")
                    .execute(Tuple.of(11, 4L)))
        .compose(
            byKey -> {
              Row row = byKey.iterator().next();
              System.out.printf(
                  "by key:  order %d (user 11) amount %d, routed to %s only%n",
                  row.getLong("order_id"),
                  row.getInteger("amount"),
                  rules.nodeFor("t_order", Map.of("user_id", 11, "order_id", 4L)));
              return pool.query("SELECT order_id, user_id FROM t_order ORDER BY order_id")
                  .execute();
            })
        .compose(
            all -> {
              System.out.printf("scatter: %d orders from all 4 tables, in order:", all.size());
              for (Row row : all) {
                System.out.print(" " + row.getLong("order_id"));
              }
              System.out.println();
              return placement(pool, rules);
            })
        .onSuccess(
            placement -> {
              System.out.println("where each row landed (read from the physical tables):");
              placement.forEach((node, ids) -> System.out.printf("  %-18s %s%n", node, ids));
            });
  }

  /** Reads every physical table straight from its shard's own pool: node → order ids. */
  static Future<Map<String, List<Long>>> placement(ShardedPool pool, ShardingRules rules) {
    Map<String, List<Long>> placement = new TreeMap<>();
    List<Future<RowSet<Row>>> reads = new ArrayList<>();
    for (DataNode node : rules.tableRule("t_order").orElseThrow().dataNodes()) {
      reads.add(
          pool.pool(node.dataSource())
              .query("SELECT order_id FROM " + node.table() + " ORDER BY order_id")
              .execute()
              .onSuccess(
                  rows -> {
                    List<Long> ids = new ArrayList<>();
                    rows.forEach(r -> ids.add(r.getLong(0)));
                    placement.put(node.dataSource() + "." + node.table(), ids);
                  }));
    }
    return Future.all(reads).map(v -> placement);
  }
}
