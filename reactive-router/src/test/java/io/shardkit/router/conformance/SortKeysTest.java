package io.shardkit.router.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Finding the ORDER BY keys among the result columns, without a database. */
class SortKeysTest {

  @Test
  void mapsColumnsAliasesPositionsAndExpressions() {
    List<String> labels = List.of("orders_sum", "user_id");

    assertThat(
            SortKeys.resolve(
                "SELECT SUM(order_id) AS orders_sum, user_id FROM t ORDER BY user_id", labels))
        .contains(List.of(1));
    assertThat(
            SortKeys.resolve(
                "SELECT SUM(order_id) AS orders_sum, user_id FROM t ORDER BY orders_sum DESC",
                labels))
        .contains(List.of(0));
    assertThat(
            SortKeys.resolve(
                "SELECT SUM(order_id) AS orders_sum, user_id FROM t ORDER BY 2, 1", labels))
        .contains(List.of(1, 0));
    assertThat(
            SortKeys.resolve(
                "SELECT SUM(order_id) AS orders_sum, user_id FROM t ORDER BY SUM(order_id)",
                labels))
        .contains(List.of(0));
  }

  @Test
  void keysOutsideTheResultOrAmbiguousQualifiedNamesAreNotMapped() {
    assertThat(
            SortKeys.resolve("SELECT merchant_id FROM t ORDER BY order_id", List.of("merchant_id")))
        .isEmpty();
    assertThat(
            SortKeys.resolve(
                "SELECT o.*, i.* FROM o JOIN i ON o.id = i.id ORDER BY i.id",
                List.of("id", "x", "id", "y")))
        .isEmpty();
    assertThat(SortKeys.resolve("SELECT a FROM t", List.of("a"))).isEmpty();
  }

  @Test
  void removesOnlyALiteralTopLevelLimit() {
    assertThat(SortKeys.withoutLimit("SELECT * FROM t WHERE id = 1 LIMIT 1"))
        .hasValueSatisfying(sql -> assertThat(sql).doesNotContainIgnoringCase("limit"));
    assertThat(SortKeys.withoutLimit("SELECT * FROM t LIMIT ?")).isEmpty();
    assertThat(SortKeys.withoutLimit("SELECT * FROM t")).isEmpty();
  }
}
