package io.shardkit.router.impl.execute;

import io.vertx.sqlclient.PropertyKind;
import io.vertx.sqlclient.SqlResult;
import io.vertx.sqlclient.desc.ColumnDescriptor;
import java.util.List;

/** The result of a {@code collecting(...)} query: the collector's value plus the metadata. */
final class CollectedResult<R> implements SqlResult<R> {

  private final R value;
  private final int size;
  private final int rowCount;
  private final List<String> names;
  private final List<ColumnDescriptor> descriptors;
  private final io.vertx.sqlclient.SqlResult<?> source;
  private SqlResult<R> next;

  CollectedResult(
      R value,
      int size,
      int rowCount,
      List<String> names,
      List<ColumnDescriptor> descriptors,
      SqlResult<?> source) {
    this.value = value;
    this.size = size;
    this.rowCount = rowCount;
    this.names = names;
    this.descriptors = descriptors;
    this.source = source;
  }

  void setNext(SqlResult<R> next) {
    this.next = next;
  }

  @Override
  public int rowCount() {
    return rowCount;
  }

  @Override
  public List<String> columnsNames() {
    return names;
  }

  @Override
  public List<ColumnDescriptor> columnDescriptors() {
    return descriptors;
  }

  @Override
  public int size() {
    return size;
  }

  @Override
  public <V> V property(PropertyKind<V> kind) {
    return source.property(kind);
  }

  @Override
  public R value() {
    return value;
  }

  @Override
  public SqlResult<R> next() {
    return next;
  }
}
