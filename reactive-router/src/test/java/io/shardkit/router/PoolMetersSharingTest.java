package io.shardkit.router;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardkit.testkit.ShardDatabases;
import io.shardkit.testkit.Shards;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.PoolOptions;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Two open pools on one registry: the gauges of the first stay (Micrometer keeps the first meter of
 * a name and tags), registering the second's is not attempted (no "already registered" warning),
 * and closing the second does not remove the first's.
 */
@Shards(2)
class PoolMetersSharingTest {

  private static final String RULES =
      """
      {"tables": {"t_order": {
         "dataNodes": "ds_${0..1}.t_order",
         "databaseStrategy": {"column": "user_id", "algorithm": {"type": "mod"}}}}}
      """;

  @Test
  void closingTheSecondPoolKeepsTheFirstPoolsGauges(ShardDatabases databases) throws Exception {
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    Vertx vertx = Vertx.vertx();
    try {
      ShardedPool first = pool(vertx, databases, meters);
      Gauge expectedPlans = meters.get("shardkit.router.plans").gauge();
      Gauge expectedBreaker = meters.get("shardkit.breaker.state").tag("shard", "ds_1").gauge();
      ShardedPool second = pool(vertx, databases, meters);

      second.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);

      assertThat(meters.find("shardkit.router.plans").gauge()).isSameAs(expectedPlans);
      assertThat(meters.find("shardkit.breaker.state").tag("shard", "ds_1").gauge())
          .isSameAs(expectedBreaker);
      first.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      assertThat(meters.find("shardkit.router.plans").gauge()).isNull();
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  private static ShardedPool pool(
      Vertx vertx, ShardDatabases databases, SimpleMeterRegistry meters) {
    return ShardedPool.builder(vertx)
        .rules(ShardingRules.fromJson(new JsonObject(RULES)))
        .dataSources(databases.dataSources("ds_"), new PoolOptions().setMaxSize(1))
        .meterRegistry(meters)
        .build();
  }
}
