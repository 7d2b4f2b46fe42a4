package io.shardkit.router.impl.merge;

import io.vertx.sqlclient.PropertyKind;
import io.vertx.sqlclient.RowIterator;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.desc.ColumnDescriptor;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * A {@link RowSet} over rows held in memory: merged rows of several units, or mapped rows. Column
 * names and descriptors are those of the logical query (derived columns removed).
 */
public final class MergedRowSet<R> implements RowSet<R> {

  private final List<R> rows;
  private final List<String> columnsNames;
  private final List<ColumnDescriptor> descriptors;
  private final int rowCount;
  private final Map<PropertyKind<?>, Object> properties;
  private RowSet<R> next;

  private MergedRowSet(
      List<R> rows,
      List<String> columnsNames,
      List<ColumnDescriptor> descriptors,
      int rowCount,
      Map<PropertyKind<?>, Object> properties) {
    this.rows = rows;
    this.columnsNames = columnsNames;
    this.descriptors = descriptors;
    this.rowCount = rowCount;
    this.properties = properties;
  }

  /** A result over these rows (already merged or mapped). */
  public static <R> MergedRowSet<R> of(
      List<R> rows,
      List<String> columnsNames,
      List<ColumnDescriptor> descriptors,
      int rowCount,
      Map<PropertyKind<?>, Object> properties) {
    return new MergedRowSet<>(rows, columnsNames, descriptors, rowCount, properties);
  }

  /** Chains the result of the next batch element (executeBatch). */
  public void setNext(RowSet<R> next) {
    this.next = next;
  }

  @Override
  public RowIterator<R> iterator() {
    Iterator<R> it = rows.iterator();
    return new RowIterator<>() {
      @Override
      public boolean hasNext() {
        return it.hasNext();
      }

      @Override
      public R next() {
        return it.next();
      }
    };
  }

  @Override
  public int rowCount() {
    return rowCount;
  }

  @Override
  public List<String> columnsNames() {
    return columnsNames;
  }

  @Override
  public List<ColumnDescriptor> columnDescriptors() {
    return descriptors;
  }

  @Override
  public int size() {
    return rows.size();
  }

  @Override
  public <V> V property(PropertyKind<V> kind) {
    if (kind == null) {
      throw new IllegalArgumentException("Property can not be null");
    }
    Object v = properties.get(kind);
    return v == null ? null : kind.type().cast(v);
  }

  @Override
  public RowSet<R> value() {
    return this;
  }

  @Override
  public RowSet<R> next() {
    return next;
  }
}
