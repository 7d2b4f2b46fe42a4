package io.shardkit.router.impl;

import static io.shardkit.router.impl.Fixtures.route;
import static io.shardkit.router.impl.Fixtures.routed;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardkit.router.ShardingRules;
import io.shardkit.router.SqlParseException;
import io.shardkit.router.UnsupportedSqlException;
import io.shardkit.router.impl.rewrite.Rewriter;
import io.shardkit.router.impl.rewrite.SqlUnit;
import io.shardkit.router.impl.route.Plan;
import io.shardkit.router.impl.route.Planner;
import io.shardkit.router.impl.route.RoutingHint;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Tuple;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Route and rewrite without a database. Rules ({@link Fixtures#rules()}): t_order and t_order_item
 * in ds_${0..1}.t_x_${0..3}, user_id mod 2 picks the data source, order_id mod 4 the table.
 */
class RouteRewriteTest {

  static final ShardingRules RULES = Fixtures.rules();

  static List<String> where(List<SqlUnit> units) {
    return units.stream().map(u -> u.dataSource() + ":" + u.sql()).toList();
  }

  @Test
  void equalityRoutesToOneNodeAndRenamesTablesAndQualifiers() {
    List<SqlUnit> units =
        route(
            RULES,
            "SELECT t_order.status, `t_order`.order_id FROM `t_order` WHERE t_order.user_id = ? AND order_id = ?",
            3,
            6);
    assertThat(where(units))
        .containsExactly(
            "ds_1:SELECT `t_order_2`.status, `t_order_2`.order_id FROM `t_order_2` WHERE `t_order_2`.user_id = ? AND order_id = ?");
    assertThat(units.get(0).params().deepToString()).isEqualTo("[3,6]");
    assertThat(
            where(
                route(
                    RULES,
                    "SELECT * FROM t_order o WHERE o.user_id = 2 AND o.order_id = 5",
                    (Object[]) null)))
        .containsExactly("ds_0:SELECT * FROM t_order_1 o WHERE o.user_id = 2 AND o.order_id = 5");
  }

  @Test
  void aCachedPlanRendersTheSameSqlInstanceForTheSameTablesAndItsParametersEachTime() {
    Plan plan =
        Planner.of(RULES)
            .plan("SELECT status FROM t_order WHERE user_id = ? AND order_id = ? AND status <> ?");
    io.shardkit.router.impl.route.Router router = io.shardkit.router.impl.route.Router.of(RULES);
    SqlUnit first =
        Fixtures.routeAndRewrite(router, plan, Tuple.of(3, 6, "a"), RoutingHint.NONE)
            .units()
            .get(0);
    Tuple againParams = Tuple.of(5, 10, "b");
    SqlUnit again =
        Fixtures.routeAndRewrite(router, plan, againParams, RoutingHint.NONE).units().get(0);
    SqlUnit other =
        Fixtures.routeAndRewrite(router, plan, Tuple.of(2, 7, "c"), RoutingHint.NONE)
            .units()
            .get(0);
    assertThat(first.dataSource() + ":" + first.sql())
        .isEqualTo(
            "ds_1:SELECT status FROM t_order_2 WHERE user_id = ? AND order_id = ? AND status <> ?");
    // the same tables: the very same text (the shard's statement cache finds it by identity)
    assertThat(again.sql()).isSameAs(first.sql());
    assertThat(again.params().deepToString()).isEqualTo("[5,10,b]");
    assertThat(again.params())
        .as("the statement's parameters in order: its own tuple, not a copy")
        .isSameAs(againParams);
    assertThat(other.dataSource() + ":" + other.sql())
        .isEqualTo(
            "ds_0:SELECT status FROM t_order_3 WHERE user_id = ? AND order_id = ? AND status <> ?");
    assertThat(other.params().deepToString()).isEqualTo("[2,7,c]");
    // a template with an IN list or a LIMIT renders per call, its text depending on the values
    Plan in = Planner.of(RULES).plan("SELECT status FROM t_order WHERE order_id IN (?, ?, ?)");
    assertThat(Fixtures.routeAndRewrite(router, in, Tuple.of(1, 5, 2), RoutingHint.NONE).units())
        .extracting(u -> u.dataSource() + ":" + u.sql() + " " + u.params().deepToString())
        .contains(
            "ds_0:SELECT status FROM t_order_1 WHERE order_id IN (?, ?) [1,5]",
            "ds_1:SELECT status FROM t_order_1 WHERE order_id IN (?, ?) [1,5]");
  }

  @Test
  void aNegativeDecimalLiteralIsAShardingValue() {
    // was refused in an INSERT ("must be a literal or a ? parameter") and read every node
    assertThat(
            route(RULES, "INSERT INTO t_order (user_id, order_id, status) VALUES (-3.0, 1, 'a')"))
        .extracting(u -> u.dataSource() + " " + u.sql())
        .containsExactly(
            "ds_1 INSERT INTO t_order_1 (user_id, order_id, status) VALUES (-3.0, 1, 'a')");
    assertThat(route(RULES, "SELECT * FROM t_order WHERE user_id = -3.0e0 AND order_id = 1"))
        .extracting(SqlUnit::dataSource)
        .containsExactly("ds_1");
  }

  @Test
  void aNullShardingKeyInAnInsertGoesToTheFirstNodeItsOtherKeysLeave() {
    assertThat(
            route(RULES, "INSERT INTO t_order (user_id, order_id, status) VALUES (NULL, 1, 'a')"))
        .extracting(u -> u.dataSource() + " " + u.sql())
        .containsExactly(
            "ds_0 INSERT INTO t_order_1 (user_id, order_id, status) VALUES (NULL, 1, 'a')");
    assertThat(
            route(
                RULES,
                "INSERT INTO t_order (user_id, order_id, status) VALUES (3, ?, 'a')",
                (Object) null))
        .extracting(u -> u.dataSource() + " " + u.sql())
        .containsExactly(
            "ds_1 INSERT INTO t_order_0 (user_id, order_id, status) VALUES (3, ?, 'a')");
  }

  @Test
  void databaseAndTableStrategiesRouteIndependently() {
    assertThat(route(RULES, "SELECT * FROM t_order WHERE user_id = 1"))
        .extracting(SqlUnit::dataSource)
        .containsExactly("ds_1", "ds_1", "ds_1", "ds_1");
    assertThat(where(route(RULES, "SELECT * FROM t_order WHERE order_id = 2")))
        .containsExactly(
            "ds_0:SELECT * FROM t_order_2 WHERE order_id = 2",
            "ds_1:SELECT * FROM t_order_2 WHERE order_id = 2");
    assertThat(route(RULES, "SELECT * FROM t_order WHERE status = 'x'")).hasSize(8);
  }

  @Test
  void inListIsPrunedPerUnit() {
    List<SqlUnit> units =
        route(
            RULES,
            "SELECT * FROM t_order WHERE order_id IN (?, ?, ?, ?) AND user_id = 0",
            1,
            5,
            2,
            9);
    assertThat(where(units))
        .containsExactly(
            "ds_0:SELECT * FROM t_order_1 WHERE order_id IN (?, ?, ?) AND user_id = 0",
            "ds_0:SELECT * FROM t_order_2 WHERE order_id IN (?, ?) AND user_id = 0");
    assertThat(units.get(0).params().deepToString()).isEqualTo("[1,5,9]");
    // a list pruned to one item keeps a second one (from another node): an IN of one item is an
    // =, which the server may compare in another type (HashedKeyConversionTest)
    assertThat(units.get(1).params().deepToString()).isEqualTo("[1,2]");
    assertThat(
            where(
                route(RULES, "SELECT * FROM t_order WHERE user_id IN (1, 2, 3) AND order_id = 0")))
        .containsExactly(
            "ds_0:SELECT * FROM t_order_0 WHERE user_id IN (1, 2) AND order_id = 0",
            "ds_1:SELECT * FROM t_order_0 WHERE user_id IN (1, 3) AND order_id = 0");
  }

  @Test
  void rangesRouteToCoveredNodesAndAndOrCombine() {
    assertThat(
            route(
                RULES,
                "SELECT * FROM t_order WHERE user_id = 0 AND order_id BETWEEN ? AND ?",
                5,
                6))
        .extracting(u -> u.sql().substring(14, 23))
        .containsExactly("t_order_1", "t_order_2");
    assertThat(
            route(
                RULES,
                "SELECT * FROM t_order WHERE user_id = 0 AND order_id > 5 AND order_id <= 7"))
        .extracting(u -> u.sql().substring(14, 23))
        .containsExactly("t_order_2", "t_order_3");
    assertThat(route(RULES, "SELECT * FROM t_order WHERE user_id = 0 AND order_id >= 5"))
        .hasSize(4);
    assertThat(
            route(
                RULES,
                "SELECT * FROM t_order WHERE user_id = 0 AND (order_id = 1 OR order_id = 3)"))
        .extracting(u -> u.sql().substring(14, 23))
        .containsExactly("t_order_1", "t_order_3");
    assertThat(
            route(
                RULES,
                "SELECT * FROM t_order WHERE user_id = 0 AND (order_id = 1 OR status = 'x')"))
        .hasSize(4);
    assertThat(route(RULES, "SELECT * FROM t_order WHERE order_id = 1 AND order_id = 2"))
        .as("contradiction: one node keeps the metadata, no rows can match")
        .hasSize(1);
    assertThat(route(RULES, "SELECT * FROM t_order WHERE NOT (user_id = 1)")).hasSize(8);
  }

  @Test
  void rangeAlgorithmRoutesBetweenToCoveredTables() {
    ShardingRules rules =
        ShardingRules.builder()
            .table(
                "t_event",
                new JsonObject()
                    .put("dataNodes", "ds_0.t_event_${0..2}")
                    .put(
                        "tableStrategy",
                        new JsonObject()
                            .put("column", "id")
                            .put(
                                "algorithm",
                                new JsonObject()
                                    .put("type", "range")
                                    .put(
                                        "props",
                                        new JsonObject()
                                            .put(
                                                "boundaries", new JsonArray().add(100).add(200))))))
            .build();
    assertThat(route(rules, "SELECT * FROM t_event WHERE id BETWEEN 150 AND 250"))
        .extracting(SqlUnit::sql)
        .containsExactly(
            "SELECT * FROM t_event_1 WHERE id BETWEEN 150 AND 250",
            "SELECT * FROM t_event_2 WHERE id BETWEEN 150 AND 250");
  }

  @Test
  void userAlgorithmThroughTheSpiAndIntervalTablesByDate() {
    io.shardkit.router.spi.ShardingAlgorithmFactory byFirstLetter =
        new io.shardkit.router.spi.ShardingAlgorithmFactory() {
          @Override
          public String type() {
            return "first-letter";
          }

          @Override
          public io.shardkit.router.spi.ShardingAlgorithm create(Context context) {
            return values ->
                String.valueOf(values.get(0)).compareToIgnoreCase("n") < 0
                    ? context.targets().get(0)
                    : context.targets().get(1);
          }
        };
    ShardingRules rules =
        ShardingRules.builder()
            .algorithmType(byFirstLetter)
            .table(
                "t_user2",
                t -> t.dataNodes("ds_${0..1}.t_user2").databaseStrategy("name", "first-letter"))
            .table(
                "t_event",
                new JsonObject()
                    .put("dataNodes", "ds_0.t_event_${[202401,202402,202403]}")
                    .put(
                        "tableStrategy",
                        new JsonObject()
                            .put("column", "created")
                            .put(
                                "algorithm",
                                new JsonObject()
                                    .put("type", "interval")
                                    .put(
                                        "props",
                                        new JsonObject()
                                            .put("start", "2024-01-01")
                                            .put("unit", "MONTHS")
                                            .put("suffix", "yyyyMM")))))
            .build();
    assertThat(route(rules, "SELECT * FROM t_user2 WHERE name = ?", "zoe"))
        .extracting(SqlUnit::dataSource)
        .containsExactly("ds_1");
    assertThat(route(rules, "SELECT * FROM t_user2 WHERE name IN ('amy', 'bob')"))
        .extracting(SqlUnit::dataSource)
        .containsExactly("ds_0");
    assertThat(
            route(
                rules, "SELECT * FROM t_event WHERE created BETWEEN '2024-01-20' AND '2024-02-01'"))
        .extracting(SqlUnit::sql)
        .containsExactly(
            "SELECT * FROM t_event_202401 WHERE created BETWEEN '2024-01-20' AND '2024-02-01'",
            "SELECT * FROM t_event_202402 WHERE created BETWEEN '2024-01-20' AND '2024-02-01'");
    assertThat(
            route(
                rules,
                "INSERT INTO t_event (id, created) VALUES (1, ?)",
                java.time.LocalDate.of(2024, 3, 5)))
        .extracting(SqlUnit::sql)
        .containsExactly("INSERT INTO t_event_202403 (id, created) VALUES (1, ?)");
    assertThatThrownBy(
            () -> route(rules, "INSERT INTO t_event (id, created) VALUES (1, '2023-12-31')"))
        .isInstanceOf(UnsupportedSqlException.class)
        .hasMessageContaining("no data node");
  }

  @Test
  void complexStrategyNeedsEveryColumn() {
    ShardingRules rules =
        ShardingRules.builder()
            .table(
                "t_kv",
                t ->
                    t.dataNodes("ds_${0..3}.t_kv")
                        .databaseStrategy(List.of("a", "b"), "complex-hash-mod", new JsonObject()))
            .build();
    // hashed keys route exactly only when their column types are known
    io.shardkit.router.impl.schema.SchemaCatalog catalog =
        io.shardkit.router.impl.schema.SchemaCatalog.of(
            rules,
            Fixtures.catalog(rules, "t_kv.a int", "t_kv.b varchar(10) utf8mb4_general_ci").schema(),
            List.of(Fixtures.asciiGeneralCi()));
    assertThat(Fixtures.route(catalog, rules, "SELECT * FROM t_kv WHERE a = 1 AND b = 'x'"))
        .hasSize(1);
    assertThat(Fixtures.route(catalog, rules, "SELECT * FROM t_kv WHERE a = 1 AND b = 'X  '"))
        .extracting(SqlUnit::dataSource)
        .isEqualTo(
            Fixtures.route(catalog, rules, "SELECT * FROM t_kv WHERE a = 1 AND b = 'x'").stream()
                .map(SqlUnit::dataSource)
                .toList());
    assertThat(Fixtures.route(catalog, rules, "SELECT * FROM t_kv WHERE a = 1")).hasSize(4);
    assertThat(route(rules, "SELECT * FROM t_kv WHERE a = 1 AND b = 'x'")).hasSize(4);
  }

  @Test
  void hashedStringKeysRouteByTheirCollationSortKey() {
    io.shardkit.router.impl.schema.SchemaCatalog catalog =
        io.shardkit.router.impl.schema.SchemaCatalog.of(
            RULES,
            Fixtures.catalog(RULES, "t_log.id varchar(10) utf8mb4_general_ci").schema(),
            List.of(Fixtures.asciiGeneralCi()));
    List<String> expected =
        Fixtures.route(catalog, RULES, "SELECT * FROM t_log WHERE id = 'ab'").stream()
            .map(SqlUnit::dataSource)
            .toList();
    assertThat(expected).hasSize(1);
    for (String spelling : List.of("AB", "aB   ", "Ab ")) {
      assertThat(Fixtures.route(catalog, RULES, "SELECT * FROM t_log WHERE id = ?", spelling))
          .extracting(SqlUnit::dataSource)
          .isEqualTo(expected);
      assertThat(Fixtures.route(catalog, RULES, "INSERT INTO t_log (id) VALUES (?)", spelling))
          .extracting(SqlUnit::dataSource)
          .isEqualTo(expected);
    }
    // the raw text would hash elsewhere for at least one spelling
    assertThat(
            List.of("ab", "AB", "aB   ", "Ab ").stream()
                .map(v -> io.shardkit.router.impl.algorithm.ShardingValues.crc32(v) % 2)
                .distinct())
        .hasSizeGreaterThan(1);
    // a number compares numerically ('012' = 12), a range by collation: every node
    assertThat(Fixtures.route(catalog, RULES, "SELECT * FROM t_log WHERE id = 12")).hasSize(2);
    assertThat(Fixtures.route(catalog, RULES, "SELECT * FROM t_log WHERE id = ?", 12L)).hasSize(2);
    assertThat(Fixtures.route(catalog, RULES, "SELECT * FROM t_log WHERE id BETWEEN 'a' AND 'b'"))
        .hasSize(2);
    // a character without a known weight: read everywhere, INSERT refused by name
    assertThat(Fixtures.route(catalog, RULES, "SELECT * FROM t_log WHERE id = 'zoë'")).hasSize(2);
    assertThatThrownBy(
            () -> Fixtures.route(catalog, RULES, "INSERT INTO t_log (id) VALUES ('zoë')"))
        .isInstanceOf(UnsupportedSqlException.class)
        .hasMessageContaining("t_log.id = 'zoë' under collation utf8mb4_general_ci");
    // setting the key to a value without a node is refused
    assertThatThrownBy(
            () -> Fixtures.route(catalog, RULES, "UPDATE t_log SET id = 'zoë' WHERE id = 'ab'"))
        .isInstanceOf(UnsupportedSqlException.class)
        .hasMessageContaining("cannot be told exactly");
    assertThat(Fixtures.route(catalog, RULES, "UPDATE t_log SET id = 'AB ' WHERE id = 'ab'"))
        .extracting(SqlUnit::dataSource)
        .isEqualTo(expected);
  }

  @Test
  void hashedKeysOfATableWithoutMetadataNeverHashTheRawValue() {
    // without the column's type the hash is unknown (text hashes its sort key, numbers their
    // decimal text): reads go everywhere, INSERTs are refused
    assertThat(route(RULES, "SELECT * FROM t_log WHERE id = 'ab'")).hasSize(2);
    assertThat(route(RULES, "SELECT * FROM t_log WHERE id = 7")).hasSize(2);
    assertThatThrownBy(() -> route(RULES, "INSERT INTO t_log (id) VALUES ('ab')"))
        .isInstanceOf(UnsupportedSqlException.class)
        .hasMessageContaining("t_log.id = 'ab'")
        .hasMessageContaining("type is not known");
    // mod keys do not depend on it
    assertThat(route(RULES, "INSERT INTO t_order (user_id, order_id) VALUES (1, 2)")).hasSize(1);
  }

  @Test
  void bindingTablesRoutePairwiseNeverCartesian() {
    List<SqlUnit> units =
        route(
            RULES,
            "SELECT i.* FROM t_order o JOIN t_order_item i ON o.order_id = i.order_id AND o.user_id = i.user_id");
    assertThat(units).hasSize(8);
    for (SqlUnit u : units) {
      String suffix =
          u.sql().substring(u.sql().indexOf("t_order_") + 8, u.sql().indexOf("t_order_") + 9);
      assertThat(u.sql()).contains("t_order_item_" + suffix);
    }
    assertThat(
            where(
                route(
                    RULES,
                    "SELECT * FROM t_order o JOIN t_order_item i ON o.order_id = i.order_id WHERE i.user_id = 1 AND i.order_id = 2")))
        .containsExactly(
            "ds_1:SELECT * FROM t_order_2 o JOIN t_order_item_2 i ON o.order_id = i.order_id WHERE i.user_id = 1 AND i.order_id = 2");
  }

  @Test
  void unboundShardedJoinIsRefusedUnlessBothKeysPickOneNode() {
    assertThatThrownBy(
            () -> route(RULES, "SELECT * FROM t_order o JOIN t_log l ON o.order_id = l.id"))
        .isInstanceOf(UnsupportedSqlException.class)
        .hasMessageContaining("t_log");
    assertThat(
            Fixtures.route(
                Fixtures.catalog(RULES, "t_log.id bigint"),
                RULES,
                "SELECT * FROM t_order o JOIN t_log l ON o.order_id = l.id WHERE o.user_id = 1 AND o.order_id = 1 AND l.id = 1"))
        .hasSizeLessThanOrEqualTo(1);
  }

  @Test
  void broadcastSingleAndDefaultTables() {
    assertThat(route(RULES, "SELECT * FROM t_country"))
        .extracting(SqlUnit::dataSource)
        .containsExactly("ds_0");
    assertThat(route(RULES, "INSERT INTO t_country VALUES ('FR', 'France')"))
        .extracting(SqlUnit::dataSource)
        .containsExactly("ds_0", "ds_1");
    assertThat(route(RULES, "UPDATE t_country SET name = 'x'"))
        .extracting(SqlUnit::dataSource)
        .containsExactly("ds_0", "ds_1");
    assertThat(route(RULES, "SELECT * FROM t_user u JOIN t_country c ON u.c = c.code"))
        .extracting(SqlUnit::dataSource)
        .containsExactly("ds_0");
    assertThat(
            route(
                RULES,
                "SELECT * FROM t_order o JOIN t_country c ON o.status = c.code WHERE o.user_id = 1"))
        .hasSize(4);
    assertThat(
            route(
                RULES,
                "SELECT * FROM t_order o JOIN t_user u ON o.user_id = u.id WHERE o.user_id = 2"))
        .hasSize(4)
        .allMatch(u -> u.dataSource().equals("ds_0"));
    assertThatThrownBy(
            () ->
                route(
                    RULES,
                    "SELECT * FROM t_order o JOIN t_user u ON o.user_id = u.id WHERE o.user_id = 1"))
        .isInstanceOf(UnsupportedSqlException.class)
        .hasMessageContaining("ds_1");
    assertThatThrownBy(() -> route(RULES, "SELECT * FROM t_unknown"))
        .isInstanceOf(UnsupportedSqlException.class)
        .hasMessageContaining("t_unknown")
        .hasMessageContaining("default data source");
    ShardingRules withDefault = ShardingRules.builder().defaultDataSource("ds_9").build();
    assertThat(route(withDefault, "SELECT * FROM t_unknown"))
        .extracting(SqlUnit::dataSource)
        .containsExactly("ds_9");
    assertThat(route(RULES, "SELECT 1")).extracting(SqlUnit::dataSource).containsExactly("ds_0");
  }

  @Test
  void routingHintForcesDataSourceAndShardingValues() {
    Plan plan = Planner.of(RULES).plan("SELECT * FROM t_order");
    io.shardkit.router.impl.route.Router router = io.shardkit.router.impl.route.Router.of(RULES);
    RoutingHint values =
        new RoutingHint(null, Map.of("t_order", List.of(1)), Map.of("t_order", List.of(2)));
    assertThat(where(Fixtures.routeAndRewrite(router, plan, Tuple.tuple(), values).units()))
        .containsExactly("ds_1:SELECT * FROM t_order_2");
    RoutingHint forced = new RoutingHint("ds_0", Map.of(), Map.of());
    assertThat(Fixtures.routeAndRewrite(router, plan, Tuple.tuple(), forced).units())
        .hasSize(4)
        .allMatch(u -> u.dataSource().equals("ds_0"));
    Plan single = Planner.of(RULES).plan("SELECT * FROM t_country");
    assertThat(
            Fixtures.routeAndRewrite(
                    router, single, Tuple.tuple(), new RoutingHint("ds_1", Map.of(), Map.of()))
                .units())
        .extracting(SqlUnit::dataSource)
        .containsExactly("ds_1");
  }

  @Test
  void insertSplitsRowsPerNodeAndGeneratesOmittedKeys() {
    Rewriter.Routed split =
        routed(
            RULES,
            "INSERT INTO t_order (order_id, user_id, status) VALUES (?, ?, 'a'), (2, 1, ?), (?, 0, 'c')",
            1,
            0,
            "b",
            5);
    assertThat(where(split.units()))
        .containsExactly(
            "ds_0:INSERT INTO t_order_1 (order_id, user_id, status) VALUES (?, ?, 'a'), (?, 0, 'c')",
            "ds_1:INSERT INTO t_order_2 (order_id, user_id, status) VALUES (2, 1, ?)");
    assertThat(split.units().get(0).params().deepToString()).isEqualTo("[1,0,5]");
    assertThat(split.units().get(1).params().deepToString()).isEqualTo("[b]");
    Rewriter.Routed generated =
        routed(
            RULES,
            "INSERT INTO t_order (user_id, status) VALUES (1, 'a'), (1, 'b')",
            (Object[]) null);
    assertThat(generated.generatedKeys()).hasSize(2);
    long first = (Long) generated.generatedKeys().get(0);
    assertThat(generated.units())
        .allMatch(u -> u.sql().contains("(user_id, status, order_id)") && u.params() != null);
    assertThat(generated.units().get(0).sql()).startsWith("INSERT INTO t_order_" + (first % 4));
    assertThat(
            where(
                route(
                    RULES,
                    "INSERT INTO t_order SET order_id = ?, user_id = ?, status = 's'",
                    3,
                    1)))
        .containsExactly(
            "ds_1:INSERT INTO t_order_3 (order_id, user_id, status) VALUES (?, ?, 's')");
    assertThat(where(route(RULES, "INSERT INTO t_order VALUES (4, 1, 'x')")))
        .as("columns declared in the rule")
        .containsExactly(
            "ds_1:INSERT INTO t_order_0 (order_id, user_id, status) VALUES (4, 1, 'x')");
    assertThat(
            where(
                route(
                    RULES,
                    "INSERT INTO t_order (order_id, user_id, status) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE status = VALUES(status)",
                    1,
                    1,
                    "u")))
        .containsExactly(
            "ds_1:INSERT INTO t_order_1 (order_id, user_id, status) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE status = VALUES(status)");
    assertThatThrownBy(
            () ->
                route(
                    RULES,
                    "INSERT INTO t_order (order_id, user_id) VALUES (1, 1) ON DUPLICATE KEY UPDATE user_id = 2"))
        .isInstanceOf(UnsupportedSqlException.class)
        .hasMessageContaining("user_id");
    assertThatThrownBy(() -> route(RULES, "INSERT INTO t_order_item VALUES (1, 1, 1)"))
        .isInstanceOf(UnsupportedSqlException.class)
        .hasMessageContaining("column list");
    assertThatThrownBy(() -> route(RULES, "INSERT INTO t_order (order_id, status) VALUES (1, 'x')"))
        .isInstanceOf(UnsupportedSqlException.class)
        .hasMessageContaining("user_id");
  }

  @Test
  void updateAndDeleteRouteByConditionsAndRefuseKeyMovesAndMultiNodeLimit() {
    assertThat(
            where(
                route(
                    RULES,
                    "UPDATE t_order SET status = ? WHERE user_id = ? AND order_id = ?",
                    "s",
                    1,
                    2)))
        .containsExactly("ds_1:UPDATE t_order_2 SET status = ? WHERE user_id = ? AND order_id = ?");
    assertThat(route(RULES, "DELETE FROM t_order WHERE status = 'x'")).hasSize(8);
    assertThat(route(RULES, "UPDATE t_order SET user_id = 3 WHERE user_id = 1 AND order_id = 2"))
        .as("same node")
        .hasSize(1);
    assertThatThrownBy(
            () -> route(RULES, "UPDATE t_order SET user_id = 2 WHERE user_id = 1 AND order_id = 2"))
        .isInstanceOf(UnsupportedSqlException.class)
        .hasMessageContaining("another data node");
    assertThatThrownBy(
            () -> route(RULES, "UPDATE t_order SET user_id = user_id + 1 WHERE order_id = 2"))
        .isInstanceOf(UnsupportedSqlException.class)
        .hasMessageContaining("user_id");
    assertThatThrownBy(() -> route(RULES, "DELETE FROM t_order WHERE status = 'x' LIMIT 10"))
        .isInstanceOf(UnsupportedSqlException.class)
        .hasMessageContaining("LIMIT");
    assertThat(route(RULES, "DELETE FROM t_order WHERE user_id = 1 AND order_id = 1 LIMIT 1"))
        .hasSize(1);
  }

  @Test
  void ddlAppliesToEveryActualTable() {
    List<SqlUnit> units = route(RULES, "ALTER TABLE t_order ADD COLUMN note VARCHAR(10)");
    assertThat(units)
        .hasSize(8)
        .extracting(u -> u.dataSource() + "." + u.sql().split(" ")[2])
        .containsExactly(
            "ds_0.t_order_0",
            "ds_0.t_order_1",
            "ds_0.t_order_2",
            "ds_0.t_order_3",
            "ds_1.t_order_0",
            "ds_1.t_order_1",
            "ds_1.t_order_2",
            "ds_1.t_order_3");
    assertThat(route(RULES, "DROP TABLE t_country")).hasSize(2);
    assertThat(route(RULES, "TRUNCATE TABLE t_user"))
        .extracting(SqlUnit::dataSource)
        .containsExactly("ds_0");
  }

  @Test
  void subqueriesAndDerivedTablesRouteWhenOnOneUnitOtherwiseRefused() {
    assertThat(
            where(
                route(
                    RULES,
                    "SELECT * FROM t_order WHERE user_id = 1 AND order_id = 1 AND status IN"
                        + " (SELECT status FROM t_order_item WHERE user_id = 1 AND order_id = 1)")))
        .containsExactly(
            "ds_1:SELECT * FROM t_order_1 WHERE user_id = 1 AND order_id = 1 AND status IN"
                + " (SELECT status FROM t_order_item_1 WHERE user_id = 1 AND order_id = 1)");
    assertThat(
            route(
                RULES,
                "SELECT * FROM (SELECT * FROM t_order WHERE user_id = 0 AND order_id = 3) t"))
        .hasSize(1);
    assertThat(
            route(
                RULES,
                "SELECT * FROM t_user u WHERE EXISTS (SELECT 1 FROM t_country c WHERE c.code = u.c)"))
        .hasSize(1);
    assertThatThrownBy(
            () ->
                route(
                    RULES,
                    "SELECT * FROM t_order WHERE order_id IN (SELECT order_id FROM t_order_item WHERE qty > 1)"))
        .isInstanceOf(UnsupportedSqlException.class)
        .hasMessageContaining("t_order_item");
    assertThatThrownBy(
            () ->
                route(
                    RULES,
                    "SELECT * FROM (SELECT user_id, COUNT(*) c FROM t_order GROUP BY user_id) t"))
        .isInstanceOf(UnsupportedSqlException.class)
        .hasMessageContaining("t_order");
  }

  @Test
  void statementsTheParserCannotReadAreClassifiedFirst() {
    for (String sql :
        List.of(
            "BEGIN",
            "START TRANSACTION",
            "COMMIT",
            "ROLLBACK",
            "XA START 'g1'",
            "XA RECOVER",
            "SAVEPOINT a")) {
      assertThatThrownBy(() -> route(RULES, sql))
          .as(sql)
          .isInstanceOf(UnsupportedSqlException.class)
          .isNotInstanceOf(SqlParseException.class)
          .hasMessageContaining("transaction");
    }
    assertThatThrownBy(() -> route(RULES, "SET autocommit = 0"))
        .isInstanceOf(UnsupportedSqlException.class)
        .hasMessageContaining("session");
    assertThatThrownBy(() -> route(RULES, "SELEC * FROM t_order"))
        .isInstanceOf(SqlParseException.class)
        .hasMessageContaining("SELEC");
    assertThatThrownBy(() -> route(RULES, "SELECT 1; SELECT 2"))
        .isInstanceOf(UnsupportedSqlException.class)
        .hasMessageContaining("several statements");
    assertThatThrownBy(() -> route(RULES, "SELECT * FROM other_db.t_order"))
        .isInstanceOf(UnsupportedSqlException.class)
        .hasMessageContaining("schema");
  }

  @Test
  void whatTheParserWouldPrintDifferentlyIsCaughtByTheRoundTripCheck() {
    // "\"" used to be the example; it is now single-quoted before parsing (DoubleQuotedStrings)
    assertThat(route(RULES, "SELECT * FROM t_order WHERE status = \"\\\"\"")).hasSize(8);
    assertThat(
            io.shardkit.router.impl.route.RoundTripAccess.sameQuotes(
                "SELECT * FROM t WHERE s = \"\\\"\"", "SELECT * FROM t WHERE s = \"\\\"\"\""))
        .isFalse();
    assertThat(
            io.shardkit.router.impl.route.RoundTripAccess.parameters(
                "SELECT '?', `?` /* ? */ FROM t WHERE a = ? -- ?\n AND b = ?"))
        .isEqualTo(2);
  }

  @Test
  void limitIsWidenedOnSeveralUnitsAndKeptOnOne() {
    Rewriter.Routed multi =
        routed(
            RULES, "SELECT * FROM t_order WHERE user_id = 1 ORDER BY order_id LIMIT ?, ?", 10, 5);
    assertThat(multi.units())
        .hasSize(4)
        .allMatch(
            u ->
                u.sql().endsWith("ORDER BY order_id LIMIT ?")
                    && u.params().deepToString().equals("[15]"));
    assertThat(multi.offset()).isEqualTo(10);
    assertThat(multi.limit()).isEqualTo(5);
    assertThat(
            routed(
                    RULES,
                    "SELECT * FROM t_order ORDER BY order_id LIMIT 3 OFFSET 2",
                    (Object[]) null)
                .units()
                .get(0)
                .sql())
        .endsWith("LIMIT 5");
    Rewriter.Routed single =
        routed(RULES, "SELECT * FROM t_order WHERE user_id = 1 AND order_id = 1 LIMIT ?, ?", 10, 5);
    assertThat(where(single.units()))
        .containsExactly(
            "ds_1:SELECT * FROM t_order_1 WHERE user_id = 1 AND order_id = 1 LIMIT ?, ?");
    assertThat(single.units().get(0).params().deepToString()).isEqualTo("[10,5]");
    Rewriter.Routed grouped =
        routed(
            RULES, "SELECT status, COUNT(*) FROM t_order GROUP BY status LIMIT 2", (Object[]) null);
    assertThat(grouped.units()).allMatch(u -> !u.sql().contains("LIMIT"));
    assertThat(grouped.limit()).isEqualTo(2);
  }

  /**
   * The derived sort key columns of a compared value: its {@code WEIGHT_STRING} and the space
   * weight of its collation when it pads (see the merge's {@code Collated}).
   */
  static String keys(String expression, int index) {
    return ", WEIGHT_STRING("
        + expression
        + ") AS sk_derived_w"
        + index
        + ", IF(LEFT("
        + expression
        + ", 0) = ' ', WEIGHT_STRING(CONCAT(LEFT("
        + expression
        + ", 0), ' ')), NULL) AS sk_derived_p"
        + (index + 1);
  }

  @Test
  void derivedColumnsForOrderByAvgAndDistinctAggregates() {
    assertThat(route(RULES, "SELECT status FROM t_order ORDER BY order_id DESC").get(0).sql())
        .isEqualTo(
            "SELECT status, order_id AS sk_derived_o0"
                + keys("order_id", 1)
                + " FROM t_order_0 ORDER BY order_id DESC");
    assertThat(route(RULES, "SELECT status, order_id FROM t_order ORDER BY order_id").get(0).sql())
        .as("key already projected")
        .isEqualTo(
            "SELECT status, order_id" + keys("order_id", 0) + " FROM t_order_0 ORDER BY order_id");
    assertThat(
            route(RULES, "SELECT user_id, AVG(order_id) a FROM t_order GROUP BY user_id")
                .get(0)
                .sql())
        .isEqualTo(
            "SELECT user_id, AVG(order_id) a, SUM(order_id) AS sk_derived_s0, COUNT(order_id) AS sk_derived_c1"
                + keys("user_id", 2)
                + " FROM t_order_0 GROUP BY user_id ORDER BY user_id");
    assertThat(route(RULES, "SELECT COUNT(DISTINCT status) FROM t_order").get(0).sql())
        .isEqualTo(
            "SELECT COUNT(DISTINCT status), status AS sk_derived_d0"
                + keys("status", 1)
                + " FROM t_order_0 GROUP BY status");
    assertThat(
            route(
                    RULES,
                    "SELECT status, COUNT(*) FROM t_order GROUP BY status HAVING COUNT(*) > ? AND MAX(order_id) < 9",
                    1)
                .get(0)
                .sql())
        .as("HAVING moves to the merge; its aggregates become derived columns")
        .isEqualTo(
            "SELECT status, COUNT(*)"
                + keys("status", 0)
                + ", MAX(order_id) AS sk_derived_h2"
                + keys("MAX(order_id)", 3)
                + " FROM t_order_0 GROUP BY status ORDER BY status");
    assertThat(
            route(
                    RULES,
                    "SELECT status, COUNT(*) FROM t_order GROUP BY status HAVING COUNT(*) > ?",
                    1)
                .get(0)
                .params()
                .size())
        .as("the HAVING parameter stays with the merge")
        .isZero();
    assertThat(
            route(
                RULES,
                "SELECT status, COUNT(*) FROM t_order WHERE user_id = 1 AND order_id = 1 GROUP BY status HAVING COUNT(*) > 1"))
        .as("one unit: HAVING runs on the shard")
        .hasSize(1);
    assertThatThrownBy(
            () -> route(RULES, "SELECT GROUP_CONCAT(status ORDER BY order_id) FROM t_order"))
        .isInstanceOf(UnsupportedSqlException.class)
        .hasMessageContaining("GROUP_CONCAT");
    assertThat(route(RULES, "SELECT COUNT(*) + 1 FROM t_order"))
        .as("an expression over aggregates is computed after the merge")
        .hasSize(8);
    assertThatThrownBy(() -> route(RULES, "SELECT LN(COUNT(*)) FROM t_order"))
        .isInstanceOf(UnsupportedSqlException.class)
        .hasMessageContaining("function LN around an aggregate");
  }

  @Test
  void unionBranchesOnDifferentNodesOfOneTableAreRefusedNotMixed() {
    assertThat(
            where(
                route(
                    RULES,
                    "SELECT status FROM t_order WHERE user_id = 1 AND order_id = 1"
                        + " UNION SELECT status FROM t_order WHERE user_id = 1 AND order_id = 1")))
        .as("both branches on one node")
        .hasSize(1);
    assertThatThrownBy(
            () ->
                route(
                    RULES,
                    "SELECT status FROM t_order WHERE user_id = 1 AND order_id = 1"
                        + " UNION SELECT status FROM t_order WHERE user_id = 1 AND order_id = 2"))
        .isInstanceOf(UnsupportedSqlException.class)
        // without the schema the branches cannot run one by one (their column types are unknown)
        .hasMessageContaining("UNION across data nodes, the type of column status is not known")
        .hasMessageContaining("UNION branches")
        .hasMessageContaining("different data nodes");
  }
}
