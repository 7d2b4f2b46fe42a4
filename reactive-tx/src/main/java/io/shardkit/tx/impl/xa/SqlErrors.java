package io.shardkit.tx.impl.xa;

import io.vertx.mysqlclient.MySQLException;

/** The server error codes the coordinator and recovery branch on. */
final class SqlErrors {

  /** XAER_NOTA: unknown xid (already finished, or still attached to the preparing connection). */
  static final int XAER_NOTA = 1397;

  /** XAER_RMFAIL: the command is not allowed in the branch's current state. */
  static final int XAER_RMFAIL = 1399;

  /** XAER_DUPID: the xid already exists. */
  static final int XAER_DUPID = 1440;

  /** ER_DUP_ENTRY: the decision row already exists. */
  static final int DUP_ENTRY = 1062;

  /** ER_NO_SUCH_TABLE: e.g. a decision table {@code installSchema()} did not create. */
  static final int NO_SUCH_TABLE = 1146;

  private SqlErrors() {}

  /** The server's error code, or -1 when the failure did not come from the server. */
  static int code(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof MySQLException e) {
        return e.getErrorCode();
      }
      if (t.getCause() == t) {
        break;
      }
    }
    return -1;
  }

  /** Whether the server answered (so the connection is alive and in a known state). */
  static boolean fromServer(Throwable failure) {
    return code(failure) > 0 || pgState(failure) != null;
  }

  /**
   * PostgreSQL's SQLSTATE of the failure, or null when it did not come from a PostgreSQL server.
   */
  static String pgState(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof io.vertx.pgclient.PgException e) {
        return e.getSqlState();
      }
      if (t.getCause() == t) {
        break;
      }
    }
    return null;
  }

  /**
   * The branch is not (or no longer) on the server: MySQL's XAER_NOTA, or PostgreSQL's 42704
   * ("prepared transaction with identifier ... does not exist").
   */
  static boolean branchGone(Throwable failure) {
    return code(failure) == XAER_NOTA || "42704".equals(pgState(failure));
  }

  /**
   * Whether the command provably never reached the server: the connection it needed could not be
   * opened (refused, unreachable, connect timeout). A failure after the command was written (a
   * reset, a lost answer) is not this: the server may have run it.
   */
  static boolean neverSent(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof java.net.ConnectException) {
        return true;
      }
      if (t.getCause() == t) {
        break;
      }
    }
    return false;
  }

  /** XA_RB* (1402 rollback, 1613 timeout, 1614 deadlock): the branch is rollback-only. */
  static boolean isRollbackOnly(Throwable failure) {
    int code = code(failure);
    return code == 1402 || code == 1613 || code == 1614;
  }
}
