package io.shardkit.tx.pg;

import io.shardkit.context.ShardkitException;
import io.shardkit.tx.TccBranch;
import io.shardkit.tx.TccTryRefusedException;
import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.util.regex.Pattern;

/**
 * The fence statements of one phase on PostgreSQL, run first in the phase's local transaction (READ
 * COMMITTED). The rules are the MySQL fence's ({@code TccParticipants}); the table is keyed by
 * (gid, branch_id, phase) and every write is an {@code INSERT ... ON CONFLICT DO NOTHING}:
 *
 * <ul>
 *   <li>try: one row (phase try, origin try); inserted → run; not inserted → read the row's origin:
 *       cancel → refused ({@link TccTryRefusedException}), try → duplicate;
 *   <li>confirm: one row (confirm); not inserted → duplicate; inserted → the try row must exist
 *       with origin try, else the confirm fails (rolled back with its row);
 *   <li>cancel: two rows in one statement, in key order: (try, origin cancel) then (cancel): 2
 *       inserted → no try had committed: empty rollback, and the try row now refuses a late try; 1
 *       → run the cancel; 0 → duplicate.
 * </ul>
 *
 * <p>Why it is right under concurrency: an insert that meets a row another transaction inserted and
 * has not yet committed waits for that transaction (PostgreSQL's speculative insertion), then does
 * nothing if it committed and inserts if it rolled back. So a cancel that arrives while its try is
 * running waits for the try and then either runs (the try committed) or is an empty rollback that
 * blocks the try's later retries; two attempts of one phase serialize on the phase's row. Under
 * READ COMMITTED the origin read after a conflict is a new snapshot and sees the committed row. A
 * phase waits on the fence before it takes any business lock (its fence insert is its first
 * statement) and the rows of one branch are always taken in phase order, so the fence adds no
 * deadlock.
 */
final class PgFence {

  static final String TRY = "try";
  static final String CONFIRM = "confirm";
  static final String CANCEL = "cancel";

  static final int TRY_ROW = 1;
  static final int CONFIRM_ROW = 2;
  static final int CANCEL_ROW = 3;

  private static final Pattern TABLE = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,62}");

  /** What the fence decided. */
  enum Step {
    RUN,
    DUPLICATE,
    EMPTY_ROLLBACK
  }

  private final String table;

  PgFence(String table) {
    this.table = checked(table);
  }

  static String checked(String table) {
    if (table == null || !TABLE.matcher(table).matches()) {
      throw new io.shardkit.context.ConfigurationException(
          "pg.fenceTable",
          "'"
              + table
              + "' is not a plain PostgreSQL table name (letters, digits and _, at most 63)");
    }
    return table;
  }

  String table() {
    return table;
  }

  /** The fence table and its clean-up index (idempotent). */
  String ddl() {
    return "CREATE TABLE IF NOT EXISTS "
        + table
        + " (gid VARCHAR(64) NOT NULL, branch_id VARCHAR(64) NOT NULL,"
        + " phase SMALLINT NOT NULL, origin SMALLINT NOT NULL, action VARCHAR(128) NOT NULL,"
        + " created_at TIMESTAMPTZ NOT NULL DEFAULT now(),"
        + " PRIMARY KEY (gid, branch_id, phase));"
        + " CREATE INDEX IF NOT EXISTS "
        + table
        + "_created ON "
        + table
        + " (created_at)";
  }

  Future<Step> enter(String phase, SqlConnection conn, TccBranch branch, String source) {
    return switch (phase) {
      case TRY -> enterTry(conn, branch, source);
      case CONFIRM -> enterConfirm(conn, branch, source);
      case CANCEL -> enterCancel(conn, branch);
      default -> throw new IllegalArgumentException("phase " + phase);
    };
  }

  private String insert(int rows) {
    StringBuilder sql =
        new StringBuilder("INSERT INTO ")
            .append(table)
            .append(" (gid, branch_id, phase, origin, action) VALUES ");
    if (rows == 1) {
      sql.append("($1, $2, $3, $4, $5)");
    } else {
      sql.append("($1, $2, ").append(TRY_ROW).append(", ").append(CANCEL_ROW).append(", $3), ");
      sql.append("($1, $2, ").append(CANCEL_ROW).append(", ").append(CANCEL_ROW).append(", $3)");
    }
    return sql.append(" ON CONFLICT DO NOTHING").toString();
  }

  private Future<Step> enterTry(SqlConnection conn, TccBranch branch, String source) {
    return conn.preparedQuery(insert(1))
        .execute(Tuple.of(branch.globalId(), branch.branchId(), TRY_ROW, TRY_ROW, branch.action()))
        .compose(
            inserted -> {
              if (inserted.rowCount() == 1) {
                return Future.succeededFuture(Step.RUN);
              }
              return tryOrigin(conn, branch)
                  .compose(
                      origin -> {
                        if (origin != null && origin == CANCEL_ROW) {
                          return Future.failedFuture(
                              new TccTryRefusedException(
                                  branch.globalId(),
                                  branch.branchId(),
                                  branch.action(),
                                  "PostgreSQL source " + source));
                        }
                        return Future.succeededFuture(Step.DUPLICATE);
                      });
            });
  }

  private Future<Step> enterConfirm(SqlConnection conn, TccBranch branch, String source) {
    return conn.preparedQuery(insert(1))
        .execute(
            Tuple.of(
                branch.globalId(), branch.branchId(), CONFIRM_ROW, CONFIRM_ROW, branch.action()))
        .compose(
            inserted -> {
              if (inserted.rowCount() == 0) {
                return Future.succeededFuture(Step.DUPLICATE);
              }
              return tryOrigin(conn, branch)
                  .compose(
                      origin -> {
                        if (origin == null || origin != TRY_ROW) {
                          return Future.failedFuture(
                              new ShardkitException(
                                  "transaction "
                                      + branch.globalId()
                                      + ": confirm of branch "
                                      + branch.branchId()
                                      + " (pg step "
                                      + branch.action()
                                      + ") on PostgreSQL source "
                                      + source
                                      + " refused: "
                                      + (origin == null
                                          ? "no try is recorded (never tried, or its fence row"
                                              + " was cleaned up before the confirm arrived)"
                                          : "the branch was cancelled before its try")));
                        }
                        return Future.succeededFuture(Step.RUN);
                      });
            });
  }

  private Future<Step> enterCancel(SqlConnection conn, TccBranch branch) {
    return conn.preparedQuery(insert(2))
        .execute(Tuple.of(branch.globalId(), branch.branchId(), branch.action()))
        .map(
            inserted ->
                switch (inserted.rowCount()) {
                  case 2 -> Step.EMPTY_ROLLBACK;
                  case 1 -> Step.RUN;
                  default -> Step.DUPLICATE;
                });
  }

  private Future<Integer> tryOrigin(SqlConnection conn, TccBranch branch) {
    return conn.preparedQuery(
            "SELECT origin FROM " + table + " WHERE gid = $1 AND branch_id = $2 AND phase = $3")
        .execute(Tuple.of(branch.globalId(), branch.branchId(), TRY_ROW))
        .map(PgFence::origin);
  }

  private static Integer origin(RowSet<Row> rows) {
    return rows.iterator().hasNext() ? (int) rows.iterator().next().getShort(0) : null;
  }

  /**
   * One clean-up batch: the fence rows of up to {@code batch} global ids whose rows are older than
   * the retention (seconds), all of a global id's old rows together.
   */
  String cleanup(int batch) {
    return "DELETE FROM "
        + table
        + " WHERE gid IN (SELECT DISTINCT gid FROM "
        + table
        + " WHERE created_at < now() - make_interval(secs => $1) LIMIT "
        + batch
        + ") AND created_at < now() - make_interval(secs => $1)";
  }
}
