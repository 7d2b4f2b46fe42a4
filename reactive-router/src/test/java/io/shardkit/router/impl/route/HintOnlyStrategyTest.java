package io.shardkit.router.impl.route;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardkit.router.ShardingRules;
import io.shardkit.router.UnsupportedSqlException;
import io.shardkit.router.impl.rewrite.SqlUnit;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Tuple;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A table whose strategy has no column takes its sharding values from the routing hint only
 * (ShardingSphere's hint strategy; the tbl conformance scenario's t_product).
 */
class HintOnlyStrategyTest {

  static final ShardingRules RULES =
      ShardingRules.builder()
          .table(
              "t_product",
              new JsonObject()
                  .put("dataNodes", "ds_0.t_product_${0..3}")
                  .put(
                      "tableStrategy",
                      new JsonObject()
                          .put("columns", new JsonArray())
                          .put("algorithm", new JsonObject().put("type", "mod")))
                  .put("columns", new JsonArray(List.of("product_id", "name"))))
          .build();

  static List<SqlUnit> route(String sql, RoutingHint hint) {
    Plan plan = Planner.of(RULES).plan(sql);
    return io.shardkit.router.impl.Fixtures.routeAndRewrite(
            Router.of(RULES), plan, Tuple.tuple(), hint)
        .units();
  }

  @Test
  void insertWithoutAHintIsRefusedBeforeAnyIo() {
    assertThatThrownBy(() -> route("INSERT INTO t_product VALUES (21, 'x')", RoutingHint.NONE))
        .isInstanceOf(UnsupportedSqlException.class)
        .hasMessageContaining("t_product")
        .hasMessageContaining("routing hint");
  }

  @Test
  void insertWithATableHintGoesToTheHintedTable() {
    RoutingHint hint = new RoutingHint(null, Map.of(), Map.of("t_product", List.of(1L)));

    List<SqlUnit> actual = route("INSERT INTO t_product VALUES (21, 'x')", hint);

    assertThat(actual)
        .extracting(SqlUnit::sql)
        .containsExactly("INSERT INTO t_product_1 (product_id, name) VALUES (21, 'x')");
  }

  @Test
  void insertWithSeveralHintValuesIsRefused() {
    RoutingHint hint = new RoutingHint(null, Map.of(), Map.of("t_product", List.of(1L, 2L)));

    assertThatThrownBy(() -> route("INSERT INTO t_product VALUES (21, 'x')", hint))
        .isInstanceOf(UnsupportedSqlException.class)
        .hasMessageContaining("2 values");
  }

  @Test
  void readWithoutAHintScansEveryTable() {
    List<SqlUnit> actual = route("SELECT COUNT(*) FROM t_product", RoutingHint.NONE);

    assertThat(actual).hasSize(4);
  }
}
