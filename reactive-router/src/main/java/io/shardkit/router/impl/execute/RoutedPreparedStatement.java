package io.shardkit.router.impl.execute;

import io.vertx.core.Future;
import io.vertx.sqlclient.Cursor;
import io.vertx.sqlclient.PreparedQuery;
import io.vertx.sqlclient.PreparedStatement;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.RowStream;
import io.vertx.sqlclient.Tuple;

/**
 * {@code prepare(sql)} on a routed connection: its query is routed (each shard prepares the
 * rewritten statement it gets); cursors and streams are refused by name, since a cursor over
 * several shards is a merge only {@code ShardedPool.stream} performs.
 */
final class RoutedPreparedStatement implements PreparedStatement {

  private final PreparedQuery<RowSet<Row>> query;

  RoutedPreparedStatement(PreparedQuery<RowSet<Row>> query) {
    this.query = query;
  }

  @Override
  public PreparedQuery<RowSet<Row>> query() {
    return query;
  }

  @Override
  public Cursor cursor(Tuple args) {
    throw new UnsupportedOperationException(
        "PreparedStatement.cursor() is not supported on a ShardedPool connection: use"
            + " ShardedPool.stream(sql, params, fetchSize), which merges the shards' cursors");
  }

  @Override
  public RowStream<Row> createStream(int fetch, Tuple args) {
    throw new UnsupportedOperationException(
        "PreparedStatement.createStream() is not supported on a ShardedPool connection: use"
            + " ShardedPool.stream(sql, params, fetchSize), which merges the shards' cursors");
  }

  @Override
  public Future<Void> close() {
    return Future.succeededFuture();
  }
}
