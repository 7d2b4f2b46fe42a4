package io.shardkit.tx.impl.xa;

import io.shardkit.tx.TransactionOutcomePendingException.Decision;
import io.vertx.core.Future;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * XA decisions kept on a participant: table {@code <prefix>_xa_decision} on every MySQL data source
 * of the pool, one row per transaction whose first MySQL branch decided it.
 *
 * <p>That branch is a local transaction, not an XA branch: once every other branch is prepared, it
 * inserts its transaction's COMMIT row and commits, in one round trip, so its own work and the
 * decision become durable together, in one write (the classic path prepares it too and writes the
 * decision on the log data source: two more durable writes in sequence). Every other branch's xid
 * names the deciding data source ({@link Xid#decidedOn()}), so recovery knows where to read the
 * decision, and where to insert ABORT for an abandoned transaction.
 *
 * <p>Race-free for the same reason as the coordinator log: the row's primary key is the global id.
 * Recovery's ABORT insert either goes first (the committer's insert then fails on the duplicate
 * key, its transaction rolls back with its work), or waits on the committer's uncommitted row and
 * then fails on it (COMMIT won) or goes in (the committer rolled back).
 */
final class ParticipantDecisions {

  private final String table;

  ParticipantDecisions(String table) {
    this.table = table;
  }

  String table() {
    return table;
  }

  /** The DDL, run on every MySQL data source. */
  String schema() {
    return "CREATE TABLE IF NOT EXISTS "
        + table
        + " (gid VARCHAR(64) NOT NULL PRIMARY KEY,"
        + " state TINYINT NOT NULL,"
        + " decided_at TIMESTAMP(3) NOT NULL,"
        + " branches BLOB NULL,"
        + " KEY decided_at (decided_at)) ENGINE=InnoDB";
  }

  /**
   * The deciding branch's commit: its transaction's COMMIT row, then COMMIT, one text-protocol
   * round trip (a failed insert stops it before the COMMIT). Values are literals: global ids are
   * {@code [A-Za-z0-9._:-]}, the participants a hex literal.
   */
  String commitSql(String gid, Collection<?> participants) {
    return "INSERT INTO "
        + table
        + " (gid, state, decided_at, branches) VALUES ('"
        + gid
        + "', "
        + CoordinatorLog.COMMIT
        + ", UTC_TIMESTAMP(3), X'"
        + HexFormat.of()
            .formatHex(CoordinatorLog.branchesJson(participants).getBytes(StandardCharsets.UTF_8))
        + "'); COMMIT";
  }

  /**
   * Makes {@code wanted} the decision of {@code gid} on this participant unless one exists.
   *
   * @return the decision that holds, and whether this call wrote it
   */
  Future<CoordinatorLog.Decided> decide(SqlClient client, String gid, Decision wanted) {
    return client
        .preparedQuery(
            "INSERT INTO " + table + " (gid, state, decided_at) VALUES (?, ?, UTC_TIMESTAMP(3))")
        .execute(Tuple.of(gid, CoordinatorLog.code(wanted)))
        .map(rs -> new CoordinatorLog.Decided(wanted, true))
        .recover(e -> CoordinatorLog.lostTo(e, gid, () -> read(client, List.of(gid))));
  }

  /** The decisions recorded here for these global ids (absent ids have none). */
  Future<Map<String, Decision>> read(SqlClient client, Collection<String> gids) {
    if (gids.isEmpty()) {
      return Future.succeededFuture(Map.of());
    }
    List<Object> args = new ArrayList<>(gids);
    return client
        .preparedQuery(
            "SELECT gid, state FROM "
                + table
                + " WHERE gid IN ("
                + CoordinatorLog.marks(args.size())
                + ")")
        .execute(Tuple.wrap(args))
        .map(CoordinatorLog::decisions);
  }

  /** Global ids decided here longer than {@code retentionMillis} ago, oldest first. */
  Future<List<String>> olderThan(SqlClient client, long retentionMillis, int limit) {
    return client
        .preparedQuery(
            "SELECT gid FROM "
                + table
                + " WHERE decided_at < UTC_TIMESTAMP(3) - INTERVAL ? MICROSECOND"
                + " ORDER BY decided_at LIMIT ?")
        .execute(Tuple.of(retentionMillis * 1000, limit))
        .map(CoordinatorLog::gids);
  }

  Future<Integer> delete(SqlClient client, Collection<String> gids) {
    if (gids.isEmpty()) {
      return Future.succeededFuture(0);
    }
    return client
        .preparedQuery(
            "DELETE FROM " + table + " WHERE gid IN (" + CoordinatorLog.marks(gids.size()) + ")")
        .execute(Tuple.wrap(new ArrayList<Object>(gids)))
        .map(rs -> rs.rowCount());
  }
}
