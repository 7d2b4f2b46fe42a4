package io.shardkit.router.impl.execute;

import io.shardkit.context.ShardkitException;
import io.shardkit.context.ShardkitTimeoutException;
import io.shardkit.router.CrossShardTransactionException;
import io.shardkit.router.impl.rewrite.Rewriter;
import io.shardkit.router.impl.rewrite.SqlUnit;
import io.shardkit.router.spi.ShardTransaction;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.TransactionRollbackException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;

/**
 * The transaction of a pool without a transaction manager: {@code BEGIN ... COMMIT} on one pinned
 * connection of the first data source a statement touches.
 *
 * <p>Why statements are admitted before they run: a statement with units on two data sources would
 * otherwise start on the first before the second asks for its connection. {@link #admit} sees every
 * unit of a routed statement (or of a whole batch) before any runs, pins the data source on first
 * use and refuses another one with nothing sent; the transaction is then rollback-only.
 *
 * <p>The deadline is a timer on the context that began the transaction: when it fires first, the
 * transaction rolls back, and later statements and the commit fail with {@link
 * ShardkitTimeoutException}.
 */
final class LocalTransaction implements ShardTransaction, StatementRunner.ClientSource {

  private enum State {
    ACTIVE,
    ENDING,
    ENDED
  }

  private final String globalId;
  private final Function<String, Pool> pools;
  private final Vertx vertx;
  private final Context context;
  private final Duration timeout;
  private final long startNanos = System.nanoTime();
  private final long timer;
  private final Promise<Void> completion = Promise.promise();
  private final List<Runnable> onCommit = new ArrayList<>();
  private final List<Runnable> onRollback = new ArrayList<>();

  private State state = State.ACTIVE;
  private String pinned;
  private Future<SqlConnection> connection;
  private CrossShardTransactionException refusal;
  private ShardkitTimeoutException timedOut;
  private Future<Void> ending;
  private final List<Future<?>> running = new ArrayList<>();

  /** Kills a statement still running when the transaction rolls back. */
  private final StatementCancel cancel;

  private final Function<String, io.vertx.mysqlclient.MySQLConnectOptions> servers;

  /** Ending by a rollback: a statement still waiting for the connection is not sent. */
  private boolean rollingBack;

  /** The kill sent at the deadline, if any: the connection goes back once it answered. */
  private Future<Void> killing;

  /**
   * Begins (lazily: the connection is taken at the first statement). A statement still running when
   * the transaction rolls back is killed on its server ({@code servers}) before the rollback,
   * instead of being waited for (a lock wait would hold the connection until {@code
   * innodb_lock_wait_timeout}).
   */
  LocalTransaction(
      Vertx vertx,
      String globalId,
      Duration timeout,
      Function<String, Pool> pools,
      StatementCancel cancel,
      Function<String, io.vertx.mysqlclient.MySQLConnectOptions> servers) {
    this.cancel = cancel;
    this.servers = servers;
    this.vertx = vertx;
    this.context = vertx.getOrCreateContext();
    this.globalId = globalId;
    this.timeout = timeout;
    this.pools = pools;
    this.timer = vertx.setTimer(Math.max(1, timeout.toMillis()), id -> expire());
  }

  @Override
  public String globalId() {
    return globalId;
  }

  @Override
  public synchronized void admit(String sql, Rewriter.Routed routed) {
    checkActive();
    Set<String> reached = new LinkedHashSet<>();
    for (SqlUnit unit : routed.units()) {
      reached.add(unit.dataSource());
    }
    if (reached.isEmpty()) {
      return;
    }
    if (pinned == null && reached.size() == 1) {
      pinned = reached.iterator().next();
    }
    if (pinned == null || !Set.of(pinned).containsAll(reached)) {
      List<String> tables = routed.plan() == null ? List.of() : routed.plan().tables();
      CrossShardTransactionException e =
          new CrossShardTransactionException(sql, tables, pinned, new ArrayList<>(reached));
      if (refusal == null) {
        refusal = e;
      }
      throw e;
    }
  }

  /**
   * Statements still running on the pinned connection hold the end back: Vert.x sends a prepared
   * statement as two commands, and a ROLLBACK queued between them would let the second run outside
   * the transaction.
   */
  @Override
  public synchronized void started(Future<?> statement) {
    running.add(statement);
    statement.onComplete(ar -> forget(statement));
  }

  private synchronized void forget(Future<?> statement) {
    running.remove(statement);
  }

  @Override
  public synchronized Future<SqlClient> clientFor(String dataSource) {
    try {
      checkActive();
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
    if (pinned == null) {
      pinned = dataSource;
    } else if (!pinned.equals(dataSource)) {
      return Future.failedFuture(
          new CrossShardTransactionException(
              "(statement on " + dataSource + ")", List.of(), pinned, List.of(dataSource)));
    }
    if (connection == null) {
      // end() waits for this connection and releases it, whenever the transaction ends
      connection = pools.apply(dataSource).getConnection().compose(c -> c.begin().map(tx -> c));
    }
    // a statement that waited for the connection is not sent once the transaction is rolling back
    // (its deadline, or the caller's rollback, e.g. withTransaction's at the scope's deadline)
    return connection.compose(
        c -> {
          RuntimeException late;
          synchronized (this) {
            late =
                timedOut != null
                    ? timedOut
                    : rollingBack
                        ? new ShardkitException(
                            "transaction "
                                + globalId
                                + " was rolled back while the statement waited for its"
                                + " connection; not sent")
                        : null;
          }
          return late != null ? Future.failedFuture(late) : Future.succeededFuture(c);
        });
  }

  private void checkActive() {
    if (timedOut != null) {
      throw timedOut;
    }
    if (state != State.ACTIVE) {
      throw new ShardkitException("transaction " + globalId + " has already ended");
    }
  }

  @Override
  public synchronized Future<Void> commit() {
    if (state != State.ACTIVE) {
      return ended();
    }
    if (refusal != null) {
      return end(false).transform(ar -> Future.failedFuture(refusal));
    }
    return end(true);
  }

  @Override
  public synchronized Future<Void> rollback() {
    if (state != State.ACTIVE) {
      return ended().otherwiseEmpty();
    }
    return end(false).otherwiseEmpty();
  }

  /** What a second commit/rollback gets: the outcome of the first. */
  private Future<Void> ended() {
    if (timedOut != null) {
      return ending.transform(ar -> Future.failedFuture(timedOut));
    }
    return ending;
  }

  private synchronized void expire() {
    if (state != State.ACTIVE) {
      return;
    }
    timedOut =
        new ShardkitTimeoutException(
            globalId,
            Duration.ofNanos(System.nanoTime() - startNanos),
            timeout,
            "running a local transaction"
                + (pinned != null ? " on data source " + pinned : "")
                + " (rolled back)",
            null);
    end(false);
  }

  /**
   * Gives the connection back to its pool; after a kill, once the kill answered (closed for real if
   * it did not: a late kill must not meet the next borrower).
   */
  private Future<Void> release(SqlConnection c) {
    Future<Void> k;
    synchronized (this) {
      k = killing;
    }
    if (k == null) {
      return c.close();
    }
    return k.transform(ar -> ar.succeeded() ? c.close() : HardClose.close(c));
  }

  /** Commits or rolls back the pinned connection (if any), releases it and settles completion. */
  private Future<Void> end(boolean commit) {
    state = State.ENDING;
    rollingBack = !commit;
    vertx.cancelTimer(timer);
    io.vertx.mysqlclient.MySQLConnectOptions server = pinned == null ? null : servers.apply(pinned);
    if (!commit
        && !running.isEmpty()
        && connection != null
        && connection.succeeded()
        && server != null) {
      // rolling back (the deadline, or the caller) while a statement still runs (a lock wait, a
      // long scan): it is killed, so that the rollback and the connection's return do not wait
      // for it (a lock wait would hold them until innodb_lock_wait_timeout); if the statements
      // go on (one queued behind it started), the session is, and the connection is closed
      killing =
          cancel.killRunning(server, connection.result(), Future.join(new ArrayList<>(running)));
    }
    Future<Void> work;
    if (connection == null) {
      work = Future.succeededFuture();
    } else {
      Future<?> settled = Future.join(new ArrayList<>(running)).otherwiseEmpty();
      work =
          settled
              .transform(v -> connection)
              .transform(
                  ar -> {
                    if (ar.failed()) {
                      return Future.<Void>failedFuture(ar.cause());
                    }
                    SqlConnection c = ar.result();
                    io.vertx.sqlclient.Transaction tx = c.transaction();
                    Future<Void> outcome =
                        tx == null
                            ? (commit
                                ? Future.failedFuture(TransactionRollbackException.INSTANCE)
                                : Future.succeededFuture())
                            : commit ? tx.commit() : tx.rollback();
                    return outcome.transform(
                        done ->
                            release(c)
                                .transform(
                                    closed ->
                                        done.succeeded()
                                            ? Future.<Void>succeededFuture()
                                            : Future.<Void>failedFuture(done.cause())));
                  });
    }
    Future<Void> result =
        commit
            ? work
            : work.transform(
                ar ->
                    Future.failedFuture(
                        timedOut != null ? timedOut : TransactionRollbackException.INSTANCE));
    // the caller of commit()/rollback() hears first, then completion() (as with Vert.x's own
    // transactions, whose owners often close the connection when completion() fires)
    Promise<Void> answer = Promise.promise();
    ending = answer.future();
    result.onComplete(
        ar -> {
          answer.handle(ar);
          synchronized (this) {
            state = State.ENDED;
          }
          List<Runnable> hooks = ar.succeeded() ? onCommit : onRollback;
          context.runOnContext(v -> hooks.forEach(LocalTransaction::runHook));
          if (ar.succeeded()) {
            completion.tryComplete();
          } else {
            completion.tryFail(ar.cause());
          }
        });
    return answer.future();
  }

  private static void runHook(Runnable hook) {
    try {
      hook.run();
    } catch (RuntimeException e) {
      System.getLogger(LocalTransaction.class.getName())
          .log(System.Logger.Level.WARNING, "transaction hook failed", e);
    }
  }

  @Override
  public Future<Void> completion() {
    return completion.future();
  }

  @Override
  public synchronized void onCommit(Runnable hook) {
    onCommit.add(hook);
  }

  @Override
  public synchronized void onRollback(Runnable hook) {
    onRollback.add(hook);
  }
}
