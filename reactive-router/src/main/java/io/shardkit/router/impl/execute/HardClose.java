package io.shardkit.router.impl.execute;

import io.vertx.core.Future;
import io.vertx.sqlclient.DatabaseException;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.impl.SocketConnectionBase;
import io.vertx.sqlclient.internal.Connection;
import io.vertx.sqlclient.internal.SqlConnectionInternal;

/**
 * Closes a pooled connection for real, at once, so that it never goes back to the pool (public for
 * reactive-tx, which uses it for its XA branches and TCC phases).
 *
 * <p>Why: a connection that may still hold a prepared (or possibly prepared) XA branch, or at which
 * a kill may still land, must be closed, not recycled: MariaDB lets another connection (recovery's)
 * finish a branch only once the preparing connection is gone, a recycled connection would hand the
 * branch to the next borrower, and a late kill would cancel the next borrower's statement. Vert.x
 * has no public "evict this connection" call, and {@code SqlConnection.close()} on a pooled
 * connection recycles it (on a plain one it queues a quit behind the pending commands, which never
 * completes while the server is frozen). Closing the socket makes the pool drop the connection and
 * fails whatever is still queued on it. This is the one class that touches Vert.x SQL internals; if
 * they change, it falls back to {@code KILL CONNECTION_ID()}, which needs an answering server.
 */
public final class HardClose {

  private HardClose() {}

  /** How long the returned future waits for the socket's close to report back. */
  static final long SOCKET_CLOSE_WAIT_MS = 200;

  /**
   * Closes {@code conn} for real: its socket, so that the pool drops it. The socket is closed at
   * once, but its close future was seen never to complete for a PostgreSQL connection (it is gone
   * from its pool all the same): the returned future completes at the latest {@link
   * #SOCKET_CLOSE_WAIT_MS} later, so that no caller waits on it.
   */
  public static Future<Void> close(SqlConnection conn) {
    if (physical(conn) instanceof SocketConnectionBase socket) {
      // Not followed by conn.close(): that would recycle the dead connection into the pool.
      return socket
          .socket()
          .close()
          .timeout(SOCKET_CLOSE_WAIT_MS, java.util.concurrent.TimeUnit.MILLISECONDS)
          .otherwiseEmpty();
    }
    return conn.query("KILL CONNECTION_ID()")
        .execute()
        .transform(
            ar ->
                ar.failed() && ar.cause() instanceof DatabaseException
                    ? conn.close()
                    : Future.<Void>succeededFuture())
        .otherwiseEmpty();
  }

  /** The physical connection under a pooled one, or null when Vert.x's internals differ. */
  static Connection physical(SqlConnection connection) {
    try {
      Connection c = ((SqlConnectionInternal) connection).unwrap();
      for (int i = 0; i < 4 && !(c instanceof SocketConnectionBase); i++) {
        Connection inner = c.unwrap();
        if (inner == c) {
          break;
        }
        c = inner;
      }
      return c instanceof SocketConnectionBase ? c : null;
    } catch (RuntimeException | LinkageError notAsExpected) {
      return null;
    }
  }
}
