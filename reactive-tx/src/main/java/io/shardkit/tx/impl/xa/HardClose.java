package io.shardkit.tx.impl.xa;

import io.vertx.core.Future;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.impl.SocketConnectionBase;
import io.vertx.sqlclient.internal.Connection;
import io.vertx.sqlclient.internal.SqlConnectionInternal;

/**
 * Closes a pooled connection for real, at once, so that it never goes back to the pool.
 *
 * <p>Why: a connection holding a prepared (or possibly prepared) XA branch must be closed, not
 * recycled: MariaDB lets another connection (recovery's) finish the branch only once the preparing
 * connection is gone, and a recycled connection would hand the branch to the next borrower. Vert.x
 * has no public "evict this connection" call, and {@code SqlConnection.close()} on a pooled
 * connection recycles it (on a plain one it queues a quit behind the pending commands, which never
 * completes while the server is frozen). Closing the socket makes the pool drop the connection and
 * fails whatever is still queued on it. This is the one class that touches Vert.x SQL internals; if
 * they change, it falls back to {@code KILL CONNECTION_ID()}, which needs an answering server.
 */
public final class HardClose {

  private HardClose() {}

  /** Closes {@code conn} for real: its socket, so that the pool drops it. */
  public static Future<Void> close(SqlConnection conn) {
    try {
      Connection c = ((SqlConnectionInternal) conn).unwrap();
      for (int i = 0; i < 4 && !(c instanceof SocketConnectionBase); i++) {
        Connection inner = c.unwrap();
        if (inner == c) {
          break;
        }
        c = inner;
      }
      if (c instanceof SocketConnectionBase socket) {
        // Not followed by conn.close(): that would recycle the dead connection into the pool.
        return socket.socket().close().otherwiseEmpty();
      }
    } catch (RuntimeException | LinkageError notAsExpected) {
      // Fall through to the public-API way.
    }
    return conn.query("KILL CONNECTION_ID()")
        .execute()
        .transform(
            ar ->
                ar.failed() && SqlErrors.fromServer(ar.cause())
                    ? conn.close()
                    : Future.<Void>succeededFuture())
        .otherwiseEmpty();
  }
}
