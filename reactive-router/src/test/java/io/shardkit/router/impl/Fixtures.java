package io.shardkit.router.impl;

import io.shardkit.router.ShardingRules;
import io.shardkit.router.impl.rewrite.Rewriter;
import io.shardkit.router.impl.rewrite.SqlUnit;
import io.shardkit.router.impl.route.Plan;
import io.shardkit.router.impl.route.Planner;
import io.shardkit.router.impl.route.RoutingHint;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Tuple;
import java.util.List;
import java.util.Map;

/** Rules and helpers shared by the pure pipeline tests. */
public final class Fixtures {

  private Fixtures() {}

  /**
   * Two data sources, t_order/t_order_item in ds_${0..1}.t_x_${0..3} sharded by user_id mod 2
   * (database) and order_id mod 4 (table), bound; t_country broadcast; t_user single on ds_0.
   */
  public static ShardingRules rules() {
    return ShardingRules.builder()
        .table(
            "t_order",
            t ->
                t.dataNodes("ds_${0..1}.t_order_${0..3}")
                    .databaseStrategy("user_id", "mod")
                    .tableStrategy("order_id", "mod")
                    .snowflakeKey("order_id", 1)
                    .columns("order_id", "user_id", "status"))
        .table(
            "t_order_item",
            t ->
                t.dataNodes("ds_${0..1}.t_order_item_${0..3}")
                    .databaseStrategy("user_id", "mod")
                    .tableStrategy("order_id", "mod"))
        .table(
            "t_log",
            new JsonObject()
                .put("dataNodes", "ds_${0..1}.t_log")
                .put(
                    "databaseStrategy",
                    new JsonObject()
                        .put("column", "id")
                        .put("algorithm", new JsonObject().put("type", "hash-mod"))))
        .bindingGroup("t_order", "t_order_item")
        .broadcastTables("t_country")
        .singleTable("t_user", "ds_0")
        .build();
  }

  /** Plans and routes a statement with these parameters (null: text query). */
  public static List<SqlUnit> route(ShardingRules rules, String sql, Object... params) {
    return routed(rules, sql, params).units();
  }

  public static Rewriter.Routed routed(ShardingRules rules, String sql, Object... params) {
    Plan plan = Planner.of(rules).plan(sql);
    return routeAndRewrite(
        io.shardkit.router.impl.route.Router.of(rules),
        plan,
        params == null ? null : Tuple.wrap(java.util.Arrays.asList(params)),
        RoutingHint.NONE);
  }

  /** Route, then rewrite: the two stages as the statement runner chains them. */
  public static Rewriter.Routed routeAndRewrite(
      io.shardkit.router.impl.route.Router router, Plan plan, Tuple params, RoutingHint hint) {
    return Rewriter.of().rewrite(plan, router.routing(plan, params, hint), params);
  }

  /** Plans and routes with this schema metadata (column types, collation weights). */
  public static List<SqlUnit> route(
      io.shardkit.router.impl.schema.SchemaCatalog catalog,
      ShardingRules rules,
      String sql,
      Object... params) {
    Plan plan = Planner.of(rules, catalog).plan(sql);
    return routeAndRewrite(
            io.shardkit.router.impl.route.Router.of(rules, catalog),
            plan,
            params == null ? null : Tuple.wrap(java.util.Arrays.asList(params)),
            RoutingHint.NONE)
        .units();
  }

  /** A catalog that knows these columns: "table.column" → data type (integers, varchars). */
  public static io.shardkit.router.impl.schema.SchemaCatalog catalog(
      ShardingRules rules, String... tableColumnTypes) {
    Map<String, List<io.shardkit.router.impl.schema.ColumnInfo>> tables = new java.util.HashMap<>();
    for (String spec : tableColumnTypes) {
      String[] parts = spec.split("[ .]");
      String type = parts[2];
      String collation = type.startsWith("varchar") || type.startsWith("char") ? parts[3] : null;
      tables
          .computeIfAbsent(parts[0], k -> new java.util.ArrayList<>())
          .add(
              new io.shardkit.router.impl.schema.ColumnInfo(
                  parts[1], type.replaceAll("\\(.*", ""), type, collation));
    }
    return io.shardkit.router.impl.schema.SchemaCatalog.of(
        rules, new io.shardkit.router.impl.schema.Schema(tables));
  }

  /**
   * utf8mb4_general_ci's weights of the ASCII characters (the upper-case letter's code as two
   * bytes, as the server returns them: WEIGHT_STRING('a ') = 0x00410020); other characters unknown.
   */
  public static io.shardkit.router.impl.schema.CollationWeights asciiGeneralCi() {
    io.shardkit.router.impl.schema.CollationWeights.Builder b =
        new io.shardkit.router.impl.schema.CollationWeights.Builder("utf8mb4_general_ci");
    for (int c = 0; c < 128; c++) {
      int w = Character.toUpperCase(c);
      b.weight(c, new byte[] {(byte) (w >> 8), (byte) w});
    }
    return b.build();
  }
}
