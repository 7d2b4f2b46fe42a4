package io.shardkit.tx.impl.tcc;

import io.shardkit.context.Pin;
import io.shardkit.context.TxScope;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Transaction;
import java.util.function.Function;

/**
 * A local transaction on one pool connection, pinned to the current scope: if the scope closes
 * first (deadline), the connection is given back, which rolls the transaction back, and the {@link
 * GuardedConnection} the body holds refuses any further statement. A connection that arrives after
 * the scope closed is given back at once.
 */
public final class LocalTx {

  private LocalTx() {}

  /**
   * Runs {@code body} in a local transaction (public for the PostgreSQL participant, {@code
   * io.shardkit.tx.pg}); must be called inside a scope.
   */
  public static <T> Future<T> run(Pool pool, Function<SqlConnection, Future<T>> body) {
    return run(pool::getConnection, null, body);
  }

  /**
   * Like {@link #run(Pool, Function)}; a statement still running when the connection is given back
   * at the deadline is cancelled with {@code kill} (given the connection and the statements in
   * flight; a failed kill closes the connection for real instead of pooling it).
   */
  public static <T> Future<T> run(
      Pool pool,
      java.util.function.BiFunction<SqlConnection, Future<?>, Future<Void>> kill,
      Function<SqlConnection, Future<T>> body) {
    return run(Connector.killing(pool::getConnection, kill), null, body);
  }

  /**
   * Like {@link #run(Pool, Function)} but sets the isolation level of this one transaction first
   * (e.g. {@code READ COMMITTED} for statements that must not take gap locks).
   */
  static <T> Future<T> run(
      Connector pool, String isolationLevel, Function<SqlConnection, Future<T>> body) {
    return pool.get()
        .compose(
            conn ->
                pinned(
                    conn,
                    pool.killer(),
                    guarded -> {
                      GuardedConnection owned = (GuardedConnection) guarded;
                      Future<Void> prepare =
                          isolationLevel == null
                              ? Future.succeededFuture()
                              : guarded
                                  .query("SET TRANSACTION ISOLATION LEVEL " + isolationLevel)
                                  .execute()
                                  .mapEmpty();
                      return prepare
                          .compose(v -> owned.beginOwned())
                          .compose(tx -> inTransaction(tx, guarded, body));
                    }));
  }

  /**
   * Like {@link #run(Pool, Function)}, but the transaction is opened together with its first
   * statements in one round trip ({@code BEGIN; statements}, a text query; {@code statements} gets
   * the connection): {@code body} gets their results ({@code begun.next()} is the first
   * statement's). Committed when {@code body} succeeds, rolled back otherwise, and rolled back
   * before the connection goes back to the pool if the scope closes first (see {@link
   * GuardedConnection#giveBack()}).
   */
  static <T> Future<T> opened(
      Connector pool,
      Function<SqlConnection, String> statements,
      java.util.function.BiFunction<
              SqlConnection, io.vertx.sqlclient.RowSet<io.vertx.sqlclient.Row>, Future<T>>
          body) {
    return pool.get()
        .compose(
            conn ->
                pinned(
                    conn,
                    pool.killer(),
                    guarded -> {
                      GuardedConnection owned = (GuardedConnection) guarded;
                      return owned
                          .beginWith(statements.apply(guarded))
                          .transform(
                              begun ->
                                  begun.succeeded()
                                      ? call(c -> body.apply(c, begun.result()), guarded)
                                      : Future.<T>failedFuture(begun.cause()))
                          .transform(
                              outcome ->
                                  outcome.succeeded()
                                      ? owned.endOpened(true).map(outcome.result())
                                      : owned
                                          .endOpened(false)
                                          .<T>transform(
                                              ignored -> Future.failedFuture(outcome.cause())));
                    }));
  }

  /** One or more autocommit statements on a connection pinned to the current scope. */
  static <T> Future<T> single(Connector pool, Function<SqlConnection, Future<T>> body) {
    return pool.get().compose(conn -> pinned(conn, pool.killer(), body));
  }

  /**
   * Where a local transaction's connection comes from: a pool's {@code getConnection}, or that
   * through the coordinator's admission, which times the wait ({@code Admission.connect}).
   */
  @FunctionalInterface
  interface Connector extends java.util.function.Supplier<Future<SqlConnection>> {

    /**
     * {@code pool}'s connections (data source {@code dataSource}), timed by {@code admission} when
     * it is not null.
     */
    static Connector of(Pool pool, io.shardkit.tx.impl.Admission admission, String dataSource) {
      return admission == null ? pool::getConnection : () -> admission.connect(dataSource, pool);
    }

    /**
     * As {@link #of(Pool, io.shardkit.tx.impl.Admission, String)}; a statement still running when
     * the phase's connection is given back (its deadline) is cancelled with {@code kill}.
     */
    static Connector of(
        Pool pool,
        io.shardkit.tx.impl.Admission admission,
        String dataSource,
        java.util.function.BiFunction<SqlConnection, Future<?>, Future<Void>> kill) {
      return killing(of(pool, admission, dataSource), kill);
    }

    /** {@code plain}'s connections, with {@code kill} as their {@link #killer()}. */
    static Connector killing(
        Connector plain,
        java.util.function.BiFunction<SqlConnection, Future<?>, Future<Void>> kill) {
      return new Connector() {
        @Override
        public Future<SqlConnection> get() {
          return plain.get();
        }

        @Override
        public java.util.function.BiFunction<SqlConnection, Future<?>, Future<Void>> killer() {
          return kill;
        }
      };
    }

    /** Cancels what runs on one of its connections, or null (statements are let finish). */
    default java.util.function.BiFunction<SqlConnection, Future<?>, Future<Void>> killer() {
      return null;
    }
  }

  private static <T> Future<T> inTransaction(
      Transaction tx, SqlConnection guarded, Function<SqlConnection, Future<T>> body) {
    return call(body, guarded)
        .transform(
            outcome ->
                outcome.succeeded()
                    ? tx.commit().map(outcome.result())
                    : tx.rollback().<T>transform(ignored -> Future.failedFuture(outcome.cause())));
  }

  private static <T> Future<T> pinned(
      SqlConnection conn,
      java.util.function.BiFunction<SqlConnection, Future<?>, Future<Void>> kill,
      Function<SqlConnection, Future<T>> body) {
    GuardedConnection guarded = new GuardedConnection(conn, kill);
    Pin pin;
    try {
      pin = TxScope.pin("connection", guarded::giveBack);
    } catch (RuntimeException scopeClosed) {
      // Already given back by the pin.
      return Future.failedFuture(scopeClosed);
    }
    return call(body, guarded)
        .transform(
            outcome ->
                pin.release()
                    .transform(
                        ignored ->
                            outcome.succeeded()
                                ? Future.succeededFuture(outcome.result())
                                : Future.failedFuture(outcome.cause())));
  }

  private static <T> Future<T> call(
      Function<SqlConnection, Future<T>> body, SqlConnection guarded) {
    try {
      Future<T> result = body.apply(guarded);
      return result != null
          ? result
          : Future.failedFuture(
              new NullPointerException("a TCC phase returned null, not a Future"));
    } catch (Throwable t) {
      return Future.failedFuture(t);
    }
  }
}
