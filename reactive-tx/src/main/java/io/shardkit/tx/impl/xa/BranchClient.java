package io.shardkit.tx.impl.xa;

import io.vertx.core.Future;
import io.vertx.sqlclient.PrepareOptions;
import io.vertx.sqlclient.PreparedQuery;
import io.vertx.sqlclient.Query;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.SqlResult;
import io.vertx.sqlclient.Tuple;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.stream.Collector;

/**
 * What the router runs a branch's statements on: the branch's connection, remembering the first
 * statement failure so a rollback can say which shard failed. Never closes the connection (the
 * branch owns it).
 */
final class BranchClient implements SqlClient {

  private final SqlClient conn;
  private final Consumer<Throwable> onFailure;

  BranchClient(SqlClient conn, Consumer<Throwable> onFailure) {
    this.conn = conn;
    this.onFailure = onFailure;
  }

  @Override
  public Query<RowSet<Row>> query(String sql) {
    Query<RowSet<Row>> q = conn.query(sql);
    return new Query<>() {
      @Override
      public Future<RowSet<Row>> execute() {
        return q.execute().onFailure(onFailure::accept);
      }

      @Override
      public <R> Query<SqlResult<R>> collecting(Collector<Row, ?, R> collector) {
        return q.collecting(collector);
      }

      @Override
      public <U> Query<RowSet<U>> mapping(Function<Row, U> mapper) {
        return q.mapping(mapper);
      }
    };
  }

  @Override
  public PreparedQuery<RowSet<Row>> preparedQuery(String sql) {
    PreparedQuery<RowSet<Row>> q = conn.preparedQuery(sql);
    return new PreparedQuery<>() {
      @Override
      public Future<RowSet<Row>> execute() {
        return q.execute().onFailure(onFailure::accept);
      }

      @Override
      public Future<RowSet<Row>> execute(Tuple params) {
        return q.execute(params).onFailure(onFailure::accept);
      }

      @Override
      public Future<RowSet<Row>> executeBatch(List<Tuple> batch) {
        return q.executeBatch(batch).onFailure(onFailure::accept);
      }

      @Override
      public <R> PreparedQuery<SqlResult<R>> collecting(Collector<Row, ?, R> collector) {
        return q.collecting(collector);
      }

      @Override
      public <U> PreparedQuery<RowSet<U>> mapping(Function<Row, U> mapper) {
        return q.mapping(mapper);
      }
    };
  }

  @Override
  public PreparedQuery<RowSet<Row>> preparedQuery(String sql, PrepareOptions options) {
    return preparedQuery(sql);
  }

  @Override
  public Future<Void> close() {
    return Future.succeededFuture();
  }
}
