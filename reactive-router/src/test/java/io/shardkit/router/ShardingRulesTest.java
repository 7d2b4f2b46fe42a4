package io.shardkit.router;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ShardingRulesTest {

  static final String JSON =
      """
      {
        "tables": {
          "t_order": {
            "dataNodes": "ds_${0..1}.t_order_${0..3}",
            "databaseStrategy": {"column": "user_id", "algorithm": {"type": "mod"}},
            "tableStrategy": {"column": "order_id", "algorithm": {"type": "hash-mod"}},
            "keyGenerator": {"column": "order_id", "type": "snowflake", "props": {"workerId": 3}}
          },
          "t_order_item": {
            "dataNodes": ["ds_${0..1}.t_order_item_${[0,1,2,3]}"],
            "databaseStrategy": {"columns": ["user_id"], "algorithm": {"type": "mod"}},
            "tableStrategy": {"column": "order_id", "algorithm": {"type": "hash-mod"}}
          }
        },
        "bindingGroups": [["t_order", "t_order_item"]],
        "broadcastTables": ["t_country"],
        "singleTables": {"t_user": "ds_0"},
        "defaultDataSource": "ds_1"
      }
      """;

  @Test
  void readsJsonWithExpressionsBindingBroadcastSingleAndDefault() {
    ShardingRules rules = ShardingRules.fromJson(new JsonObject(JSON));
    TableRule order = rules.tableRule("T_ORDER").orElseThrow();
    assertThat(order.dataNodes())
        .hasSize(8)
        .startsWith(new DataNode("ds_0", "t_order_0"), new DataNode("ds_0", "t_order_1"));
    assertThat(order.dataSources()).containsExactly("ds_0", "ds_1");
    assertThat(order.keyColumn()).isEqualTo("order_id");
    assertThat(rules.dataSourceNames()).containsExactly("ds_0", "ds_1");
    assertThat(rules.bindingGroupOf("t_order_item")).containsExactly("t_order", "t_order_item");
    assertThat(rules.isBroadcast("t_country")).isTrue();
    assertThat(rules.singleTables()).containsEntry("t_user", "ds_0");
    assertThat(rules.defaultDataSource()).contains("ds_1");
  }

  @Test
  void builderAndJsonAgree() {
    ShardingRules fromBuilder =
        ShardingRules.builder()
            .table(
                "t_order",
                t ->
                    t.dataNodes("ds_${0..1}.t_order_${0..3}")
                        .databaseStrategy("user_id", "mod")
                        .tableStrategy("order_id", "hash-mod")
                        .snowflakeKey("order_id", 3))
            .table(
                "t_order_item",
                t ->
                    t.dataNodes("ds_${0..1}.t_order_item_${0..3}")
                        .databaseStrategy("user_id", "mod")
                        .tableStrategy("order_id", "hash-mod"))
            .bindingGroup("t_order", "t_order_item")
            .broadcastTables("t_country")
            .singleTable("t_user", "ds_0")
            .defaultDataSource("ds_1")
            .build();
    ShardingRules fromJson = ShardingRules.fromJson(new JsonObject(JSON));
    for (long order = 0; order < 50; order++) {
      Map<String, Object> values = Map.of("user_id", order * 7, "order_id", order);
      assertThat(fromBuilder.nodeFor("t_order", values))
          .isEqualTo(fromJson.nodeFor("t_order", values));
    }
  }

  @Test
  void nodeForAndDataSourceForArePureLookups() {
    ShardingRules rules = ShardingRules.fromJson(new JsonObject(JSON));
    assertThat(rules.dataSourceFor("t_order", 3)).isEqualTo("ds_1");
    assertThat(rules.dataSourceFor("t_order", 4L)).isEqualTo("ds_0");
    assertThat(rules.dataSourceFor("t_user", 99)).isEqualTo("ds_0");
    // hash-mod: CRC32("5") = 2226203566, 2226203566 % 4 = 2
    assertThat(rules.nodeFor("t_order", Map.of("USER_ID", 1, "order_id", 5)))
        .isEqualTo(new DataNode("ds_1", "t_order_2"));
    assertThatThrownBy(() -> rules.nodeFor("t_order", Map.of("user_id", 1)))
        .hasMessageContaining("order_id");
    // a text value under hash-mod is placed by its collation sort key, unknown to the rules
    assertThatThrownBy(() -> rules.nodeFor("t_order", Map.of("user_id", 1, "order_id", "Zoë")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("collation")
        .hasMessageContaining("pool.dataSourcesFor");
  }

  @Test
  void invalidValuesAreRejectedNamingTheField() {
    assertRejected(
        "{\"tables\": {\"t\": {\"dataNodes\": \"ds_${0..1}.t\"}}}",
        "tables.t.databaseStrategy",
        "2 data sources");
    assertRejected(
        "{\"tables\": {\"t\": {\"dataNodes\": \"ds_0.t_${0..1}\"}}}",
        "tables.t.tableStrategy",
        "2 actual tables");
    assertRejected(
        "{\"tables\": {\"t\": {\"dataNodes\": \"ds_${0..1}.t\", \"databaseStrategy\": {\"column\": \"id\","
            + " \"algorithm\": {\"type\": \"nope\"}}}}}",
        "tables.t.databaseStrategy.algorithm.type",
        "nope");
    assertRejected(
        "{\"tables\": {\"t\": {\"dataNodes\": \"ds_${0..1}.t\", \"databaseStrategy\": {\"column\": \"id\","
            + " \"algorithm\": {\"type\": \"mod\", \"props\": {\"count\": -2}}}}}}",
        "tables.t.databaseStrategy.algorithm.props",
        "-2");
    assertRejected(
        "{\"tables\": {\"t\": {\"dataNodes\": \"ds_${0..x}.t\"}}}",
        "tables.t.dataNodes",
        "integers");
    assertRejected(
        "{\"tables\": {\"t\": {\"dataNodes\": \"nodot\"}}}", "tables.t.dataNodes", "nodot");
    assertRejected(
        "{\"tables\": {\"t\": {\"dataNodes\": \"ds_0.t\", \"keyGenerator\": {\"column\": \"id\", \"type\": \"snowflake\"}}}}",
        "tables.t.keyGenerator.props",
        "workerId");
    assertRejected(
        "{\"dataSources\": [\"ds_0\"], \"singleTables\": {\"u\": \"ds_9\"}}",
        "dataSources",
        "ds_9");
    assertRejected(
        "{\"tables\": {\"a\": {\"dataNodes\": \"ds_${0..1}.a\", \"databaseStrategy\": {\"column\": \"id\", \"algorithm\":"
            + " {\"type\": \"mod\"}}}, \"b\": {\"dataNodes\": \"ds_${1..2}.b\", \"databaseStrategy\": {\"column\": \"id\", \"algorithm\":"
            + " {\"type\": \"mod\"}}}}, \"bindingGroups\": [[\"a\", \"b\"]]}",
        "bindingGroups[0]",
        "data node 0");
    assertRejected("{\"bogus\": 1, \"defaultDataSource\": \"ds_0\"}", "bogus", "unknown field");
    assertRejected(
        "{\"broadcastTables\": [\"t\"], \"tables\": {\"t\": {\"dataNodes\": \"ds_0.t\"}}}",
        "broadcastTables",
        "also a sharded");
  }

  private static void assertRejected(String json, String expectedField, String expectedInMessage) {
    assertThatThrownBy(() -> ShardingRules.fromJson(new JsonObject(json)))
        .isInstanceOf(ShardingConfigurationException.class)
        .satisfies(
            e -> assertThat(((ShardingConfigurationException) e).field()).isEqualTo(expectedField))
        .hasMessageContaining(expectedInMessage);
  }

  @Test
  void builderRejectsUnknownDataSourcesOfThePool() {
    ShardingRules rules = ShardingRules.builder().defaultDataSource("ds_0").build();
    io.vertx.core.Vertx vertx = io.vertx.core.Vertx.vertx();
    try {
      assertThatThrownBy(() -> ShardedPool.builder(vertx).rules(rules).build())
          .isInstanceOf(ShardingConfigurationException.class)
          .hasMessageContaining("dataSources.ds_0");
      assertThatThrownBy(
              () ->
                  ShardedPool.builder(vertx)
                      .rules(rules)
                      .dataSource("ds_0", new io.vertx.mysqlclient.MySQLConnectOptions(), null)
                      .dataSource("ds_x", new io.vertx.mysqlclient.MySQLConnectOptions(), null)
                      .build())
          .isInstanceOf(ShardingConfigurationException.class)
          .hasMessageContaining("ds_x");
    } finally {
      vertx.close();
    }
  }

  @Test
  void poolConfigFromJsonIsValidatedWithFieldPaths() {
    io.vertx.core.Vertx vertx = io.vertx.core.Vertx.vertx();
    try {
      JsonObject config =
          new JsonObject()
              .put("rules", new JsonObject().put("defaultDataSource", "ds_0"))
              .put(
                  "dataSources",
                  new JsonObject()
                      .put(
                          "ds_0",
                          new JsonObject()
                              .put("host", "127.0.0.1")
                              .put("port", 1)
                              .put("pool", new JsonObject().put("maxSize", 3))))
              .put("planCacheSize", 16);
      ShardedPool.Builder builder = ShardedPool.builder(vertx).config(config);
      assertThat(builder.connectOptions().get("ds_0").getPort()).isEqualTo(1);
      assertThat(builder.poolOptions().get("ds_0").getMaxSize()).isEqualTo(3);
      assertThat(builder.planCacheSize()).isEqualTo(16);
      builder.build().close();
      assertThatThrownBy(
              () -> ShardedPool.builder(vertx).config(config.copy().put("planCacheSize", 0)))
          .isInstanceOf(ShardingConfigurationException.class)
          .hasMessageContaining("planCacheSize");
      assertThatThrownBy(
              () ->
                  ShardedPool.builder(vertx)
                      .config(config.copy().put("dataSources", new JsonObject().put("ds_0", 5))))
          .isInstanceOf(ShardingConfigurationException.class)
          .satisfies(
              e ->
                  assertThat(((ShardingConfigurationException) e).field())
                      .isEqualTo("dataSources.ds_0"));
      assertThatThrownBy(() -> ShardedPool.builder(vertx).config(new JsonObject()))
          .isInstanceOf(ShardingConfigurationException.class)
          .hasMessageContaining("rules");
    } finally {
      vertx.close();
    }
  }

  @Test
  void expandsInlineExpressions() {
    assertThat(InlineExpressions.expand("ds_${0..1}.t_${[a,'b']}, x.y"))
        .containsExactly("ds_0.t_a", "ds_0.t_b", "ds_1.t_a", "ds_1.t_b", "x.y");
    assertThat(List.of(InlineExpressions.expand("t_${3..3}"))).hasSize(1);
  }
}
