package io.shardkit.router.impl.merge;

import static io.shardkit.router.impl.merge.ResultMergerTest.row;
import static io.shardkit.router.impl.merge.ResultMergerTest.values;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardkit.router.ShardingRules;
import io.shardkit.router.UnsupportedSqlException;
import io.shardkit.router.impl.Fixtures;
import io.shardkit.router.impl.analyse.MergeSpec;
import io.shardkit.router.impl.analyse.Spread;
import io.shardkit.router.impl.route.Planner;
import io.shardkit.router.impl.schema.SchemaCatalog;
import io.vertx.core.buffer.Buffer;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import java.math.BigDecimal;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Merges over the column types whose values the driver does not hand over as the server compares
 * them: BIT (a signed long; the server orders it unsigned), FLOAT (6 significant digits on the text
 * protocol; the units add the exact value as a double), binary strings in HAVING (bytes, not a
 * collation). The values are what MariaDB 11.4 sends (measured with the fuzzer's types).
 */
class TypedKeysMergeTest {

  private static final ShardingRules RULES = Fixtures.rules();
  private static final SchemaCatalog CATALOG =
      Fixtures.catalog(
          RULES,
          "t_order.order_id bigint",
          "t_order.user_id int",
          "t_order.status varchar(20) utf8mb4_general_ci",
          "t_order.flags bit(64)",
          "t_order.ratio float",
          "t_order.code varbinary(8)");

  /** BIT(64) values as the driver decodes them: 2^63 and 2^64-1 are negative longs. */
  private static final long TWO_63 = Long.MIN_VALUE;

  private static final long ALL_ONES = -1L;

  private static UnitRows rows(String sql, String... visible) {
    return new UnitRows(Planner.of(RULES, CATALOG).plan(sql), List.of(visible));
  }

  private static RowSet<Row> merge(UnitRows u, RowSet<Row> a, RowSet<Row> b, boolean text) {
    return ResultMerger.merge(
        List.of(a, b), u.plan().merge(), 0, -1, text ? null : io.vertx.sqlclient.Tuple.tuple());
  }

  @Test
  void bitValuesOrderUnsignedAcrossUnits() {
    UnitRows u = rows("SELECT flags FROM t_order ORDER BY flags", "flags");
    RowSet<Row> merged =
        merge(u, u.unit(row(5L), row(ALL_ONES)), u.unit(row(1L), row(TWO_63)), true);
    assertThat(values(merged))
        .containsExactly(List.of(1L), List.of(5L), List.of(TWO_63), List.of(ALL_ONES));
  }

  @Test
  void bitGroupsStreamInUnsignedOrderWithoutSplitting() {
    UnitRows u = rows("SELECT flags, COUNT(*) FROM t_order GROUP BY flags", "flags", "n");
    assertThat(u.plan().merge().streamingGroup()).isTrue();
    RowSet<Row> merged =
        merge(
            u,
            u.unit(row(1L, 1L), row(ALL_ONES, 2L)),
            u.unit(row(1L, 3L), row(TWO_63, 1L), row(ALL_ONES, 1L)),
            true);
    assertThat(values(merged))
        .containsExactly(List.of(1L, 4L), List.of(TWO_63, 1L), List.of(ALL_ONES, 3L));
  }

  @Test
  void havingComparesBitUnsigned() {
    UnitRows u =
        rows("SELECT flags, COUNT(*) FROM t_order GROUP BY flags HAVING flags > 5", "flags", "n");
    RowSet<Row> merged =
        merge(u, u.unit(row(1L, 1L), row(ALL_ONES, 1L)), u.unit(row(7L, 1L)), true);
    assertThat(values(merged)).containsExactly(List.of(7L, 1L), List.of(ALL_ONES, 1L));
  }

  @Test
  void sumOfDistinctBitValuesReadsThemUnsigned() {
    UnitRows u = rows("SELECT SUM(DISTINCT flags) FROM t_order", "s");
    // each unit groups by the distinct value: (its partial sum, the value)
    RowSet<Row> merged =
        merge(
            u,
            u.unit(row(num("18446744073709551615"), ALL_ONES)),
            u.unit(row(num("18446744073709551616"), ALL_ONES), row(num(1), 1L)),
            true);
    assertThat(values(merged)).containsExactly(List.of(new BigDecimal("18446744073709551616")));
  }

  @Test
  void minAndMaxOfABitColumnAreRefusedAcrossUnits() {
    assertThatThrownBy(
            () -> Fixtures.route(CATALOG, RULES, "SELECT MAX(flags) FROM t_order", (Object[]) null))
        .isInstanceOf(UnsupportedSqlException.class)
        .hasMessageContaining("MIN/MAX of a BIT column")
        .hasMessageContaining("MAX(flags + 0)");
  }

  @Test
  void groupConcatDistinctOfBitWritesDecimalDigitsInUnsignedOrder() {
    String sql = "SELECT GROUP_CONCAT(DISTINCT flags) FROM t_order";
    assertThat(Fixtures.route(CATALOG, RULES, sql, (Object[]) null).get(0).sql())
        .contains("CAST(flags + 0 AS BINARY)");
    UnitRows u = rows(sql, "g");
    RowSet<Row> merged =
        merge(
            u,
            u.unit(
                row(Buffer.buffer("5"), 1024L, 5L, Buffer.buffer("5")),
                row(Buffer.buffer("x"), 1024L, ALL_ONES, Buffer.buffer("18446744073709551615"))),
            u.unit(row(Buffer.buffer("x"), 1024L, TWO_63, Buffer.buffer("9223372036854775808"))),
            true);
    assertThat(values(merged))
        .containsExactly(List.of(Buffer.buffer("5,9223372036854775808,18446744073709551615")));
  }

  @Test
  void floatKeysCompareByTheirExactValueNotTheTextProtocolDigits() {
    UnitRows u = rows("SELECT ratio, COUNT(*) FROM t_order GROUP BY ratio", "ratio", "n");
    assertThat(u.plan().multi().toString()).contains("ratio + 0e0");
    // 123456.79f and 123456.8f both read 123457 on the text protocol: two groups on the server
    RowSet<Row> merged =
        merge(
            u,
            u.unit(row(123457f, 1L, 123456.7890625), row(123457f, 2L, 123456.796875)),
            u.unit(row(123457f, 4L, 123456.796875)),
            true);
    assertThat(values(merged)).containsExactly(List.of(123457f, 1L), List.of(123457f, 6L));
  }

  @Test
  void countAndSumOfDistinctFloatsUseTheExactValues() {
    UnitRows u = rows("SELECT COUNT(DISTINCT ratio), SUM(DISTINCT ratio) FROM t_order", "c", "s");
    RowSet<Row> merged =
        merge(u, unit(u, 123456.7890625), unit(u, 123456.796875, 123456.7890625), true);
    assertThat(values(merged)).containsExactly(List.of(2L, 123456.7890625 + 123456.796875));
  }

  @Test
  void aFloatWithoutItsExactValueIsRefusedOnTheTextProtocolOnly() {
    UnitRows u = rows("SELECT DISTINCT * FROM t_order", "ratio");
    List<io.vertx.sqlclient.desc.ColumnDescriptor> floatColumn =
        List.of(
            new io.vertx.mysqlclient.impl.protocol.ColumnDefinition(
                "ratio", 63, io.vertx.mysqlclient.impl.datatype.DataType.FLOAT, 0));
    MergeSpec spec = u.plan().merge();
    MergeSpec.Resolved[] keys = {new MergeSpec.Resolved(0, -1, -1)};
    assertThatThrownBy(() -> ResultMerger.checkFloats(spec, floatColumn, 1, keys, true))
        .isInstanceOf(UnsupportedSqlException.class)
        .hasMessageContaining("FLOAT");
    ResultMerger.checkFloats(spec, floatColumn, 1, keys, false);
  }

  @Test
  void havingComparesABinaryStringByBytes() {
    UnitRows u =
        rows("SELECT code, COUNT(*) FROM t_order GROUP BY code HAVING code = 'A'", "code", "n");
    // the sort key columns of a binary string play no part here: bytes compare as bytes
    int width = u.columns().size();
    RowSet<Row> merged =
        merge(
            u,
            ResultMergerTest.unit(u.columns(), padded(width, Buffer.buffer("a"), 1L)),
            ResultMergerTest.unit(u.columns(), padded(width, Buffer.buffer("A"), 1L)),
            true);
    assertThat(values(merged)).containsExactly(Arrays.asList(Buffer.buffer("A"), 1L));
  }

  @Test
  void havingReadsABinaryStringComparedWithANumberAsItsNumericPrefix() {
    UnitRows u = rows("SELECT MAX(code) AS m FROM t_order HAVING m > 3", "m");
    int width = u.columns().size();
    // 0x8001 reads as 0 (no digits), '17x' as 17
    RowSet<Row> none =
        merge(
            u,
            ResultMergerTest.unit(u.columns(), padded(width, Buffer.buffer(new byte[] {-128, 1}))),
            ResultMergerTest.unit(u.columns(), padded(width, Buffer.buffer("\u0001"))),
            true);
    assertThat(values(none)).isEmpty();
    RowSet<Row> one =
        merge(
            u,
            ResultMergerTest.unit(u.columns(), padded(width, Buffer.buffer("17x"))),
            ResultMergerTest.unit(u.columns(), padded(width, Buffer.buffer("1"))),
            true);
    assertThat(values(one)).containsExactly(List.of(Buffer.buffer("17x")));
  }

  @Test
  void havingRefusesAYearComparedWithATwoDigitValue() {
    assertThatThrownBy(
            () ->
                Fixtures.route(
                    YEARS,
                    RULES,
                    "SELECT yr, COUNT(*) FROM t_order GROUP BY yr HAVING yr >= 24",
                    (Object[]) null))
        .isInstanceOf(UnsupportedSqlException.class)
        .hasMessageContaining("two-digit");
    assertThat(
            Fixtures.route(
                YEARS,
                RULES,
                "SELECT yr, COUNT(*) FROM t_order GROUP BY yr HAVING yr >= 2024",
                (Object[]) null))
        .hasSize(8);
  }

  @Test
  void varianceOfAFractionalDateTimeIsRefusedAcrossUnits() {
    SchemaCatalog catalog =
        Fixtures.catalog(
            RULES, "t_order.order_id bigint", "t_order.user_id int", "t_order.at datetime(6)");
    assertThatThrownBy(
            () -> Fixtures.route(catalog, RULES, "SELECT STD(at) FROM t_order", (Object[]) null))
        .isInstanceOf(UnsupportedSqlException.class)
        .hasMessageContaining("fractional seconds");
    SchemaCatalog whole =
        Fixtures.catalog(
            RULES, "t_order.order_id bigint", "t_order.user_id int", "t_order.at datetime");
    assertThat(Fixtures.route(whole, RULES, "SELECT STD(at) FROM t_order", (Object[]) null))
        .hasSize(8);
  }

  private static final SchemaCatalog YEARS =
      Fixtures.catalog(RULES, "t_order.order_id bigint", "t_order.user_id int", "t_order.yr year");

  @Test
  void varianceOfBitTakesTheMeanFromDoublesAndRoundsLikeAnInteger() {
    // the server reads b'1...1' as -1 in its variance: values -1, 1, 1, 1 have variance 0.75
    Spread spread = new Spread();
    spread.add(2L, 0.0, 1.0, 3.141593, true);
    spread.add(2L, 2.0, 0.0, 3.141593, true);
    assertThat(spread.result(true, false, true)).isEqualTo(0.866);
    assertThat(spread.result(false, false, true)).isEqualTo(Math.sqrt(0.75));
  }

  /**
   * A unit's rows for {@code COUNT(DISTINCT ratio), SUM(DISTINCT ratio)}: one row per distinct
   * value, every FLOAT shown as the text protocol shows it (123457), its exact value in the derived
   * {@code ratio + 0e0} columns.
   */
  private static RowSet<Row> unit(UnitRows u, double... exact) {
    List<String> names = u.columns();
    Object[][] rows = new Object[exact.length][];
    for (int r = 0; r < exact.length; r++) {
      rows[r] = new Object[names.size()];
      for (int i = 0; i < names.size(); i++) {
        String n = names.get(i);
        rows[r][i] =
            n.startsWith("sk_derived_x")
                ? exact[r]
                : n.startsWith("sk_derived_d") ? 123457f : i == 0 ? 1L : exact[r];
      }
    }
    return ResultMergerTest.unit(names, rows);
  }

  private static Object[] padded(int width, Object... visible) {
    return Arrays.copyOf(visible, width);
  }

  private static io.vertx.sqlclient.data.Numeric num(Object v) {
    return io.vertx.sqlclient.data.Numeric.create(new BigDecimal(v.toString()));
  }
}
