package io.shardkit.tx.impl.tcc;

import io.shardkit.context.ShardkitException;
import io.shardkit.tx.TccBranch;
import io.shardkit.tx.TccTryRefusedException;
import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlConnection;

/**
 * The fence statements of one phase, run first in the phase's local transaction (see {@code
 * TccParticipants} for the rules and the README for the locking argument).
 *
 * <p>Why it cannot deadlock under REPEATABLE READ: the key is the clustered primary key, so a
 * duplicate check waits with a record lock (no gap) on exactly the key it collides with, and no
 * fence statement ever takes a gap lock (no locking read of an absent key, no range scan). Each
 * phase's first statement is its fence insert, so it waits before it holds any business lock, and
 * the keys of one branch are always locked in ascending phase order (cancel: try row then cancel
 * row, in one statement). A wait on the fence is therefore always a wait for the one transaction
 * that owns that exact row, which never waits back.
 */
final class Fence {

  /** What the fence decided. */
  enum Step {
    RUN,
    DUPLICATE,
    EMPTY_ROLLBACK
  }

  private final String table;
  private final String boundedWait;

  /**
   * @param phaseTimeout the confirm/cancel attempt timeout: on MariaDB their fence statement waits
   *     for a lock at most half of it, so an attempt that times out never leaves its statement
   *     waiting on the server (see the cancel insert in {@link #statements})
   */
  Fence(String table, java.time.Duration phaseTimeout) {
    this.table = table;
    long seconds = Math.max(1, phaseTimeout.toSeconds() / 2);
    this.boundedWait = "SET STATEMENT innodb_lock_wait_timeout = " + seconds + " FOR ";
  }

  /**
   * The phase's fence statements, sent with the BEGIN that opens its local transaction, in one
   * round trip ({@link LocalTx#opened}): try: its insert; confirm: its insert, then the plain read
   * of the try row (a consistent read: no lock, so no gap lock when the row is absent; run even
   * when the insert found a duplicate, whose answer ignores it); cancel: its two-row insert.
   */
  String statements(int phase, SqlConnection conn, TccBranch branch) {
    return switch (phase) {
      case Sql.TRY -> insert(branch, row(branch, Sql.TRY, Sql.TRY));
      case Sql.CONFIRM ->
          bounded(conn)
              + insert(branch, row(branch, Sql.CONFIRM, Sql.CONFIRM))
              + "; "
              + selectTryOrigin(branch, "");
      case Sql.CANCEL ->
          bounded(conn)
              + insert(
                  branch,
                  row(branch, Sql.TRY, Sql.CANCEL) + ", " + row(branch, Sql.CANCEL, Sql.CANCEL));
      default -> throw new IllegalArgumentException("phase " + phase);
    };
  }

  /**
   * What the fence decided, from the results of {@link #statements} ({@code begun} is BEGIN's,
   * {@code begun.next()} the first fence statement's).
   */
  Future<Step> decide(
      int phase, SqlConnection conn, TccBranch branch, String dataSource, RowSet<Row> begun) {
    RowSet<Row> inserted = begun.next();
    return switch (phase) {
      case Sql.TRY -> decideTry(conn, branch, dataSource, inserted);
      case Sql.CONFIRM -> decideConfirm(branch, dataSource, inserted, inserted.next());
      case Sql.CANCEL ->
          Future.succeededFuture(
              switch (inserted.rowCount()) {
                case 2 -> Step.EMPTY_ROLLBACK;
                case 1 -> Step.RUN;
                default -> Step.DUPLICATE;
              });
      default -> throw new IllegalArgumentException("phase " + phase);
    };
  }

  private Future<Step> decideTry(
      SqlConnection conn, TccBranch branch, String dataSource, RowSet<Row> inserted) {
    if (inserted.rowCount() == 1) {
      return Future.succeededFuture(Step.RUN);
    }
    // The row exists and is committed (the duplicate check waited for its writer); we already
    // hold a shared record lock on it, so this locking read waits for nothing.
    return conn.query(selectTryOrigin(branch, " LOCK IN SHARE MODE"))
        .execute()
        .compose(
            rows -> {
              Integer origin = origin(rows);
              if (origin != null && origin == Sql.CANCEL) {
                return Future.failedFuture(
                    new TccTryRefusedException(
                        branch.globalId(), branch.branchId(), branch.action(), dataSource));
              }
              return Future.succeededFuture(Step.DUPLICATE);
            });
  }

  private static Future<Step> decideConfirm(
      TccBranch branch, String dataSource, RowSet<Row> inserted, RowSet<Row> tryRow) {
    if (inserted.rowCount() == 0) {
      return Future.succeededFuture(Step.DUPLICATE);
    }
    Integer origin = origin(tryRow);
    if (origin == null || origin != Sql.TRY) {
      return Future.failedFuture(
          new ShardkitException(
              "transaction "
                  + branch.globalId()
                  + ": confirm of branch "
                  + branch.branchId()
                  + " ("
                  + branch.action()
                  + ") on "
                  + dataSource
                  + " refused: "
                  + (origin == null
                      ? "no try is recorded (never tried, or its fence row"
                          + " was cleaned up before the confirm arrived)"
                      : "the branch was cancelled before its try")));
    }
    return Future.succeededFuture(Step.RUN);
  }

  /*
   * The cancel's insert: one statement, rows in key order: the try row (written only when no try
   * committed: the marker that refuses a late try), then the cancel row. rowCount: 2 = no try
   * (empty rollback), 1 = the try committed and this is the first cancel, 0 = already cancelled.
   *
   * <p>While a try holds its row, a cancel waits for it (a record lock, no gap). The one pattern
   * that can still deadlock on a primary key is InnoDB's duplicate-key lock upgrade: two statements
   * waiting on the row of a try that then rolls back both get a lock on it and both try to insert
   * it. Two cancels of one branch only overlap when an earlier attempt timed out and its statement
   * kept waiting on the server, so on MariaDB the wait is bounded below the attempt timeout ({@code
   * SET STATEMENT innodb_lock_wait_timeout}): the statement ends (error 1205, retried) before the
   * next attempt starts. Were it to happen anyway (a paused server running abandoned statements
   * late), InnoDB rolls one back (1213) and that attempt is retried: the fence stays correct either
   * way.
   */

  private String bounded(SqlConnection conn) {
    return conn.databaseMetadata().productName().contains("MariaDB") ? boundedWait : "";
  }

  private String insert(TccBranch branch, String rows) {
    return "INSERT IGNORE INTO `"
        + table
        + "` (gid, branch_id, phase, origin, action, created_at) VALUES "
        + rows;
  }

  private static String row(TccBranch branch, int phase, int origin) {
    return "("
        + Sql.quote(branch.globalId())
        + ", "
        + Sql.quote(branch.branchId())
        + ", "
        + phase
        + ", "
        + origin
        + ", "
        + Sql.quote(branch.action())
        + ", UTC_TIMESTAMP(3))";
  }

  private String selectTryOrigin(TccBranch branch, String lock) {
    return "SELECT origin FROM `"
        + table
        + "` WHERE gid = "
        + Sql.quote(branch.globalId())
        + " AND branch_id = "
        + Sql.quote(branch.branchId())
        + " AND phase = "
        + Sql.TRY
        + lock;
  }

  private static Integer origin(RowSet<Row> rows) {
    return rows.iterator().hasNext() ? rows.iterator().next().getInteger(0) : null;
  }
}
