package io.shardkit.router.impl.parse;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.shardkit.router.ShardingRules;
import io.shardkit.router.UnsupportedSqlException;
import io.shardkit.router.impl.Fixtures;
import io.shardkit.router.impl.rewrite.SqlUnit;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * What MySQL/MariaDB accept in statements on sharded tables, and what the router does with each: it
 * parses and routes (and the unit's SQL says the same thing), or it is refused by name, never with
 * a parser's internal text. The list is mirrored in the README ("What parses").
 */
class MySqlConstructsTest {

  static final ShardingRules RULES = Fixtures.rules();

  /** A point condition: every statement below routes to one unit (ds_1.t_order_2). */
  static final String ONE = "user_id = 1 AND order_id = 2";

  static final String ROUTES = "routes";

  static Stream<Arguments> constructs() {
    return Stream.of(
        // construct, SQL, "routes" + text the unit's SQL contains, or a refusal message fragment
        row("FOR UPDATE", "SELECT * FROM t_order WHERE " + ONE + " FOR UPDATE", "FOR UPDATE"),
        row("FOR SHARE", "SELECT * FROM t_order WHERE " + ONE + " FOR SHARE", "FOR SHARE"),
        row(
            "FOR UPDATE SKIP LOCKED / NOWAIT",
            "SELECT * FROM t_order WHERE " + ONE + " FOR UPDATE NOWAIT",
            "FOR UPDATE NOWAIT"),
        refused(
            "LOCK IN SHARE MODE",
            "SELECT * FROM t_order WHERE " + ONE + " LOCK IN SHARE MODE",
            "SELECT ... LOCK IN SHARE MODE cannot be read by the router's SQL parser"),
        row(
            "ORDER BY BINARY col",
            "SELECT * FROM t_order WHERE " + ONE + " ORDER BY BINARY status",
            "ORDER BY CAST(status AS BINARY)"),
        row(
            "WHERE BINARY col = ?",
            "SELECT * FROM t_order WHERE BINARY status = 'a' AND " + ONE,
            "CAST(status AS BINARY) = 'a'"),
        row(
            "BINARY of a literal",
            "SELECT * FROM t_order WHERE status = BINARY _utf8mb4'a' AND " + ONE,
            "status = CAST(_utf8mb4'a' AS BINARY)"),
        row(
            "CONVERT(x, BINARY) (the type, untouched)",
            "SELECT CONVERT(status, BINARY) FROM t_order WHERE " + ONE,
            "BINARY"),
        refused(
            "BINARY before a function call",
            "SELECT * FROM t_order WHERE BINARY LOWER(status) = 'a' AND " + ONE,
            "write CAST(expression AS BINARY)"),
        refused(
            "LAST_INSERT_ID(), FOUND_ROWS(), ROW_COUNT(), CONNECTION_ID(), GET_LOCK(), @var",
            "SELECT LAST_INSERT_ID()",
            "\"LAST_INSERT_ID()\" belongs to one connection of one server"),
        refused(
            "a user variable",
            "SELECT * FROM t_order WHERE " + ONE + " AND status = @s",
            "\"@s\" belongs to one connection of one server"),
        refused(
            "REPLACE INTO ... VALUES",
            "REPLACE INTO t_order (order_id, user_id, status) VALUES (2, 1, 'a')",
            "\"REPLACE INTO t_order\": REPLACE is not routed"),
        row(
            "INSERT IGNORE",
            "INSERT IGNORE INTO t_order (order_id, user_id, status) VALUES (2, 1, 'a')",
            "INSERT IGNORE INTO t_order_2"),
        row(
            "INSERT ... SET",
            "INSERT INTO t_order SET order_id = 2, user_id = 1, status = 'a'",
            "t_order_2"),
        row(
            "SELECT SQL_CALC_FOUND_ROWS",
            "SELECT SQL_CALC_FOUND_ROWS * FROM t_order WHERE " + ONE,
            "SQL_CALC_FOUND_ROWS"),
        row(
            "SELECT STRAIGHT_JOIN",
            "SELECT STRAIGHT_JOIN o.* FROM t_order o JOIN t_order_item i ON o.order_id = i.order_id"
                + " WHERE o.user_id = 1 AND o.order_id = 2",
            "STRAIGHT_JOIN"),
        row(
            "a STRAIGHT_JOIN b",
            "SELECT o.* FROM t_order o STRAIGHT_JOIN t_order_item i ON o.order_id = i.order_id"
                + " WHERE o.user_id = 1 AND o.order_id = 2",
            "STRAIGHT_JOIN t_order_item_2"),
        row(
            "FORCE INDEX (idx)",
            "SELECT * FROM t_order FORCE INDEX (idx_status) WHERE " + ONE,
            "t_order_2 FORCE INDEX (idx_status)"),
        row(
            "USE INDEX (idx)",
            "SELECT * FROM t_order USE INDEX (idx_status) WHERE " + ONE,
            "USE INDEX (idx_status)"),
        refused(
            "DELETE t FROM t JOIN ...",
            "DELETE o FROM t_order o JOIN t_order_item i ON o.order_id = i.order_id WHERE o.user_id"
                + " = 1",
            "\"DELETE o FROM\": a multi-table DELETE is not supported"),
        row(
            "UPDATE ... ORDER BY ... LIMIT (one node)",
            "UPDATE t_order SET status = 'x' WHERE " + ONE + " ORDER BY order_id LIMIT 1",
            "ORDER BY order_id LIMIT 1"),
        refused(
            "UPDATE ... ORDER BY ... LIMIT (several nodes)",
            "UPDATE t_order SET status = 'x' WHERE user_id = 1 ORDER BY order_id LIMIT 1",
            "UPDATE ... LIMIT on several data nodes"),
        refused(
            "SELECT ... INTO OUTFILE",
            "SELECT * FROM t_order WHERE " + ONE + " INTO OUTFILE '/tmp/x'",
            "SELECT ... INTO OUTFILE is not supported on a sharded pool"),
        refused(
            "SELECT ... INTO DUMPFILE",
            "SELECT * INTO DUMPFILE '/tmp/x' FROM t_order WHERE " + ONE,
            "SELECT ... INTO DUMPFILE is not supported on a sharded pool"),
        refused(
            "SELECT ... INTO @var",
            "SELECT status INTO @s FROM t_order WHERE " + ONE,
            "SELECT ... INTO @variable is not supported on a sharded pool"),
        refused(
            "SELECT HIGH_PRIORITY",
            "SELECT HIGH_PRIORITY * FROM t_order WHERE " + ONE,
            "SELECT HIGH_PRIORITY cannot be read"),
        row(
            "ON DUPLICATE KEY UPDATE c = VALUES(c)",
            "INSERT INTO t_order (order_id, user_id, status) VALUES (2, 1, 'a') ON DUPLICATE KEY"
                + " UPDATE status = VALUES(status)",
            "ON DUPLICATE KEY UPDATE status = VALUES(status)"),
        refused(
            "... AS new ON DUPLICATE KEY UPDATE c = new.c",
            "INSERT INTO t_order (order_id, user_id, status) VALUES (2, 1, 'a') AS new ON DUPLICATE"
                + " KEY UPDATE status = new.status",
            "INSERT ... \"AS new\" (a row alias) is not supported"),
        row(
            "WITH (CTE on one node)",
            "WITH x AS (SELECT * FROM t_order WHERE " + ONE + ") SELECT * FROM x",
            "WITH x AS (SELECT * FROM t_order_2"),
        row(
            "window function (one node)",
            "SELECT order_id, ROW_NUMBER() OVER (ORDER BY order_id) AS rn FROM t_order WHERE "
                + ONE,
            "ROW_NUMBER() OVER (ORDER BY order_id)"),
        refused(
            "window function (several nodes)",
            "SELECT order_id, ROW_NUMBER() OVER (ORDER BY order_id) AS rn FROM t_order",
            "window function ROW_NUMBER() OVER (ORDER BY order_id) cannot be merged"),
        row(
            "JSON_TABLE",
            "SELECT o.*, j.v FROM t_order o, JSON_TABLE('[1,2]', '$[*]' COLUMNS (v INT PATH '$'))"
                + " AS j WHERE o.user_id = 1 AND o.order_id = 2",
            "JSON_TABLE('[1,2]'"),
        row(
            "backslash escapes",
            "SELECT * FROM t_order WHERE status = 'it\\'s a\\\\b\\n' AND " + ONE,
            "'it\\'s a\\\\b\\n'"),
        row(
            "_utf8mb4'x' introducer",
            "SELECT * FROM t_order WHERE status = _utf8mb4'x' AND " + ONE,
            "_utf8mb4'x'"),
        row("X'0A'", "SELECT * FROM t_order WHERE status = X'0A' AND " + ONE, "X'0A'"),
        row("b'1'", "SELECT * FROM t_order WHERE status = b'1' AND " + ONE, "'1'"),
        row("0x41", "SELECT * FROM t_order WHERE status = 0x41 AND " + ONE, "0x41"),
        row("DIV", "SELECT order_id DIV 2 FROM t_order WHERE " + ONE, "order_id DIV 2"),
        row("MOD (operator)", "SELECT order_id MOD 3 FROM t_order WHERE " + ONE, "order_id % 3"),
        row(
            "MOD() (function)",
            "SELECT MOD(order_id, 3) FROM t_order WHERE " + ONE,
            "MOD(order_id, 3)"),
        row("<=>", "SELECT * FROM t_order WHERE status <=> NULL AND " + ONE, "status <=> NULL"),
        row("REGEXP", "SELECT * FROM t_order WHERE status REGEXP '^a' AND " + ONE, "REGEXP '^a'"),
        row(
            "INTERVAL 1 DAY",
            "SELECT * FROM t_order WHERE created > NOW() - INTERVAL 1 DAY AND " + ONE,
            "NOW() - INTERVAL 1 DAY"),
        row(
            "CAST(x AS SIGNED)",
            "SELECT CAST(status AS SIGNED) FROM t_order WHERE " + ONE,
            "CAST(status AS SIGNED)"),
        row(
            "CONVERT(x USING utf8mb4)",
            "SELECT CONVERT(status USING utf8mb4) FROM t_order WHERE " + ONE,
            "USING utf8mb4"),
        row(
            "COLLATE",
            "SELECT * FROM t_order WHERE status COLLATE utf8mb4_bin = 'a' AND " + ONE,
            "status COLLATE utf8mb4_bin = 'a'"),
        row(
            "ORDER BY ... COLLATE",
            "SELECT * FROM t_order WHERE " + ONE + " ORDER BY status COLLATE utf8mb4_bin",
            "ORDER BY status COLLATE utf8mb4_bin"));
  }

  static Arguments row(String construct, String sql, String expectedInUnitSql) {
    return Arguments.of(construct, sql, ROUTES, expectedInUnitSql);
  }

  static Arguments refused(String construct, String sql, String expectedMessage) {
    return Arguments.of(construct, sql, "refused", expectedMessage);
  }

  @ParameterizedTest(name = "{0}: {2}")
  @MethodSource("constructs")
  void eachConstructParsesAndRoutesOrIsRefusedByName(
      String construct, String sql, String outcome, String expected) {
    if (outcome.equals(ROUTES)) {
      List<SqlUnit> actualUnits = Fixtures.route(RULES, sql, (Object[]) null);
      assertThat(actualUnits).as(construct).hasSize(1);
      assertThat(actualUnits.get(0).sql()).as(construct).contains(expected);
    } else {
      Throwable actual = catchThrowable(() -> Fixtures.route(RULES, sql, (Object[]) null));
      assertThat(actual).as(construct).isInstanceOf(UnsupportedSqlException.class);
      assertThat(actual.getMessage()).as(construct).contains(expected);
      assertNoParserInternals(actual.getMessage());
    }
  }

  static void assertNoParserInternals(String message) {
    assertThat(message)
        .doesNotContain("lexical state")
        .doesNotContain("Was expecting")
        .doesNotContain("expansion")
        .doesNotContainPattern("<[A-Z_]+>")
        .doesNotContain("Encountered");
  }
}
