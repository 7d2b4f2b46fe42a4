package io.shardkit.router.impl.execute;

import io.shardkit.router.impl.merge.MergedRowSet;
import io.vertx.core.Future;
import io.vertx.mysqlclient.MySQLClient;
import io.vertx.sqlclient.PreparedQuery;
import io.vertx.sqlclient.PropertyKind;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlResult;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collector;

/**
 * {@code query(sql)} / {@code preparedQuery(sql)} of a routed client: {@code execute}, {@code
 * executeBatch}, {@code mapping}, {@code collecting}. A text query sends no parameters.
 */
final class RoutedQuery<T> implements PreparedQuery<T> {

  private final StatementRunner runner;
  private final StatementRunner.ClientSource source;
  private final String sql;
  private final boolean prepared;
  private final Function<RowSet<Row>, T> finish;
  private final StatementRunner.Linker<T> linker;

  private RoutedQuery(
      StatementRunner runner,
      StatementRunner.ClientSource source,
      String sql,
      boolean prepared,
      Function<RowSet<Row>, T> finish,
      StatementRunner.Linker<T> linker) {
    this.runner = runner;
    this.source = source;
    this.sql = sql;
    this.prepared = prepared;
    this.finish = finish;
    this.linker = linker;
  }

  static RoutedQuery<RowSet<Row>> of(
      StatementRunner runner, StatementRunner.ClientSource source, String sql, boolean prepared) {
    return new RoutedQuery<>(
        runner, source, sql, prepared, StatementRunner.AS_IS, RoutedQuery::linkRowSets);
  }

  @Override
  public Future<T> execute() {
    return runner.execute(sql, prepared ? Tuple.tuple() : null, source, finish);
  }

  @Override
  public Future<T> execute(Tuple tuple) {
    return runner.execute(sql, tuple == null ? Tuple.tuple() : tuple, source, finish);
  }

  @Override
  public Future<T> executeBatch(List<Tuple> batch) {
    return runner.executeBatch(sql, batch, source, finish, linker);
  }

  @Override
  public <R> PreparedQuery<SqlResult<R>> collecting(Collector<Row, ?, R> collector) {
    Function<RowSet<Row>, SqlResult<R>> collect = rs -> collect(rs, collector);
    return new RoutedQuery<>(
        runner, source, sql, prepared, collect, (a, b) -> ((CollectedResult<R>) a).setNext(b));
  }

  @Override
  public <U> PreparedQuery<RowSet<U>> mapping(Function<Row, U> mapper) {
    Function<RowSet<Row>, RowSet<U>> map = rs -> map(rs, mapper);
    return new RoutedQuery<>(runner, source, sql, prepared, map, RoutedQuery::linkRowSets);
  }

  private static <R, A> SqlResult<R> collect(RowSet<Row> rs, Collector<Row, A, R> collector) {
    A container = collector.supplier().get();
    int size = 0;
    for (Row row : rs) {
      collector.accumulator().accept(container, row);
      size++;
    }
    R value = collector.finisher().apply(container);
    return new CollectedResult<>(
        value, size, rs.rowCount(), rs.columnsNames(), rs.columnDescriptors(), rs);
  }

  private static <U> RowSet<U> map(RowSet<Row> rs, Function<Row, U> mapper) {
    List<U> rows = new ArrayList<>(rs.size());
    for (Row row : rs) {
      rows.add(mapper.apply(row));
    }
    Map<PropertyKind<?>, Object> properties = new HashMap<>();
    copy(rs, properties, MySQLClient.LAST_INSERTED_ID);
    copy(rs, properties, io.shardkit.router.ShardedPool.GENERATED_KEYS);
    return MergedRowSet.of(
        rows, rs.columnsNames(), rs.columnDescriptors(), rs.rowCount(), properties);
  }

  private static <V> void copy(
      RowSet<?> rs, Map<PropertyKind<?>, Object> properties, PropertyKind<V> kind) {
    try {
      V v = rs.property(kind);
      if (v != null) {
        properties.put(kind, v);
      }
    } catch (RuntimeException ignored) {
      // a driver RowSet may not know the property
    }
  }

  private static <R> void linkRowSets(RowSet<R> previous, RowSet<R> next) {
    if (previous instanceof MergedRowSet<R> m) {
      m.setNext(next);
    } else {
      throw new IllegalStateException("cannot chain a driver RowSet");
    }
  }
}
