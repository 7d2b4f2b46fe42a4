package io.shardkit.tx.impl.xa;

import io.shardkit.context.Pin;
import io.shardkit.router.impl.execute.HardClose;
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

  /** A PostgreSQL data source's branch (PREPARE TRANSACTION) rather than a MySQL XA branch. */
  final boolean postgres;

  /**
   * The branch that keeps the decision: a MySQL local transaction ({@code BEGIN}), never prepared,
   * that commits its own work together with the transaction's COMMIT row (see XaTransaction).
   */
  final boolean decides;

  /** A PostgreSQL branch's connect was told to the source's breaker (at most once). */
  final java.util.concurrent.atomic.AtomicBoolean connectCounted =
      new java.util.concurrent.atomic.AtomicBoolean();

  /** When it joined (its first statement may run), null until then. */
  java.time.Instant joinedAt;

  /** The isolation level the server reported as it joined (PostgreSQL), else null. */
  String isolationLevel;

  State state = State.ENLISTING;

  /** The client the work's statements run on (null until the branch started). */
  BranchClient client;

  Future<SqlClient> ready;

  /**
   * The answer to the start statement when it was pipelined (the client was handed out before it):
   * the commit waits for it; null when the start was awaited before the first statement.
   */
  Future<Void> started;

  /**
   * The session runs with {@code autocommit=0} since its pipelined start: a statement behind a
   * start that failed then waits uncommitted instead of committing on its own. Every clean end
   * restores {@code autocommit=1} in the same round trip ({@link #RESTORE}); a connection that was
   * not restored is never given back to the pool as is.
   */
  boolean autocommitOff;

  /** {@code autocommit=1} was restored by a command that succeeded. */
  private boolean restored;

  /** Appended to a branch's last command when its session runs with {@code autocommit=0}. */
  static final String RESTORE = "; SET autocommit=1";

  SqlConnection conn;
  Pin pin;
  private Future<?> tail = Future.succeededFuture();
  private boolean released;
  private Throwable firstFailure;

  Branch(String dataSource, Xid xid) {
    this(dataSource, xid, false);
  }

  Branch(String dataSource, Xid xid, boolean postgres) {
    this(dataSource, xid, postgres, false);
  }

  Branch(String dataSource, Xid xid, boolean postgres, boolean decides) {
    this.dataSource = dataSource;
    this.xid = xid;
    this.postgres = postgres;
    this.decides = decides;
  }

  /** The xid as the XA commands write it, built once per branch (a benign race at worst). */
  private String xidSql;

  private String xidSql() {
    String sql = xidSql;
    if (sql == null) {
      xidSql = sql = xid.sql();
    }
    return sql;
  }

  // The coordinator's commands, by kind of branch. PostgreSQL: a failed statement aborts the
  // transaction, and then COMMIT and PREPARE TRANSACTION answer as if they had worked (they roll
  // back). A SELECT 1 in the same round trip fails first in that state (25P02), so an aborted
  // branch can never be reported committed or prepared.

  /** Starts the branch; PostgreSQL also reports its isolation level (second result). */
  String startSql(String pgIsolation) {
    if (postgres) {
      return "BEGIN"
          + (pgIsolation == null ? "" : " ISOLATION LEVEL " + pgIsolation)
          + "; SHOW transaction_isolation";
    }
    if (autocommitOff) {
      // pipelined: the deciding branch needs no BEGIN (its first statement opens the
      // transaction); an XA branch's statements wait uncommitted should XA START fail
      return decides ? "SET autocommit=0" : "SET autocommit=0; XA START " + xidSql();
    }
    return decides ? "BEGIN" : "XA START " + xidSql();
  }

  /** {@code sql}, restoring {@code autocommit=1} after it when the session turned it off. */
  private String ending(String sql) {
    return autocommitOff ? sql + RESTORE : sql;
  }

  String onePhaseSql() {
    return postgres
        ? "SELECT 1; COMMIT"
        : ending(
            decides ? "COMMIT" : "XA END " + xidSql() + "; XA COMMIT " + xidSql() + " ONE PHASE");
  }

  String prepareSql() {
    return postgres
        ? "SELECT 1; PREPARE TRANSACTION " + xid.pgLiteral()
        : "XA END " + xidSql() + "; XA PREPARE " + xidSql();
  }

  String commitSql() {
    return postgres ? "COMMIT PREPARED " + xid.pgLiteral() : ending("XA COMMIT " + xidSql());
  }

  String rollbackActiveSql() {
    return postgres
        ? "ROLLBACK"
        : ending(decides ? "ROLLBACK" : "XA END " + xidSql() + "; XA ROLLBACK " + xidSql());
  }

  String rollbackPreparedSql() {
    return postgres ? "ROLLBACK PREPARED " + xid.pgLiteral() : ending("XA ROLLBACK " + xidSql());
  }

  /** The deciding branch's commit, carrying the decision row: {@code insert; COMMIT}. */
  String decidingCommitSql(String insertAndCommit) {
    return ending(insertAndCommit);
  }

  /**
   * The branch id as its server lists it (pg_prepared_xacts gid, or the xid); the deciding branch,
   * a local transaction, has none: {@code local:<global id>}.
   */
  String branchId() {
    return postgres ? xid.pgGid() : decides ? "local:" + xid.globalId() : xidSql();
  }

  /** A snapshot of this participant, or null when it never joined. */
  io.shardkit.tx.Participant snapshot() {
    if (joinedAt == null) {
      return null;
    }
    return new io.shardkit.tx.Participant(
        postgres ? io.shardkit.tx.Participant.POSTGRESQL : io.shardkit.tx.Participant.MYSQL,
        dataSource,
        branchId(),
        isolationLevel,
        joinedAt);
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
    Future<RowSet<Row>> done = conn.query(sql).execute();
    if (autocommitOff && sql.endsWith(RESTORE)) {
      done.onSuccess(rs -> restored = true);
    }
    return done;
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
    if (clean && autocommitOff && !restored) {
      // never pooled with autocommit=0: roll back whatever is open, restore it, or close
      SqlConnection c = conn;
      return c.query("ROLLBACK" + RESTORE)
          .execute()
          .transform(ar -> ar.succeeded() ? c.close().otherwiseEmpty() : HardClose.close(c));
    }
    if (clean) {
      return conn.close().otherwiseEmpty();
    }
    return HardClose.close(conn);
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
