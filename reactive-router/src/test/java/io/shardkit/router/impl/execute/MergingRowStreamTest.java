package io.shardkit.router.impl.execute;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardkit.router.impl.Fixtures;
import io.shardkit.router.impl.rewrite.SqlUnit;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** How a stream groups its units onto connections, without a database. */
class MergingRowStreamTest {

  @Test
  void unitsOfOneDataSourceShareOneConnectionInRouteOrder() {
    List<SqlUnit> units =
        Fixtures.route(
            Fixtures.rules(), "SELECT * FROM t_order ORDER BY order_id", (Object[]) null);

    Map<String, List<SqlUnit>> actual = MergingRowStream.byDataSource(units);

    assertThat(units).hasSize(8);
    assertThat(actual).containsOnlyKeys("ds_0", "ds_1");
    assertThat(actual.get("ds_0"))
        .extracting(u -> u.sql().replaceAll(".*FROM (t_order_\\d).*", "$1"))
        .containsExactly("t_order_0", "t_order_1", "t_order_2", "t_order_3");
    assertThat(actual.get("ds_1")).hasSize(4).allMatch(u -> u.dataSource().equals("ds_1"));
  }
}
