package io.shardkit.router.impl.merge;

import io.vertx.sqlclient.Row;
import java.util.Comparator;
import java.util.List;

/** The ORDER BY of a merge as a comparator over unit rows (or merged value arrays). */
public final class RowOrder implements Comparator<Row> {

  private final int[] columns;
  private final boolean[] descending;

  /** The order of these sort keys for rows with this many visible columns. */
  public static RowOrder of(List<MergeSpec.SortKey> keys, int visible) {
    return new RowOrder(keys, visible);
  }

  RowOrder(List<MergeSpec.SortKey> keys, int visible) {
    columns = new int[keys.size()];
    descending = new boolean[keys.size()];
    for (int i = 0; i < keys.size(); i++) {
      columns[i] = keys.get(i).column().resolve(visible);
      descending[i] = keys.get(i).descending();
    }
  }

  @Override
  public int compare(Row a, Row b) {
    for (int i = 0; i < columns.length; i++) {
      int c = Values.compare(a.getValue(columns[i]), b.getValue(columns[i]));
      if (c != 0) {
        return descending[i] ? -c : c;
      }
    }
    return 0;
  }

  int compareValues(Object[] a, Object[] b) {
    for (int i = 0; i < columns.length; i++) {
      int c = Values.compare(a[columns[i]], b[columns[i]]);
      if (c != 0) {
        return descending[i] ? -c : c;
      }
    }
    return 0;
  }
}
