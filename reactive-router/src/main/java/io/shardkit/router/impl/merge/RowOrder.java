package io.shardkit.router.impl.merge;

import io.shardkit.router.impl.analyse.Collated;
import io.shardkit.router.impl.analyse.MergeSpec;
import io.vertx.sqlclient.Row;
import java.util.Comparator;
import java.util.List;

/**
 * The ORDER BY of a merge as a comparator over unit rows (or merged value arrays). Strings compare
 * by the sort keys the units returned ({@link Collated}), everything else by value.
 */
public final class RowOrder implements Comparator<Row> {

  private final MergeSpec.Resolved[] keys;
  private final boolean[] descending;

  /** The order of these sort keys for rows with this many visible columns. */
  public static RowOrder of(List<MergeSpec.SortKey> keys, int visible) {
    return new RowOrder(keys, visible, null);
  }

  /**
   * The order of these sort keys for rows with this many visible columns and these column
   * definitions (a BIT column the plan could not type, e.g. under a wildcard, compares unsigned).
   */
  public static RowOrder of(
      List<MergeSpec.SortKey> keys,
      int visible,
      List<io.vertx.sqlclient.desc.ColumnDescriptor> descriptors) {
    return new RowOrder(keys, visible, descriptors);
  }

  RowOrder(
      List<MergeSpec.SortKey> keys,
      int visible,
      List<io.vertx.sqlclient.desc.ColumnDescriptor> descriptors) {
    this.keys = new MergeSpec.Resolved[keys.size()];
    descending = new boolean[keys.size()];
    for (int i = 0; i < keys.size(); i++) {
      this.keys[i] = typed(keys.get(i).key().resolve(visible), descriptors);
      descending[i] = keys.get(i).descending();
    }
  }

  /**
   * The key, compared unsigned when the units' column definition says BIT: the driver decodes
   * BIT(64) as a signed long, the server orders it as an unsigned number.
   */
  static MergeSpec.Resolved typed(
      MergeSpec.Resolved key, List<io.vertx.sqlclient.desc.ColumnDescriptor> descriptors) {
    if (key.unsigned()
        || descriptors == null
        || key.column() < 0
        || key.column() >= descriptors.size()
        || descriptors.get(key.column()).jdbcType() != java.sql.JDBCType.BIT) {
      return key;
    }
    return new MergeSpec.Resolved(key.column(), key.weight(), key.pad(), key.ordinals(), true);
  }

  @Override
  public int compare(Row a, Row b) {
    for (int i = 0; i < keys.length; i++) {
      int c = compareKey(keys[i], a, b);
      if (c != 0) {
        return descending[i] ? -c : c;
      }
    }
    return 0;
  }

  int compareValues(Object[] a, Object[] b) {
    for (int i = 0; i < keys.length; i++) {
      MergeSpec.Resolved k = keys[i];
      int c =
          Collated.compare(
              k.ordered(a[k.column()]),
              at(a, k.weight()),
              k.ordered(b[k.column()]),
              at(b, k.weight()),
              pad(k, a, b));
      if (c != 0) {
        return descending[i] ? -c : c;
      }
    }
    return 0;
  }

  /** Compares one key of two unit rows. */
  static int compareKey(MergeSpec.Resolved k, Row a, Row b) {
    Object pad = k.pad() < 0 ? null : a.getValue(k.pad());
    if (pad == null && k.pad() >= 0) {
      pad = b.getValue(k.pad());
    }
    return Collated.compare(
        k.ordered(a.getValue(k.column())),
        at(a, k.weight()),
        k.ordered(b.getValue(k.column())),
        at(b, k.weight()),
        pad);
  }

  private static Object pad(MergeSpec.Resolved k, Object[] a, Object[] b) {
    if (k.pad() < 0) {
      return null;
    }
    return a[k.pad()] != null ? a[k.pad()] : b[k.pad()];
  }

  static Object at(Row row, int index) {
    return index < 0 ? null : row.getValue(index);
  }

  static Object at(Object[] row, int index) {
    return index < 0 ? null : row[index];
  }
}
