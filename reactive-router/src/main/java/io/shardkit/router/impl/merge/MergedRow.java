package io.shardkit.router.impl.merge;

import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.List;

/** A result row built by the merge (visible columns only). */
final class MergedRow implements Row {

  private final RowDesc desc;
  private final Object[] values;

  MergedRow(RowDesc desc, Object[] values) {
    this.desc = desc;
    this.values = values;
  }

  @Override
  public String getColumnName(int pos) {
    return pos >= 0 && pos < values.length ? desc.names().get(pos) : null;
  }

  @Override
  public int getColumnIndex(String name) {
    return desc.indexOf(name);
  }

  @Override
  public Object getValue(int pos) {
    return values[pos];
  }

  @Override
  public Tuple addValue(Object value) {
    throw new UnsupportedOperationException("result rows are read-only");
  }

  @Override
  public int size() {
    return values.length;
  }

  @Override
  public void clear() {
    throw new UnsupportedOperationException("result rows are read-only");
  }

  @Override
  public List<Class<?>> types() {
    List<Class<?>> types = new ArrayList<>(values.length);
    for (Object v : values) {
      types.add(v == null ? Object.class : v.getClass());
    }
    return types;
  }

  @Override
  public String toString() {
    return deepToString();
  }
}
