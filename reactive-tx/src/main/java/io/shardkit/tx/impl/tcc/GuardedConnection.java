package io.shardkit.tx.impl.tcc;

import io.shardkit.context.ShardkitException;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.sqlclient.PrepareOptions;
import io.vertx.sqlclient.PreparedQuery;
import io.vertx.sqlclient.PreparedStatement;
import io.vertx.sqlclient.Query;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.SqlResult;
import io.vertx.sqlclient.Transaction;
import io.vertx.sqlclient.Tuple;
import io.vertx.sqlclient.spi.DatabaseMetadata;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Collector;

/**
 * The handle a phase (and the coordinator log) gets instead of the pool's connection: it refuses
 * every statement once the connection was given back.
 *
 * <p>Why: closing a pooled Vert.x connection rolls its transaction back and returns it to the pool,
 * but the old handle keeps accepting statements, and with its transaction gone they run on the
 * underlying connection in autocommit (or inside the next borrower's transaction). When a phase's
 * deadline closes its connection while the phase is still running, its next statement (say, the
 * business UPDATE after the fence insert) would commit on its own, outside the fence's transaction.
 * This guard makes it fail instead.
 *
 * <p>Only statements are supported: {@code prepare}, {@code begin} and {@code close} are refused
 * (the transaction and the connection belong to shardkit; use {@code preparedQuery}).
 */
final class GuardedConnection implements SqlConnection {

  private final SqlConnection delegate;
  private volatile boolean released;
  private volatile boolean opened;

  /**
   * Kills what runs on the connection, given the statements in flight ({@code
   * ShardedPool.cancelRunning}); null: never.
   */
  private final java.util.function.BiFunction<SqlConnection, Future<?>, Future<Void>> kill;

  /** Statements sent and not yet answered. */
  private final io.shardkit.tx.impl.InFlight inFlight = new io.shardkit.tx.impl.InFlight();

  GuardedConnection(SqlConnection delegate) {
    this(delegate, null);
  }

  /**
   * @param kill cancels what runs on the connection when it is given back with a statement still
   *     running (a lock wait at the phase's deadline), or null
   */
  GuardedConnection(
      SqlConnection delegate,
      java.util.function.BiFunction<SqlConnection, Future<?>, Future<Void>> kill) {
    this.delegate = delegate;
    this.kill = kill;
  }

  /** Counts {@code sent} in flight until it completes. */
  private <T> Future<T> tracked(java.util.function.Supplier<Future<T>> sent) {
    return inFlight.track(sent);
  }

  /** From now on every statement fails. */
  void release() {
    released = true;
  }

  /** Begins the transaction shardkit owns (refused once released). */
  Future<Transaction> beginOwned() {
    return released ? refused() : delegate.begin();
  }

  /**
   * Opens the transaction shardkit owns and runs {@code statements} in it, in one round trip: the
   * text query {@code BEGIN; statements} (the MySQL client always allows several statements in a
   * text query). The result is BEGIN's; {@link RowSet#next()} gives each statement's in order. From
   * now on, until {@link #endOpened} succeeds, giving the connection back rolls the transaction
   * back first ({@link #giveBack}): the pool never hands out a connection in a transaction.
   */
  Future<RowSet<Row>> beginWith(String statements) {
    if (released) {
      return refused();
    }
    opened = true;
    return tracked(() -> delegate.query("BEGIN; " + statements).execute());
  }

  /** Commits or rolls back the transaction {@link #beginWith} opened (refused once released). */
  Future<Void> endOpened(boolean commit) {
    if (released) {
      return refused();
    }
    return delegate
        .query(commit ? "COMMIT" : "ROLLBACK")
        .execute()
        .map(
            done -> {
              opened = false;
              return null;
            });
  }

  /**
   * Refuses every further statement and gives the connection back to its pool, rolling back first a
   * transaction {@link #beginWith} opened and did not end (on a connection that broke meanwhile the
   * rollback fails and the server rolls back when the socket closes).
   */
  Future<Void> giveBack() {
    released = true;
    // a statement still running (a lock wait, a long scan) is killed, so that the rollback queued
    // behind it runs now and the transaction's locks go, instead of waiting for the lock wait to
    // time out; the connection goes back once the kill answered (closed for real if it did not)
    Future<Void> killed =
        kill != null && inFlight.busy() ? kill.apply(delegate, inFlight.idle()) : null;
    if (!opened) {
      return back(killed);
    }
    opened = false;
    return delegate.query("ROLLBACK").execute().transform(rolledBack -> back(killed));
  }

  private Future<Void> back(Future<Void> killed) {
    if (killed == null) {
      return delegate.close();
    }
    return killed.transform(
        k ->
            k.succeeded()
                ? delegate.close()
                : io.shardkit.router.impl.execute.HardClose.close(delegate));
  }

  private <T> Future<T> refused() {
    return Future.failedFuture(
        new ShardkitException(
            "statement refused: its connection was already given back (the phase's deadline"
                + " passed or it ended)"));
  }

  @Override
  public Query<RowSet<Row>> query(String sql) {
    return new GuardedQuery<>(delegate.query(sql));
  }

  @Override
  public PreparedQuery<RowSet<Row>> preparedQuery(String sql) {
    return new GuardedPreparedQuery<>(delegate.preparedQuery(sql));
  }

  @Override
  public PreparedQuery<RowSet<Row>> preparedQuery(String sql, PrepareOptions options) {
    return new GuardedPreparedQuery<>(delegate.preparedQuery(sql, options));
  }

  @Override
  public Future<PreparedStatement> prepare(String sql) {
    return unsupported("prepare");
  }

  @Override
  public Future<PreparedStatement> prepare(String sql, PrepareOptions options) {
    return unsupported("prepare");
  }

  @Override
  public Future<Transaction> begin() {
    return unsupported("begin");
  }

  @Override
  public Transaction transaction() {
    return null;
  }

  @Override
  public Future<Void> close() {
    return unsupported("close");
  }

  private static <T> Future<T> unsupported(String what) {
    return Future.failedFuture(
        new ShardkitException(
            what
                + "() is not available on a TCC phase's connection: shardkit owns its transaction"
                + " and gives it back (use query/preparedQuery)"));
  }

  @Override
  public SqlConnection exceptionHandler(Handler<Throwable> handler) {
    delegate.exceptionHandler(handler);
    return this;
  }

  @Override
  public SqlConnection closeHandler(Handler<Void> handler) {
    delegate.closeHandler(handler);
    return this;
  }

  @Override
  public boolean isSSL() {
    return delegate.isSSL();
  }

  @Override
  public DatabaseMetadata databaseMetadata() {
    return delegate.databaseMetadata();
  }

  private class GuardedQuery<T> implements Query<T> {
    private final Query<T> query;

    GuardedQuery(Query<T> query) {
      this.query = query;
    }

    @Override
    public Future<T> execute() {
      return released ? refused() : tracked(query::execute);
    }

    @Override
    public <R> Query<SqlResult<R>> collecting(Collector<Row, ?, R> collector) {
      return new GuardedQuery<>(query.collecting(collector));
    }

    @Override
    public <U> Query<RowSet<U>> mapping(Function<Row, U> mapper) {
      return new GuardedQuery<>(query.mapping(mapper));
    }
  }

  private final class GuardedPreparedQuery<T> extends GuardedQuery<T> implements PreparedQuery<T> {
    private final PreparedQuery<T> query;

    GuardedPreparedQuery(PreparedQuery<T> query) {
      super(query);
      this.query = query;
    }

    @Override
    public Future<T> execute(Tuple tuple) {
      return released ? refused() : tracked(() -> query.execute(tuple));
    }

    @Override
    public Future<T> executeBatch(List<Tuple> batch) {
      return released ? refused() : tracked(() -> query.executeBatch(batch));
    }

    @Override
    public <R> PreparedQuery<SqlResult<R>> collecting(Collector<Row, ?, R> collector) {
      return new GuardedPreparedQuery<>(query.collecting(collector));
    }

    @Override
    public <U> PreparedQuery<RowSet<U>> mapping(Function<Row, U> mapper) {
      return new GuardedPreparedQuery<>(query.mapping(mapper));
    }
  }
}
