package io.shardkit.router.replica;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardkit.router.ReadWriteSplittingOptions;
import io.shardkit.router.ReadWriteSplittingOptions.LoadBalancer;
import io.shardkit.router.ShardedPool;
import io.shardkit.router.ShardingConfigurationException;
import io.shardkit.router.ShardingRules;
import io.shardkit.router.impl.route.Planner;
import io.shardkit.router.impl.route.SelectPlan;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.mysqlclient.MySQLConnectOptions;
import io.vertx.sqlclient.PoolOptions;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Configuration of read replicas and which reads may use them: no database. */
class ReadWriteSplittingRulesTest {

  static final ShardingRules RULES =
      ShardingRules.builder()
          .table("t_acct", t -> t.dataNodes("ds_${0..1}.t_acct").databaseStrategy("id", "mod"))
          .build();
  static Vertx vertx;

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void stop() {
    vertx.close();
  }

  @Test
  void optionsFromJsonWithDefaultsAndTypedErrors() {
    ReadWriteSplittingOptions o =
        ReadWriteSplittingOptions.fromJson(
            new JsonObject().put("loadBalancer", "weight").put("maxReplicationLagMs", 2500));
    assertThat(o.loadBalancer()).isEqualTo(LoadBalancer.WEIGHT);
    assertThat(o.maxReplicationLag()).isEqualTo(Duration.ofMillis(2500));
    assertThat(o.heartbeatInterval())
        .isEqualTo(ReadWriteSplittingOptions.DEFAULT_HEARTBEAT_INTERVAL);
    assertThatThrownBy(
            () -> ReadWriteSplittingOptions.fromJson(new JsonObject().put("loadBalancer", "LEAST")))
        .isInstanceOf(ShardingConfigurationException.class)
        .hasMessageContaining("readWriteSplitting.loadBalancer")
        .hasMessageContaining("LEAST");
    assertThatThrownBy(() -> ReadWriteSplittingOptions.fromJson(new JsonObject().put("maxLag", 3)))
        .isInstanceOf(ShardingConfigurationException.class)
        .hasMessageContaining("readWriteSplitting.maxLag");
    assertThatThrownBy(
            () ->
                ReadWriteSplittingOptions.fromJson(
                    new JsonObject().put("heartbeatTable", "x; DROP TABLE y")))
        .isInstanceOf(ShardingConfigurationException.class)
        .hasMessageContaining("heartbeatTable");
  }

  @Test
  void replicasFromJsonAndTheirMistakesNamedByPath() {
    JsonObject connect = new JsonObject().put("host", "127.0.0.1").put("port", 3306);
    JsonObject config =
        new JsonObject()
            .put(
                "rules",
                new JsonObject(
                    "{\"tables\": {\"t_acct\": {\"dataNodes\": \"ds_${0..1}.t_acct\","
                        + " \"databaseStrategy\": {\"column\": \"id\", \"algorithm\":"
                        + " {\"type\": \"mod\"}}}}}"))
            .put(
                "dataSources",
                new JsonObject()
                    .put(
                        "ds_0",
                        connect
                            .copy()
                            .put(
                                "replicas",
                                new JsonObject()
                                    .put("ds_0_a", connect.copy().put("weight", 2))
                                    .put("ds_0_b", connect.copy())))
                    .put("ds_1", connect.copy()))
            .put("readWriteSplitting", new JsonObject().put("loadBalancer", "RANDOM"));
    ShardedPool.Builder builder = ShardedPool.builder(vertx).config(config);
    assertThat(builder.replicas().get("ds_0"))
        .extracting(ShardedPool.Builder.Replica::name, ShardedPool.Builder.Replica::weight)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("ds_0_a", 2),
            org.assertj.core.groups.Tuple.tuple("ds_0_b", 1));
    assertThat(builder.readWriteSplitting().loadBalancer()).isEqualTo(LoadBalancer.RANDOM);

    JsonObject badWeight = config.copy();
    badWeight
        .getJsonObject("dataSources")
        .getJsonObject("ds_0")
        .getJsonObject("replicas")
        .getJsonObject("ds_0_a")
        .put("weight", 0);
    assertThatThrownBy(() -> ShardedPool.builder(vertx).config(badWeight))
        .isInstanceOf(ShardingConfigurationException.class)
        .hasMessageContaining("dataSources.ds_0.replicas.ds_0_a.weight");

    MySQLConnectOptions c = new MySQLConnectOptions(connect);
    assertThatThrownBy(
            () ->
                ShardedPool.builder(vertx)
                    .rules(RULES)
                    .dataSource("ds_0", c, new PoolOptions())
                    .dataSource("ds_1", c, new PoolOptions())
                    .replica("ds_9", "r", c, new PoolOptions())
                    .build())
        .isInstanceOf(ShardingConfigurationException.class)
        .hasMessageContaining("dataSources.ds_9.replicas");
    assertThatThrownBy(
            () ->
                ShardedPool.builder(vertx)
                    .rules(RULES)
                    .dataSource("ds_0", c, new PoolOptions())
                    .dataSource("ds_1", c, new PoolOptions())
                    .replica("ds_0", "ds_1", c, new PoolOptions())
                    .build())
        .isInstanceOf(ShardingConfigurationException.class)
        .hasMessageContaining("already a data source");
  }

  @Test
  void lockingReadsAreTold() {
    Planner planner = Planner.of(RULES);
    assertThat(locking(planner, "SELECT * FROM t_acct WHERE id = ?")).isFalse();
    assertThat(locking(planner, "SELECT * FROM t_acct WHERE id = ? FOR UPDATE")).isTrue();
    assertThat(locking(planner, "SELECT * FROM t_acct WHERE id = ? FOR UPDATE SKIP LOCKED"))
        .isTrue();
    assertThat(locking(planner, "SELECT * FROM t_acct WHERE id = ? FOR SHARE")).isTrue();
    assertThat(
            locking(
                planner,
                "SELECT * FROM t_acct WHERE id IN (SELECT id FROM t_acct WHERE id = 1 FOR UPDATE)"))
        .isTrue();
    assertThat(
            locking(
                planner,
                "SELECT id FROM t_acct WHERE id = 1 UNION SELECT id FROM t_acct WHERE id = 3 FOR UPDATE"))
        .isTrue();
  }

  private static boolean locking(Planner planner, String sql) {
    return ((SelectPlan) planner.plan(sql)).locking();
  }
}
