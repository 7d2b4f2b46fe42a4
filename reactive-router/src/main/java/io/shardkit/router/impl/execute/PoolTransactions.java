package io.shardkit.router.impl.execute;

import io.shardkit.context.ScopeOptions;
import io.shardkit.context.ShardkitTimeoutException;
import io.shardkit.context.TxScope;
import io.shardkit.router.spi.ShardTransaction;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Transaction;
import io.vertx.sqlclient.TransactionPropagation;
import java.time.Duration;
import java.util.function.Function;

/**
 * {@code withConnection} and {@code withTransaction} of the pool. A transaction body runs in a
 * {@link TxScope} with the transaction's deadline (so its statements, event-bus and gRPC calls
 * carry the global id and the remaining time) on the scope's duplicated context, where a {@code
 * CONTEXT} call also leaves its connection for nested calls to join.
 */
final class PoolTransactions {

  private final Vertx vertx;
  private final ShardedPoolImpl pool;

  PoolTransactions(Vertx vertx, ShardedPoolImpl pool) {
    this.vertx = vertx;
    this.pool = pool;
  }

  <T> Future<T> withConnection(Function<SqlConnection, Future<T>> fn) {
    return pool.getConnection()
        .compose(conn -> apply(fn, conn).transform(ar -> conn.close().transform(v -> settle(ar))));
  }

  <T> Future<T> withTransaction(
      TransactionPropagation propagation, Duration timeout, Function<SqlConnection, Future<T>> fn) {
    if (timeout == null || timeout.isZero() || timeout.isNegative()) {
      return Future.failedFuture(
          new IllegalArgumentException("transaction timeout must be positive, got " + timeout));
    }
    if (propagation == TransactionPropagation.CONTEXT) {
      Context context = vertx.getOrCreateContext();
      RoutedConnection joined = context.getLocal(TransactionLocal.CONNECTION);
      if (joined != null && joined.transaction() != null) {
        return joined(joined, fn);
      }
    }
    // the manager's admission before the scope, its timer and the connection: a refusal is
    // answered at once and costs none of them
    io.shardkit.router.spi.ShardTransactionManager.Admitted admitted;
    try {
      admitted = pool.admitTransaction();
    } catch (RuntimeException refused) {
      return Future.failedFuture(refused);
    }
    Attempt<T> attempt = new Attempt<>();
    return TxScope.run(
            vertx,
            ScopeOptions.ofTimeout(timeout),
            () ->
                pool.getConnection()
                    .compose(
                        conn ->
                            ((RoutedConnection) conn)
                                .begin(timeout, admitted)
                                .compose(
                                    tx ->
                                        inTransactionScope(
                                            (RoutedConnection) conn,
                                            tx,
                                            timeout,
                                            propagation,
                                            fn,
                                            attempt))
                                .transform(ar -> conn.close().transform(v -> settle(ar)))))
        .recover(
            failure -> {
              // The deadline (a scope's timer) can fire while the commit is in flight: the
              // commit's outcome, not the timer, is the transaction's (it may have committed).
              // Before the commit started, the caller is told now and the commit never starts.
              Transaction tx = attempt.committing;
              if (tx == null) {
                attempt.abandoned = true;
                return Future.failedFuture(failure);
              }
              return commitOutcome(tx, attempt.result, failure);
            })
        // an admission begin did not take over (the scope or the connection failed first)
        .andThen(ar -> admitted.release());
  }

  /**
   * How long past the deadline the caller waits for a commit in flight to answer (a manager's
   * commit answers at its own deadline, the same instant, with its typed outcome); past it the
   * outcome is reported unknown, never as a rollback.
   */
  static final long COMMIT_ANSWER_GRACE_MILLIS = 250;

  private <T> Future<T> commitOutcome(Transaction tx, T result, Throwable deadline) {
    io.vertx.core.Promise<T> answer = io.vertx.core.Promise.promise();
    long timer =
        vertx.setTimer(COMMIT_ANSWER_GRACE_MILLIS, id -> answer.tryFail(unknownOutcome(deadline)));
    tx.completion()
        .onComplete(
            ar -> {
              vertx.cancelTimer(timer);
              if (ar.succeeded()) {
                answer.tryComplete(result);
              } else {
                answer.tryFail(ar.cause());
              }
            });
    return answer.future();
  }

  private static Throwable unknownOutcome(Throwable deadline) {
    if (!(deadline instanceof ShardkitTimeoutException t)) {
      return deadline;
    }
    return new ShardkitTimeoutException(
        t.globalId(),
        t.elapsed(),
        t.timeout(),
        "committing: the commit was sent and has not answered, so its outcome is unknown (the"
            + " data source decides; check the data before retrying)",
        t);
  }

  /** What the caller's answer depends on once the work succeeded: the commit it started. */
  private static final class Attempt<T> {
    volatile Transaction committing;
    volatile T result;
    volatile boolean abandoned;
  }

  /**
   * Runs the work in a scope of the transaction's own global id (the XA gtrid with a manager, which
   * event bus and gRPC carry on), under the manager's trace context when it has one.
   */
  private <T> Future<T> inTransactionScope(
      RoutedConnection conn,
      Transaction tx,
      Duration timeout,
      TransactionPropagation propagation,
      Function<SqlConnection, Future<T>> fn,
      Attempt<T> attempt) {
    ShardTransaction shardTx = ((TransactionHandle) tx).shardTransaction();
    ScopeOptions scope =
        ScopeOptions.builder().timeout(timeout).globalId(shardTx.globalId()).build();
    io.opentelemetry.context.Context trace = shardTx.traceContext();
    if (trace == null) {
      return TxScope.run(vertx, scope, () -> inTransaction(conn, tx, propagation, fn, attempt));
    }
    try (io.opentelemetry.context.Scope ignored = trace.makeCurrent()) {
      return TxScope.run(vertx, scope, () -> inTransaction(conn, tx, propagation, fn, attempt));
    }
  }

  private <T> Future<T> inTransaction(
      RoutedConnection conn,
      Transaction tx,
      TransactionPropagation propagation,
      Function<SqlConnection, Future<T>> fn,
      Attempt<T> attempt) {
    Context context = vertx.getOrCreateContext();
    boolean shared = propagation == TransactionPropagation.CONTEXT;
    if (shared) {
      context.putLocal(TransactionLocal.CONNECTION, conn);
    }
    return apply(fn, conn)
        .transform(
            ar -> {
              if (shared) {
                context.removeLocal(TransactionLocal.CONNECTION);
              }
              if (ar.succeeded() && attempt.abandoned) {
                return tx.rollback()
                    .transform(
                        v ->
                            Future.<T>failedFuture(
                                new IllegalStateException(
                                    "the transaction's deadline passed before its work ended:"
                                        + " rolled back")));
              }
              if (ar.succeeded()) {
                attempt.result = ar.result();
                attempt.committing = tx;
                return tx.commit().map(ar.result());
              }
              return tx.rollback().transform(v -> Future.<T>failedFuture(ar.cause()));
            });
  }

  /** A nested CONTEXT call: runs on the outer transaction; its failure rolls that back. */
  private static <T> Future<T> joined(
      RoutedConnection conn, Function<SqlConnection, Future<T>> fn) {
    return apply(fn, conn)
        .recover(
            e -> {
              Transaction tx = conn.transaction();
              Future<Void> rollback = tx == null ? Future.succeededFuture() : tx.rollback();
              return rollback.transform(v -> Future.failedFuture(e));
            });
  }

  /** Calls {@code fn}; a throw or a null future becomes a failed future. */
  private static <T> Future<T> apply(Function<SqlConnection, Future<T>> fn, SqlConnection conn) {
    try {
      Future<T> result = fn.apply(conn);
      return result != null
          ? result
          : Future.failedFuture(new NullPointerException("the function returned a null future"));
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
  }

  private static <T> Future<T> settle(io.vertx.core.AsyncResult<T> ar) {
    return ar.succeeded() ? Future.succeededFuture(ar.result()) : Future.failedFuture(ar.cause());
  }
}
