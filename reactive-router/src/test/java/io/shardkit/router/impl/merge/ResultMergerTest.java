package io.shardkit.router.impl.merge;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardkit.router.impl.Fixtures;
import io.shardkit.router.impl.analyse.MergeSpec;
import io.shardkit.router.impl.analyse.Values;
import io.shardkit.router.impl.route.Planner;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.data.Numeric;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Merging in-memory unit results with the merge spec the planner derives for a statement. */
class ResultMergerTest {

  static MergeSpec spec(String sql) {
    return ((io.shardkit.router.impl.route.SelectPlan) Planner.of(Fixtures.rules()).plan(sql))
        .merge();
  }

  static UnitRows rows(String sql, String... visible) {
    return new UnitRows(Planner.of(Fixtures.rules()).plan(sql), List.of(visible));
  }

  static RowSet<Row> unit(List<String> columns, Object[]... rows) {
    RowDesc desc = RowDesc.of(columns, List.of());
    List<Row> list = new ArrayList<>();
    for (Object[] r : rows) {
      list.add(new MergedRow(desc, r));
    }
    return MergedRowSet.of(list, columns, List.of(), list.size(), Map.of());
  }

  static List<List<Object>> values(RowSet<Row> rs) {
    List<List<Object>> out = new ArrayList<>();
    for (Row r : rs) {
      List<Object> row = new ArrayList<>();
      for (int i = 0; i < r.size(); i++) {
        Object v = r.getValue(i);
        row.add(v instanceof Numeric n ? n.bigDecimalValue() : v);
      }
      out.add(row);
    }
    return out;
  }

  static Object[] row(Object... values) {
    return values;
  }

  @Test
  void kWayMergeKeepsOrderByWithDescAndNulls() {
    UnitRows u =
        rows(
            "SELECT order_id, status FROM t_order ORDER BY status DESC, order_id",
            "order_id",
            "status");
    MergeSpec spec = u.plan().merge();

    RowSet<Row> merged =
        ResultMerger.merge(
            List.of(
                u.unit(row(1L, "b"), row(4L, "a"), row(2L, null)),
                u.unit(row(3L, "B"), row(5L, "a"))),
            spec,
            0,
            -1,
            null);
    assertThat(values(merged))
        .containsExactly(
            Arrays.asList(1L, "b"),
            Arrays.asList(3L, "B"),
            Arrays.asList(4L, "a"),
            Arrays.asList(5L, "a"),
            Arrays.asList(2L, null));
  }

  @Test
  void offsetAndLimitApplyAfterTheMergeAndDerivedColumnsAreHidden() {
    UnitRows u = rows("SELECT status FROM t_order ORDER BY order_id LIMIT 1, 2", "status");
    MergeSpec spec = u.plan().merge();
    // order_id, its sort key and the pad weight
    assertThat(spec.derivedCount()).isEqualTo(3);

    RowSet<Row> merged =
        ResultMerger.merge(
            List.of(
                u.unit(row("a", 1L), row("c", 3L), row("e", 5L)),
                u.unit(row("b", 2L), row("d", 4L))),
            spec,
            1,
            2,
            null);
    assertThat(merged.columnsNames()).containsExactly("status");
    assertThat(values(merged)).containsExactly(List.of("b"), List.of("c"));
    assertThat(merged.iterator().next().getColumnIndex("sk_derived_o0")).isEqualTo(-1);
  }

  @Test
  void groupByStreamsWhenUnitsAreSortedByTheGroupKeys() {
    UnitRows u =
        rows(
            "SELECT user_id, COUNT(*), SUM(order_id), MIN(order_id), MAX(order_id), AVG(order_id) a FROM t_order GROUP BY user_id",
            "user_id",
            "COUNT(*)",
            "SUM(order_id)",
            "MIN(order_id)",
            "MAX(order_id)",
            "a");
    MergeSpec spec = u.plan().merge();
    assertThat(spec.streamingGroup()).isTrue();

    RowSet<Row> merged =
        ResultMerger.merge(
            List.of(
                u.unit(
                    row(1, 2L, num(3), 1L, 2L, num("1.5000"), num(3), 2L),
                    row(2, 1L, num(10), 10L, 10L, num("10.0000"), num(10), 1L)),
                u.unit(
                    row(1, 1L, num(4), 4L, 4L, num("4.0000"), num(4), 1L),
                    row(3, 1L, num(7), 7L, 7L, num("7.0000"), num(7), 1L))),
            spec,
            0,
            -1,
            null);
    assertThat(merged.columnsNames())
        .containsExactly(
            "user_id", "COUNT(*)", "SUM(order_id)", "MIN(order_id)", "MAX(order_id)", "a");
    assertThat(values(merged))
        .containsExactly(
            List.of(1, 3L, new BigDecimal("7"), 1L, 4L, new BigDecimal("2.3333")),
            List.of(2, 1L, new BigDecimal("10"), 10L, 10L, new BigDecimal("10.0000")),
            List.of(3, 1L, new BigDecimal("7"), 7L, 7L, new BigDecimal("7.0000")));
  }

  @Test
  void groupByInMemoryWhenOrderedByAnAggregate() {
    UnitRows u =
        rows(
            "SELECT user_id, COUNT(*) c FROM t_order GROUP BY user_id ORDER BY c DESC LIMIT 2",
            "user_id",
            "c");
    MergeSpec spec = u.plan().merge();
    assertThat(spec.sortAfterGroup()).isTrue();

    RowSet<Row> merged =
        ResultMerger.merge(
            List.of(u.unit(row(1, 5L), row(2, 1L), row(3, 1L)), u.unit(row(3, 9L), row(2, 1L))),
            spec,
            0,
            2,
            null);
    assertThat(values(merged)).containsExactly(List.of(3, 10L), List.of(1, 5L));
  }

  @Test
  void distinctAggregatesAreExactAcrossUnits() {
    UnitRows u =
        rows(
            "SELECT COUNT(DISTINCT status), SUM(DISTINCT order_id), AVG(DISTINCT order_id), COUNT(*) FROM t_order",
            "c",
            "s",
            "a",
            "n");
    MergeSpec spec = u.plan().merge();

    // each unit returns one row per (status, order_id): the values overlap between units
    RowSet<Row> merged =
        ResultMerger.merge(
            List.of(
                u.unit(
                    row(1L, num(1), num(1), 2L, "x", 1L, 1L),
                    row(1L, num(2), num(2), 1L, "y", 2L, 2L)),
                u.unit(
                    row(1L, num(2), num(2), 1L, "X", 2L, 2L),
                    row(1L, num(5), num(5), 1L, "z", 5L, 5L),
                    row(0L, null, null, 1L, null, null, null))),
            spec,
            0,
            -1,
            null);
    assertThat(values(merged))
        .containsExactly(Arrays.asList(3L, new BigDecimal("8"), new BigDecimal("2.6667"), 6L));
  }

  @Test
  void scalarAggregateOverNoRowsGivesOneRow() {
    UnitRows u =
        rows("SELECT COUNT(DISTINCT status), SUM(DISTINCT order_id) FROM t_order", "c", "s");
    MergeSpec spec = u.plan().merge();

    RowSet<Row> merged = ResultMerger.merge(List.of(u.unit(), u.unit()), spec, 0, -1, null);
    assertThat(values(merged)).containsExactly(Arrays.asList(0L, null));
  }

  @Test
  void selectDistinctDeduplicatesAcrossUnitsUnderTheCollation() {
    UnitRows u = rows("SELECT DISTINCT status FROM t_order ORDER BY status", "status");
    MergeSpec spec = u.plan().merge();

    RowSet<Row> merged =
        ResultMerger.merge(
            List.of(u.unit(row("a"), row("b")), u.unit(row("A"), row("b "), row("c"))),
            spec,
            0,
            -1,
            null);
    assertThat(values(merged)).containsExactly(List.of("a"), List.of("b"), List.of("c"));
  }

  @Test
  void plainScatterConcatenatesUnits() {
    MergeSpec spec = spec("SELECT order_id FROM t_order");
    assertThat(spec.isPlain()).isTrue();
    List<String> cols = List.of("order_id");
    RowSet<Row> merged =
        ResultMerger.merge(
            List.of(unit(cols, row(2L)), unit(cols, row(1L), row(3L))), spec, 0, -1, null);
    assertThat(values(merged)).containsExactly(List.of(2L), List.of(1L), List.of(3L));
    assertThat(merged.rowCount()).isEqualTo(3);
  }

  @Test
  void havingIsAppliedAfterMergingGroups() {
    UnitRows u =
        rows(
            "SELECT user_id, COUNT(*) c FROM t_order GROUP BY user_id HAVING COUNT(*) >= ? AND SUM(order_id) > 10 ORDER BY user_id",
            "user_id",
            "c");
    MergeSpec spec = u.plan().merge();
    assertThat(spec.having()).isNotNull();

    // user 1: 1+1 rows, sum 4+8; user 2: 2 rows, sum 30; user 3: 1 row, sum 50
    RowSet<Row> merged =
        ResultMerger.merge(
            List.of(
                u.unit(row(1, 1L, num(4)), row(2, 1L, num(10)), row(3, 1L, num(50))),
                u.unit(row(1, 1L, num(8)), row(2, 1L, num(20)))),
            spec,
            0,
            -1,
            io.vertx.sqlclient.Tuple.of(2));
    assertThat(values(merged)).containsExactly(List.of(1, 2L), List.of(2, 2L));
    assertThat(merged.columnsNames()).containsExactly("user_id", "c");
  }

  @Test
  void anEnumOrSetColumnWithoutItsMembersIsRefusedNotOrderedByText() {
    UnitRows u = rows("SELECT status FROM t_order ORDER BY status", "status");
    MergeSpec spec = u.plan().merge();
    List<io.vertx.sqlclient.desc.ColumnDescriptor> setColumn =
        List.of(
            new io.vertx.mysqlclient.impl.protocol.ColumnDefinition(
                "status", 45, io.vertx.mysqlclient.impl.datatype.DataType.STRING, 2048));
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> ResultMerger.checkOrdinals(spec, setColumn, 1))
        .isInstanceOf(io.shardkit.router.UnsupportedSqlException.class)
        .hasMessageContaining("ENUM or SET");
    List<io.vertx.sqlclient.desc.ColumnDescriptor> varchar =
        List.of(
            new io.vertx.mysqlclient.impl.protocol.ColumnDefinition(
                "status", 45, io.vertx.mysqlclient.impl.datatype.DataType.VARSTRING, 0));
    ResultMerger.checkOrdinals(spec, varchar, 1);
  }

  @Test
  void valuesCompareLikeMysql() {
    assertThat(Values.compare(2, 10L)).isNegative();
    assertThat(Values.compare(new BigDecimal("2.50"), Numeric.create(2.5))).isZero();
    assertThat(Values.compare(null, 0)).isNegative();
    assertThat(Values.key(3)).isEqualTo(Values.key(new BigDecimal("3.0")));
  }

  static Numeric num(Object v) {
    return Numeric.create(new BigDecimal(v.toString()));
  }
}
