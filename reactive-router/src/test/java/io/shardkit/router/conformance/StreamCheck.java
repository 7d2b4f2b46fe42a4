package io.shardkit.router.conformance;

import io.shardkit.router.ShardedPool;
import io.shardkit.router.ShardedRowStream;
import io.shardkit.router.UnsupportedSqlException;
import io.shardkit.router.conformance.Comparison.Result;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.sqlclient.Row;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Reads a query once more through {@link ShardedPool#stream} (cursors of {@value #FETCH_SIZE} rows,
 * merged as they arrive) and compares the rows with the reference's. The stream may refuse what it
 * does not stream (aggregates, DISTINCT across units); what it streams must be right. A stream that
 * does not finish within {@value #TIMEOUT_SECONDS} s fails its case and is closed, and later checks
 * of the scenario are skipped, so a hang costs one timeout.
 */
final class StreamCheck {

  static final int FETCH_SIZE = 3;
  static final long TIMEOUT_SECONDS = 10;

  /**
   * @param failed whether the stream gave a wrong answer, failed or hung
   * @param text the reason when failed, else a note for the case's check description
   */
  record Outcome(boolean failed, String text) {}

  private final ShardedPool router;
  private String hang;

  StreamCheck(ShardedPool router) {
    this.router = router;
  }

  Outcome check(CorpusCase c, Result expected, Comparison.Mode mode) {
    if (hang != null) {
      return new Outcome(false, "stream not checked (" + hang + ")");
    }
    AtomicReference<ShardedRowStream> opened = new AtomicReference<>();
    Future<List<Row>> rows;
    try {
      rows =
          router.stream(c.sql(), c.tuple(), FETCH_SIZE)
              .onSuccess(opened::set)
              .compose(StreamCheck::collect);
    } catch (RuntimeException e) {
      return new Outcome(
          true, "stream() threw instead of failing the Future: " + CaseRunner.describe(e));
    }
    List<Row> streamed;
    try {
      streamed = ScenarioDatabases.await(rows, c.id() + " (stream)", TIMEOUT_SECONDS);
    } catch (UnsupportedSqlException e) {
      return new Outcome(false, "stream refused");
    } catch (RuntimeException e) {
      if (!rows.isComplete()) {
        hang = "the stream of " + c.id() + " hung";
        if (opened.get() != null) {
          opened.get().close();
        }
      }
      return new Outcome(true, "via stream: " + CaseRunner.describe(e));
    }
    List<String> labels = expected.columns();
    List<List<Object>> values = new ArrayList<>();
    for (Row row : streamed) {
      List<Object> r = new ArrayList<>();
      List<String> rowLabels = new ArrayList<>();
      for (int i = 0; i < row.size(); i++) {
        r.add(row.getValue(i));
        rowLabels.add(row.getColumnName(i));
      }
      labels = rowLabels;
      values.add(r);
    }
    Result expectedRows = new Result(expected.columns(), expected.rows(), 0);
    Optional<String> diff =
        Comparison.compareQuery(expectedRows, new Result(labels, values, 0), mode);
    return diff.map(d -> new Outcome(true, "via stream: " + d))
        .orElse(new Outcome(false, "stream"));
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
