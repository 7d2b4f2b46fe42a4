package io.shardkit.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardkit.context.junit.LeakGuardExtension;
import io.shardkit.router.DataNode;
import io.shardkit.router.ShardedPool;
import io.shardkit.router.ShardingRules;
import io.shardkit.testkit.ShardDatabases;
import io.shardkit.testkit.Shards;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.PoolOptions;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Runs the README's example so it cannot rot, and checks the placement it prints. */
@Shards(2)
@ExtendWith(LeakGuardExtension.class)
class OrdersExampleTest {

  @Test
  void everyOrderLandsInTheNodeTheRuleNames(ShardDatabases databases) throws Exception {
    Vertx vertx = Vertx.vertx();
    ShardingRules rules = ShardingRules.fromJson(new JsonObject(OrdersExample.RULES));
    ShardedPool pool =
        ShardedPool.builder(vertx)
            .rules(rules)
            .dataSources(databases.dataSources("ds_"), new PoolOptions().setMaxSize(2))
            .nonAtomicMultiNodeWrites(true) // as OrdersExample
            .build();
    try {
      Map<String, List<Long>> actual =
          OrdersExample.run(pool, rules)
              .toCompletionStage()
              .toCompletableFuture()
              .get(60, TimeUnit.SECONDS);

      assertThat(actual).hasSize(4);
      assertThat(actual.values().stream().mapToInt(List::size).sum()).isEqualTo(8);
      actual.forEach(
          (node, ids) -> {
            for (long orderId : ids) {
              int userId = (int) (orderId % 3) + 10;
              DataNode expected =
                  rules.nodeFor("t_order", Map.of("user_id", userId, "order_id", orderId));
              assertThat(node).isEqualTo(expected.dataSource() + "." + expected.table());
              // mod on both levels: user_id % 2 picks the database, order_id % 2 the table.
              assertThat(node).isEqualTo("ds_" + userId % 2 + ".t_order_" + orderId % 2);
            }
          });
    } finally {
      pool.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }
}
