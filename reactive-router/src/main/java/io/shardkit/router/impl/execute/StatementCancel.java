package io.shardkit.router.impl.execute;

import io.shardkit.context.TxScope;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.mysqlclient.MySQLBuilder;
import io.vertx.mysqlclient.MySQLConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.internal.Connection;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * Stops a pool statement whose caller's deadline has passed, so that nothing the caller was told
 * had timed out goes on (or applies) afterwards and holds a connection others wait for:
 *
 * <ul>
 *   <li>a statement still waiting for a connection when the deadline passes is never sent: the
 *       connection goes back at once;
 *   <li>a statement running on its server is cancelled with {@code KILL QUERY <thread id>} on a
 *       connection of its own to that server (MySQL's and MariaDB's cancel, what JDBC's query
 *       timeout sends): a lock wait or a long scan ends with error 1317 and an autocommit write is
 *       not applied. A statement that ended first is left as it is.
 * </ul>
 *
 * <p>A kill names a thread, not a statement, so the connection is given back to the pool only once
 * the kill has answered (or been given up, and then the connection is closed for real): a kill
 * arriving late can never cancel the next borrower's statement. A connection's thread id is read
 * once, as it joins its pool ({@code SELECT CONNECTION_ID()} in the pool's connect handler, {@link
 * #learnAndRelease}); a statement outside a transaction scope (no deadline) costs nothing here.
 */
final class StatementCancel {

  private static final System.Logger LOG = System.getLogger(StatementCancel.class.getName());

  /** How long a kill may take before the connection is closed for real instead. */
  static final long KILL_TIMEOUT_MS = 2_000;

  private final Vertx vertx;
  private final Map<String, Pool> admins = new ConcurrentHashMap<>();
  private final Map<Connection, Long> threadIds = Collections.synchronizedMap(new WeakHashMap<>());
  private volatile boolean closed;

  StatementCancel(Vertx vertx) {
    this.vertx = vertx;
  }

  /** Whether the caller runs in a transaction scope (its statements are watched). */
  static boolean inScope() {
    return TxScope.current().isPresent();
  }

  /**
   * Runs {@code op} on {@code connection} (taken for the watched statement) and gives the
   * connection back to its pool once {@code op} is done and any kill has answered, then runs {@code
   * released}. The returned future is {@code op}'s.
   *
   * @param watch the watch made before the connection was asked for ({@link #watch})
   */
  <T> Future<T> run(
      Watch watch, SqlConnection connection, Function<SqlClient, Future<T>> op, Runnable released) {
    Future<T> out;
    if (!watch.take(connection)) {
      // the deadline passed while the statement waited for a connection: never sent
      connection.close();
      released.run();
      return Future.failedFuture(new DeadlinePassed(watch.server));
    }
    try {
      out = op.apply(connection);
    } catch (RuntimeException e) {
      out = Future.failedFuture(e);
    }
    out.onComplete(
        done -> {
          watch.statement.tryComplete();
          watch.finished(released);
        });
    return out;
  }

  /**
   * Runs {@code op} on {@code pool}: as it is outside a transaction scope; inside one on a
   * connection of its own, watched (not sent once the deadline passed, killed on {@code server} if
   * running then). For pools without adaptive admission (which watches its own statements).
   */
  <T> Future<T> run(Pool pool, MySQLConnectOptions server, Function<SqlClient, Future<T>> op) {
    if (!inScope()) {
      return op.apply(pool);
    }
    Watch watch = watch(server);
    Future<T> out =
        pool.getConnection()
            .transform(
                ar ->
                    ar.succeeded()
                        ? run(watch, ar.result(), op, () -> {})
                        : Future.failedFuture(ar.cause()));
    bound(out, watch);
    return out;
  }

  /**
   * Registers the watch with the caller's scope: its deadline timer calls it, no timer of its own.
   */
  static void bound(Future<?> statement, Watch watch) {
    TxScope.bound(statement, watch::deadlinePassed);
  }

  /**
   * A pool's connect handler: learns the new connection's thread id, then hands the connection to
   * the pool (it must close it, whatever the answer).
   */
  void learnAndRelease(SqlConnection connection) {
    Connection physical = HardClose.physical(connection);
    if (physical == null) {
      connection.close();
      return;
    }
    connection
        .query("SELECT CONNECTION_ID()")
        .execute()
        .onComplete(
            ar -> {
              if (ar.succeeded()) {
                for (io.vertx.sqlclient.Row row : ar.result()) {
                  threadIds.put(physical, row.getLong(0));
                }
              }
              connection.close();
            });
  }

  /** How long what ran on a connection may go on after its kill answered before its session is. */
  static final long KILL_GRACE_MS = 250;

  /**
   * Kills what runs on {@code connection} ({@code KILL QUERY} on {@code server}) and, if {@code
   * running} (the statements sent on it) has not completed within {@link #KILL_GRACE_MS} after the
   * kill answered, ends its session ({@code KILL CONNECTION}): a statement queued behind the killed
   * one then started (a transaction's statements sent together), or the kill landed between a
   * prepared statement's two commands (PREPARE, then EXECUTE). Every statement on a killed session
   * fails and the server rolls back its open transaction (a prepared XA branch survives, as it
   * survives any disconnect). Give the connection back only once the returned future completes:
   * succeeded, it may be reused; failed (the session killed, the thread unknown, a kill
   * unanswered), close it for real.
   */
  Future<Void> killRunning(
      MySQLConnectOptions server, SqlConnection connection, Future<?> running) {
    Connection physical = HardClose.physical(connection);
    Long thread = physical == null ? null : threadIds.get(physical);
    if (thread == null) {
      return Future.failedFuture(new IllegalStateException("thread id unknown"));
    }
    return kill(server, thread, "QUERY")
        .compose(
            killed -> {
              if (running.isComplete()) {
                return Future.<Void>succeededFuture();
              }
              Promise<Void> quiet = Promise.promise();
              long grace = vertx.setTimer(KILL_GRACE_MS, id -> quiet.tryFail("still running"));
              running.onComplete(
                  done -> {
                    vertx.cancelTimer(grace);
                    quiet.tryComplete();
                  });
              return quiet
                  .future()
                  .recover(
                      stillRunning ->
                          kill(server, thread, "CONNECTION")
                              .transform(
                                  ar ->
                                      Future.<Void>failedFuture(
                                          new IllegalStateException(
                                              "session "
                                                  + thread
                                                  + " killed: its statements went on after KILL"
                                                  + " QUERY"))));
            });
  }

  /**
   * A watch on one statement of a caller with a deadline: register it with the caller's scope
   * ({@code TxScope.bound(statement, watch::deadlinePassed)}) before the connection is asked for.
   */
  Watch watch(MySQLConnectOptions server) {
    return new Watch(server);
  }

  /** Closes the kill connections. */
  Future<Void> close() {
    closed = true;
    List<Future<Void>> all = new ArrayList<>();
    admins.values().forEach(p -> all.add(p.close()));
    admins.clear();
    return Future.join(all).mapEmpty();
  }

  private Future<Void> kill(MySQLConnectOptions server, long threadId, String what) {
    if (closed) {
      return Future.failedFuture(new IllegalStateException("pool closed"));
    }
    Pool admin =
        admins.computeIfAbsent(
            server.getHost() + ":" + server.getPort(),
            k ->
                MySQLBuilder.pool()
                    .with(new PoolOptions().setMaxSize(1).setMaxWaitQueueSize(1024))
                    .connectingTo(new MySQLConnectOptions(server))
                    .using(vertx)
                    .build());
    Promise<Void> answered = Promise.promise();
    long timer =
        vertx.setTimer(
            KILL_TIMEOUT_MS,
            id ->
                answered.tryFail(
                    new IllegalStateException(
                        "KILL "
                            + what
                            + " "
                            + threadId
                            + " unanswered after "
                            + KILL_TIMEOUT_MS
                            + " ms")));
    admin
        .query("KILL " + what + " " + threadId)
        .execute()
        .onComplete(
            ar -> {
              vertx.cancelTimer(timer);
              // 1094 "unknown thread": the connection is gone, nothing to cancel
              if (ar.succeeded()
                  || (ar.cause() instanceof io.vertx.sqlclient.DatabaseException db
                      && db.getErrorCode() == 1094)) {
                answered.tryComplete();
              } else {
                answered.tryFail(ar.cause());
              }
            });
    return answered.future();
  }

  /** Thrown (never to a caller: its deadline answered it) for a statement never sent. */
  static final class DeadlinePassed extends RuntimeException {
    private static final long serialVersionUID = 1L;

    DeadlinePassed(MySQLConnectOptions server) {
      super(
          "the deadline passed while the statement waited for a connection to "
              + server.getHost()
              + ":"
              + server.getPort()
              + "; not sent",
          null,
          false,
          false);
    }
  }

  /** One statement's watch: which connection it runs on, whether its deadline passed. */
  final class Watch {
    final MySQLConnectOptions server;
    private SqlConnection connection;
    private boolean abandoned;
    private boolean finished;
    private Future<Void> kill;

    /** Completed when the statement ended. */
    private final Promise<Void> statement = Promise.promise();

    Watch(MySQLConnectOptions server) {
      this.server = server;
    }

    /** The connection came: false when the deadline passed before (nothing is to be sent). */
    synchronized boolean take(SqlConnection c) {
      if (abandoned) {
        return false;
      }
      connection = c;
      return true;
    }

    /** The caller's deadline passed: cancels the statement if it is running. */
    void deadlinePassed() {
      SqlConnection running;
      synchronized (this) {
        abandoned = true;
        if (connection == null || finished) {
          return;
        }
        running = connection;
      }
      Future<Void> k = killRunning(server, running, statement.future());
      synchronized (this) {
        kill = k;
      }
      k.onFailure(
          e ->
              LOG.log(
                  System.Logger.Level.DEBUG,
                  "statement past its deadline on "
                      + server.getHost()
                      + ":"
                      + server.getPort()
                      + " not cancelled: "
                      + e.getMessage()));
    }

    /** The statement ended: the connection goes back once a kill sent for it has answered. */
    void finished(Runnable released) {
      Future<Void> k;
      SqlConnection c;
      synchronized (this) {
        finished = true;
        k = kill;
        c = connection;
      }
      if (k == null) {
        c.close();
        released.run();
        return;
      }
      k.onComplete(
          ar -> {
            if (ar.failed()) {
              HardClose.close(c); // the kill may still land: this connection must not be reused
            } else {
              c.close();
            }
            released.run();
          });
    }
  }
}
