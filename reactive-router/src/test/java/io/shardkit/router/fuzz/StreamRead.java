package io.shardkit.router.fuzz;

import io.shardkit.context.ShardkitException;
import io.shardkit.router.ShardedPool;
import io.shardkit.router.ShardedRowStream;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.sqlclient.Row;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Reads a query that the router answered correctly once more through {@link ShardedPool#stream}
 * (cursors of {@value #FETCH_SIZE} rows, merged as they arrive). The stream may refuse what it does
 * not stream (aggregates, DISTINCT across units); what it streams must be right. After a stream
 * that does not finish, streams are not read again in this world.
 */
final class StreamRead {

  static final int FETCH_SIZE = 3;

  /** What the stream gave: rows (labels from the rows, types copied), a refusal, or an error. */
  record Outcome(QueryResult result, boolean refused, Throwable error) {}

  private final ShardedPool router;
  private boolean hung;

  StreamRead(ShardedPool router) {
    this.router = router;
  }

  /** Empty outcome (null) when streams are off after a hang. */
  Outcome read(String sql, List<Object> params, List<String> types) {
    if (hung) {
      return null;
    }
    AtomicReference<ShardedRowStream> opened = new AtomicReference<>();
    Future<List<Row>> rows;
    try {
      rows =
          router.stream(sql, Attempt.tuple(params), FETCH_SIZE)
              .onSuccess(opened::set)
              .compose(StreamRead::collect);
    } catch (RuntimeException e) {
      return new Outcome(null, false, e);
    }
    List<Row> streamed;
    try {
      streamed = Await.result(rows, "stream of " + sql);
    } catch (ShardkitException e) {
      return new Outcome(null, true, e);
    } catch (RuntimeException e) {
      if (!rows.isComplete()) {
        hung = true;
        if (opened.get() != null) {
          opened.get().close();
        }
      }
      return new Outcome(null, false, e);
    }
    List<String> labels = new ArrayList<>();
    List<List<Object>> values = new ArrayList<>();
    for (Row row : streamed) {
      List<Object> r = new ArrayList<>();
      labels.clear();
      for (int i = 0; i < row.size(); i++) {
        r.add(row.getValue(i));
        labels.add(row.getColumnName(i));
      }
      values.add(r);
    }
    return new Outcome(new QueryResult(List.copyOf(labels), types, values, 0), false, null);
  }

  private static Future<List<Row>> collect(ShardedRowStream stream) {
    Promise<List<Row>> done = Promise.promise();
    List<Row> rows = new ArrayList<>();
    stream.exceptionHandler(done::tryFail);
    stream.endHandler(v -> done.tryComplete(rows));
    stream.handler(rows::add);
    return done.future();
  }
}
