package io.shardkit.router.impl.execute;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardkit.router.impl.Fixtures;
import io.shardkit.router.impl.merge.MergedRowSet;
import io.shardkit.router.impl.rewrite.Rewriter;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Combining the units of a write into one result, without a database. */
class WriteResultsTest {

  static RowSet<Row> updated(int count) {
    return MergedRowSet.of(List.of(), List.of(), List.of(), count, Map.of());
  }

  @Test
  void aBroadcastWriteCountsOneCopy() {
    Rewriter.Routed routed =
        Fixtures.routed(Fixtures.rules(), "UPDATE t_country SET name = ? WHERE code = ?", "x", "y");

    RowSet<Row> actual = WriteResults.combine(routed, List.of(updated(1), updated(1)));

    assertThat(routed.units()).as("one unit per copy").hasSize(2);
    assertThat(routed.replicated()).isTrue();
    assertThat(actual.rowCount()).isEqualTo(1);
  }

  @Test
  void aBroadcastInsertCountsOneCopy() {
    Rewriter.Routed routed =
        Fixtures.routed(
            Fixtures.rules(),
            "INSERT INTO t_country (code, name) VALUES (?, ?), (?, ?)",
            "a",
            "A",
            "b",
            "B");

    RowSet<Row> actual = WriteResults.combine(routed, List.of(updated(2), updated(2)));

    assertThat(actual.rowCount()).isEqualTo(2);
  }

  @Test
  void aShardedWriteAddsTheNodesCounts() {
    Rewriter.Routed routed =
        Fixtures.routed(
            Fixtures.rules(), "UPDATE t_order SET status = ? WHERE user_id = ?", "x", 1);

    RowSet<Row> actual =
        WriteResults.combine(routed, List.of(updated(2), updated(0), updated(3), updated(1)));

    assertThat(routed.replicated()).isFalse();
    assertThat(actual.rowCount()).isEqualTo(6);
  }
}
