package io.shardkit.tx.impl.xa;

import io.shardkit.context.Pin;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.SqlConnection;
import java.util.function.Supplier;

/**
 * One data source enlisted in a transaction: its pinned connection, its XA state, and the chain of
 * coordinator commands on it (so a rollback decided at the deadline runs after the prepare already
 * in flight, and picks its statement from the state that prepare left).
 */
final class Branch {

  /** XA state of the branch as far as the coordinator knows. */
  enum State {
    /** Connection being obtained, {@code XA START} not answered yet. */
    ENLISTING,
    /** Started (or ended): statements may run; a rollback needs END + ROLLBACK. */
    ACTIVE,
    /** Prepared: survives the connection; only COMMIT or ROLLBACK. */
    PREPARED,
    COMMITTED,
    ROLLED_BACK,
    /** A command failed without an answer: the server may hold it prepared or not. */
    UNKNOWN,
    /** {@code XA START} failed: nothing on the server. */
    NOT_STARTED
  }

  final String dataSource;
  final Xid xid;
  State state = State.ENLISTING;
  Future<SqlClient> ready;
  SqlConnection conn;
  Pin pin;
  private Future<?> tail = Future.succeededFuture();
  private boolean released;
  private Throwable firstFailure;

  Branch(String dataSource, Xid xid) {
    this.dataSource = dataSource;
    this.xid = xid;
  }

  /** Runs {@code step} after the branch's previous coordinator command has finished. */
  <T> Future<T> then(Supplier<Future<T>> step) {
    Future<T> next = tail.transform(ignored -> step.get());
    tail = next;
    return next;
  }

  /** A text-protocol command on the branch's connection (XA needs the text protocol). */
  Future<RowSet<Row>> xa(String sql) {
    if (conn == null || released) {
      return Future.failedFuture(
          new IllegalStateException("branch " + xid + " has no connection for: " + sql));
    }
    return conn.query(sql).execute();
  }

  void recordFailure(Throwable failure) {
    if (firstFailure == null) {
      firstFailure = failure;
    }
  }

  /** The first statement failure on this branch, or null. */
  Throwable firstFailure() {
    return firstFailure;
  }

  boolean isReleased() {
    return released;
  }

  /**
   * Gives the connection back: to the pool if the branch is finished and clean, closed for real if
   * it may still hold an XA branch. Unpins it from the scope. Idempotent.
   */
  Future<Void> release(boolean clean) {
    if (released || conn == null) {
      released = true;
      unpin();
      return Future.succeededFuture();
    }
    released = true;
    unpin();
    return clean ? conn.close().otherwiseEmpty() : HardClose.close(conn);
  }

  private void unpin() {
    if (pin != null) {
      pin.unpin();
    }
  }

  /**
   * {@code work} bounded by {@code millis}: when it has not finished by then, the connection is
   * closed for real (failing the work) so nothing waits on a shard that does not answer.
   */
  <T> Future<T> bounded(Vertx vertx, long millis, Future<T> work) {
    if (work.isComplete()) {
      return work;
    }
    Promise<T> promise = Promise.promise();
    long timer =
        vertx.setTimer(
            millis,
            id -> {
              if (!work.isComplete()) {
                state = State.UNKNOWN;
                release(false);
              }
            });
    work.onComplete(
        ar -> {
          vertx.cancelTimer(timer);
          promise.handle(ar);
        });
    return promise.future();
  }

  @Override
  public String toString() {
    return dataSource + "[" + state + "]";
  }
}
