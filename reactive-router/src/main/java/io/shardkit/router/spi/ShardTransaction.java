package io.shardkit.router.spi;

import io.vertx.core.Future;
import io.vertx.sqlclient.SqlClient;

/**
 * One transaction started by a {@link ShardTransactionManager}. The pool asks {@link
 * #clientFor(String)} for the client of each data source a statement is routed to (the manager
 * enlists that data source on first use, e.g. {@code XA START} on a pinned connection) and never
 * closes what it gets.
 *
 * <p>{@link #commit()} commits on every enlisted data source or on none; its failure is one of the
 * typed outcomes of reactive-tx (rolled back, pending with a durable COMMIT decision, unknown,
 * timeout). {@link #rollback()} undoes everything; both release every connection the transaction
 * pinned, whatever the outcome, and may be called once (a second call gets the first outcome).
 */
public interface ShardTransaction extends ShardConnectionProvider {

  /** The global transaction id (also in {@code TxScope.current()} while the transaction runs). */
  String globalId();

  /** The client for a data source, enlisting it on first use. */
  @Override
  Future<SqlClient> clientFor(String dataSource);

  /** Commits atomically on every enlisted data source. */
  Future<Void> commit();

  /** Rolls back on every enlisted data source. */
  Future<Void> rollback();

  /** Completes with the outcome once the transaction ended (committed: success). */
  Future<Void> completion();

  /**
   * Registers a callback that runs once, on the context that began the transaction, after a commit
   * is final and durable; its failure is reported (log and metric), never turns the commit into a
   * failure.
   */
  void onCommit(Runnable hook);

  /** Registers a callback that runs once after the transaction rolled back (for any reason). */
  void onRollback(Runnable hook);

  /**
   * The OpenTelemetry context the transaction's statements belong to (the manager's transaction
   * span), made current while the pool runs the caller's work so that statement spans are its
   * children; null (the default) leaves the caller's.
   */
  default io.opentelemetry.context.Context traceContext() {
    return null;
  }
}
