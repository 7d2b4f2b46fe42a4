package io.shardkit.router.impl.merge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardkit.router.UnsupportedSqlException;
import io.shardkit.router.impl.Fixtures;
import io.shardkit.router.impl.analyse.MergeSpec;
import io.shardkit.router.impl.rewrite.SqlUnit;
import io.shardkit.router.impl.route.Planner;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** GROUP_CONCAT across units: the rewrite and the merge of in-memory unit rows. */
class GroupConcatMergeTest {

  static MergeSpec spec(String sql) {
    return ((io.shardkit.router.impl.route.SelectPlan) Planner.of(Fixtures.rules()).plan(sql))
        .merge();
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
        row.add(r.getValue(i));
      }
      out.add(row);
    }
    return out;
  }

  @Test
  void unitsAskForTheServersMaximumLength() {
    List<SqlUnit> units =
        Fixtures.route(
            Fixtures.rules(), "SELECT GROUP_CONCAT(status) AS s FROM t_order", (Object[]) null);

    assertThat(units).hasSize(8);
    assertThat(units.get(0).sql())
        .isEqualTo(
            "SELECT GROUP_CONCAT(status) AS s, @@group_concat_max_len AS sk_derived_m0 FROM t_order_0");
  }

  @Test
  void valuesOfAllUnitsAreJoinedWithTheSeparatorSkippingNulls() {
    MergeSpec spec = spec("SELECT GROUP_CONCAT(status SEPARATOR '|') AS s FROM t_order");
    List<String> cols = List.of("s", "sk_derived_m0");

    RowSet<Row> actual =
        ResultMerger.merge(
            List.of(
                unit(cols, new Object[] {"a|b", 1024L}),
                unit(cols, new Object[] {null, 1024L}),
                unit(cols, new Object[] {"c", 1024L})),
            spec,
            0,
            -1,
            null);

    assertThat(actual.columnsNames()).containsExactly("s");
    assertThat(values(actual)).containsExactly(List.of("a|b|c"));
  }

  @Test
  void noValueAtAllIsNull() {
    MergeSpec spec = spec("SELECT GROUP_CONCAT(status) FROM t_order");
    List<String> cols = List.of("GROUP_CONCAT(status)", "sk_derived_m0");

    RowSet<Row> actual =
        ResultMerger.merge(
            List.of(unit(cols, new Object[] {null, 1024L}), unit(cols)), spec, 0, -1, null);

    assertThat(values(actual)).containsExactly(Arrays.asList((Object) null));
  }

  @Test
  void theJoinedValueIsCutAtTheServersMaximumLengthOnACharacterBoundary() {
    MergeSpec spec = spec("SELECT GROUP_CONCAT(status) AS s FROM t_order");
    List<String> cols = List.of("s", "sk_derived_m0");

    RowSet<Row> actual =
        ResultMerger.merge(
            List.of(unit(cols, new Object[] {"abc", 6L}), unit(cols, new Object[] {"é€", 6L})),
            spec,
            0,
            -1,
            null);

    assertThat(values(actual)).containsExactly(List.of("abc,é"));
  }

  @Test
  void distinctValuesAreCollectedAcrossUnitsAndJoinedInAscendingOrder() {
    UnitRows u =
        ResultMergerTest.rows(
            "SELECT user_id, GROUP_CONCAT(DISTINCT status SEPARATOR ' ') AS s FROM t_order GROUP BY user_id",
            "user_id",
            "s");
    MergeSpec spec = u.plan().merge();

    RowSet<Row> actual =
        ResultMerger.merge(
            List.of(
                u.unit(
                    new Object[] {1L, "paid", 1024L, "paid", "paid"},
                    new Object[] {1L, "init", 1024L, "init", "init"}),
                u.unit(
                    new Object[] {1L, "PAID", 1024L, "PAID", "PAID"},
                    new Object[] {1L, "done", 1024L, "done", "done"},
                    new Object[] {2L, "x", 1024L, "x", "x"})),
            spec,
            0,
            -1,
            null);

    assertThat(values(actual)).containsExactly(List.of(1L, "done init paid"), List.of(2L, "x"));
  }

  @Test
  void anOrderInsideGroupConcatIsRefused() {
    assertThatThrownBy(
            () ->
                Fixtures.route(
                    Fixtures.rules(),
                    "SELECT GROUP_CONCAT(status ORDER BY order_id) FROM t_order",
                    (Object[]) null))
        .isInstanceOf(UnsupportedSqlException.class)
        .hasMessageContaining("ORDER BY");
  }
}
