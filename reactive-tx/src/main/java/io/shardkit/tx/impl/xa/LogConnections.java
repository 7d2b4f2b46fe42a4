package io.shardkit.tx.impl.xa;

import io.shardkit.router.impl.execute.HardClose;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlConnection;

/**
 * A few connections of the log data source kept for decision writes, round-robin.
 *
 * <p>Why not the pool: the log data source is usually also a shard, and the branches of
 * transactions waiting for their decision hold that shard's pooled connections. With the pool
 * exhausted by them, a decision write taken from the same pool waits for a connection that only a
 * decision can free: a deadlock that ends at the deadlines. Kept connections always make progress.
 * Commands queue on each connection; a connection that breaks is dropped and replaced on next use.
 */
final class LogConnections {

  private final Pool pool;
  private final Context home;
  private final SqlConnection[] connections;

  @SuppressWarnings("unchecked")
  private final Future<SqlConnection>[] opening;

  private int next;
  private boolean closed;

  @SuppressWarnings("unchecked")
  LogConnections(Pool pool, Context home, int size) {
    this.pool = pool;
    this.home = home;
    this.connections = new SqlConnection[size];
    this.opening = new Future[size];
  }

  int size() {
    return connections.length;
  }

  /**
   * Completes once every kept connection is open. Transactions wait for it before enlisting, so the
   * kept connections are taken before branches can exhaust the pool.
   */
  Future<Void> ready() {
    synchronized (this) {
      boolean all = true;
      for (SqlConnection c : connections) {
        all &= c != null;
      }
      if (all || closed) {
        return Future.succeededFuture();
      }
    }
    java.util.List<Future<SqlConnection>> opens = new java.util.ArrayList<>();
    for (int i = 0; i < connections.length; i++) {
      opens.add(get());
    }
    return Future.join(opens).mapEmpty();
  }

  /** A kept connection (opened on first use). Its results complete on its own context. */
  Future<SqlConnection> get() {
    int i;
    Future<SqlConnection> open;
    synchronized (this) {
      if (closed) {
        return Future.failedFuture(new IllegalStateException("coordinator closed"));
      }
      i = next;
      next = (next + 1) % connections.length;
      if (connections[i] != null) {
        return Future.succeededFuture(connections[i]);
      }
      if (opening[i] != null) {
        return opening[i];
      }
      // Opened on the coordinator's root context, never on a transaction's scope context: the
      // connection's callbacks run there, and a closed scope must not be current in them.
      Promise<SqlConnection> promise = Promise.promise();
      open = promise.future();
      opening[i] = open;
      home.runOnContext(v -> pool.getConnection().onComplete(promise));
    }
    int slot = i;
    return open.andThen(
        ar -> {
          synchronized (this) {
            opening[slot] = null;
            if (ar.succeeded()) {
              SqlConnection conn = ar.result();
              connections[slot] = conn;
              conn.closeHandler(v -> dropped(slot, conn));
            }
          }
        });
  }

  private synchronized void dropped(int slot, SqlConnection conn) {
    if (connections[slot] == conn) {
      connections[slot] = null;
    }
  }

  /** A statement on {@code conn} failed without an answer: stop using it. */
  void broken(SqlConnection conn) {
    synchronized (this) {
      for (int i = 0; i < connections.length; i++) {
        if (connections[i] == conn) {
          connections[i] = null;
        }
      }
    }
    HardClose.close(conn);
  }

  Future<Void> close() {
    SqlConnection[] toClose;
    synchronized (this) {
      closed = true;
      toClose = connections.clone();
      java.util.Arrays.fill(connections, null);
    }
    Future<Void> all = Future.succeededFuture();
    for (SqlConnection c : toClose) {
      if (c != null) {
        all = all.eventually(() -> c.close());
      }
    }
    return all;
  }
}
