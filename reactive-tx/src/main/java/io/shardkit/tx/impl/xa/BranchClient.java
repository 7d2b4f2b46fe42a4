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
import java.util.function.Supplier;
import java.util.stream.Collector;

/**
 * What the router runs a branch's statements on: the branch's connection, remembering the first
 * statement failure so a rollback can say which shard failed. Never closes the connection (the
 * branch owns it).
 *
 * <p>Every execution first asks the transaction whether statements are still allowed: once the
 * transaction has left {@code ACTIVE} (commit started, deadline passed, rolled back) a statement
 * from a caller still holding this client fails at once and is never sent, so no work lands in a
 * branch after its fate is being decided.
 */
final class BranchClient implements SqlClient {

  private final SqlClient conn;
  private final Consumer<Throwable> onFailure;
  private final Supplier<RuntimeException> refusal;
  private final Hook hook;

  /** The work's statements sent and not yet answered (a rollback kills them on MySQL). */
  private final io.shardkit.tx.impl.InFlight inFlight = new io.shardkit.tx.impl.InFlight();

  /** Wraps each statement sent (spans, meters, breaker of a PostgreSQL branch). */
  interface Hook {
    <R> Future<R> run(String sql, Supplier<Future<R>> statement);
  }

  /**
   * @param refusal null while statements may run; otherwise the error to fail them with
   */
  BranchClient(SqlClient conn, Consumer<Throwable> onFailure, Supplier<RuntimeException> refusal) {
    this(conn, onFailure, refusal, null);
  }

  BranchClient(
      SqlClient conn,
      Consumer<Throwable> onFailure,
      Supplier<RuntimeException> refusal,
      Hook hook) {
    this.conn = conn;
    this.onFailure = onFailure;
    this.refusal = refusal;
    this.hook = hook;
  }

  @Override
  public Query<RowSet<Row>> query(String sql) {
    return guarded(conn.query(sql), sql);
  }

  @Override
  public PreparedQuery<RowSet<Row>> preparedQuery(String sql) {
    return guarded(conn.preparedQuery(sql), sql);
  }

  @Override
  public PreparedQuery<RowSet<Row>> preparedQuery(String sql, PrepareOptions options) {
    return preparedQuery(sql);
  }

  @Override
  public Future<Void> close() {
    return Future.succeededFuture();
  }

  private <R> Future<R> run(String sql, Supplier<Future<R>> statement) {
    RuntimeException refused = refusal.get();
    if (refused != null) {
      return Future.failedFuture(refused);
    }
    Future<R> sent =
        inFlight.track(() -> hook == null ? statement.get() : hook.run(sql, statement));
    return sent.onFailure(onFailure::accept);
  }

  /** Whether a statement of the work is still running on the branch's connection. */
  boolean busy() {
    return inFlight.busy();
  }

  /** Completes once no statement of the work is in flight on the branch. */
  Future<Void> idle() {
    return inFlight.idle();
  }

  private <R> Query<R> guarded(Query<R> q, String sql) {
    return new Query<>() {
      @Override
      public Future<R> execute() {
        return run(sql, q::execute);
      }

      @Override
      public <C> Query<SqlResult<C>> collecting(Collector<Row, ?, C> collector) {
        return guarded(q.collecting(collector), sql);
      }

      @Override
      public <U> Query<RowSet<U>> mapping(Function<Row, U> mapper) {
        return guarded(q.mapping(mapper), sql);
      }
    };
  }

  private <R> PreparedQuery<R> guarded(PreparedQuery<R> q, String sql) {
    return new PreparedQuery<>() {
      @Override
      public Future<R> execute() {
        return run(sql, q::execute);
      }

      @Override
      public Future<R> execute(Tuple params) {
        return run(sql, () -> q.execute(params));
      }

      @Override
      public Future<R> executeBatch(List<Tuple> batch) {
        return run(sql, () -> q.executeBatch(batch));
      }

      @Override
      public <C> PreparedQuery<SqlResult<C>> collecting(Collector<Row, ?, C> collector) {
        return guarded(q.collecting(collector), sql);
      }

      @Override
      public <U> PreparedQuery<RowSet<U>> mapping(Function<Row, U> mapper) {
        return guarded(q.mapping(mapper), sql);
      }
    };
  }
}
