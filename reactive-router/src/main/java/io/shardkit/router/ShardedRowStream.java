package io.shardkit.router;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.streams.ReadStream;
import io.vertx.sqlclient.Row;

/**
 * Rows of a scatter query, merged in ORDER BY order as they arrive from the units' cursors, with
 * back-pressure ({@link #pause()}, {@link #fetch(long)}). Handlers are called on the context that
 * opened the stream.
 */
public interface ShardedRowStream extends ReadStream<Row> {

  @Override
  ShardedRowStream exceptionHandler(Handler<Throwable> handler);

  @Override
  ShardedRowStream handler(Handler<Row> handler);

  @Override
  ShardedRowStream pause();

  @Override
  ShardedRowStream resume();

  @Override
  ShardedRowStream fetch(long amount);

  @Override
  ShardedRowStream endHandler(Handler<Void> endHandler);

  /** Stops reading, closes the cursors and returns the connections. */
  Future<Void> close();

  /** The most rows the stream held in memory at once (for checking the memory bound). */
  int bufferedRowsHighWaterMark();
}
