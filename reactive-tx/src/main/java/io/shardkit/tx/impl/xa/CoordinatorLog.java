package io.shardkit.tx.impl.xa;

import io.shardkit.tx.TransactionOutcomePendingException.Decision;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * XA's rows in the coordinator log ({@code <prefix>_tx}, the one log of every protocol, on the log
 * data source): one row per decided XA transaction, protocol {@code XA}, state COMMIT (2) or CANCEL
 * (3), its data sources as the branches. XA rows are never claimed by the row-driven recovery of
 * TCC and Saga ({@code next_attempt_at} stays NULL): XA recovery finds its work with {@code XA
 * RECOVER} on each shard and reads the decisions here; it alone prunes them.
 *
 * <p>The row is the linearisation point of a transaction: {@link #decide} inserts it only if absent
 * (primary key on the global id), so whoever inserts first, the committer (COMMIT) or recovery
 * (ABORT), wins, and the loser reads and obeys the winner's decision.
 */
final class CoordinatorLog {

  /** The {@code protocol} column of XA rows. */
  static final String PROTOCOL = io.shardkit.tx.impl.tcc.Protocol.XA.column();

  /** The {@code state} column: the log's COMMIT and CANCEL states, shared by every protocol. */
  static final int COMMIT = 2;

  static final int ABORT = 3;

  private final Pool pool;
  private final String table;
  private final String leaseTable;
  private final LogConnections kept;

  CoordinatorLog(
      Pool pool, String table, String leaseTable, io.vertx.core.Context home, int keptConnections) {
    this.pool = pool;
    this.table = table;
    this.leaseTable = leaseTable;
    this.kept = new LogConnections(pool, home, keptConnections);
  }

  Future<Void> close() {
    return kept.close();
  }

  /** One of the kept log connections (see LogConnections), e.g. to read the server's clock. */
  Future<io.vertx.sqlclient.SqlConnection> keptConnection() {
    return kept.get();
  }

  /** See {@link LogConnections#ready()}. */
  Future<Void> ready() {
    return kept.ready();
  }

  String table() {
    return table;
  }

  String leaseTable() {
    return leaseTable;
  }

  /** The DDL of XA's lease table (the log itself is created with the other protocols'). */
  List<String> schema() {
    return List.of(
        "CREATE TABLE IF NOT EXISTS "
            + leaseTable()
            + " (data_source VARCHAR(64) NOT NULL PRIMARY KEY,"
            + " holder VARCHAR(64) NULL,"
            + " taken_at TIMESTAMP(3) NULL) ENGINE=InnoDB");
  }

  Future<Void> install() {
    Future<Void> chain = Future.succeededFuture();
    for (String ddl : schema()) {
      chain = chain.compose(v -> pool.query(ddl).execute().mapEmpty());
    }
    return chain;
  }

  /** The decision that holds for a global id, and whether this call wrote it. */
  record Decided(Decision decision, boolean inserted) {}

  /**
   * Makes {@code wanted} the decision of {@code gid} unless one exists.
   *
   * @return the decision that holds: {@code wanted} if this call inserted it, else the existing one
   */
  Future<Decision> decide(String gid, Decision wanted, Collection<?> branches, String by) {
    return decideReporting(gid, wanted, branches, by).map(Decided::decision);
  }

  /** A coordinator's COMMIT waiting for the next batch insert. */
  private record Pending(String gid, String branches, Promise<Decision> promise) {}

  private final ArrayDeque<Pending> queue = new ArrayDeque<>();
  private int batchesInFlight;

  /**
   * The coordinators' COMMIT decisions, written in batches: while a batch insert is in flight on
   * each kept connection, later decisions queue and go together in the next multi-row insert.
   *
   * <p>Why: each kept connection waits for its insert's fsync, so one row per insert caps the
   * transaction rate at (kept connections / fsync latency); a batch shares one fsync. The batch
   * uses {@code INSERT IGNORE}, then reads back the rows it could not insert: only a transaction's
   * own coordinator ever writes COMMIT for it, so a row reading COMMIT is ours and ABORT means
   * recovery won. The values are literals (global ids are {@code [A-Za-z0-9._:-]}, the branch list
   * a hex literal) so the batch is one text-protocol round trip, not prepare + execute.
   *
   * @return the decision that holds
   */
  Future<Decision> decideCommit(String gid, Collection<?> branches) {
    Promise<Decision> promise = Promise.promise();
    synchronized (this) {
      queue.add(new Pending(gid, branchesJson(branches), promise));
    }
    drain();
    return promise.future();
  }

  private void drain() {
    List<Pending> batch;
    synchronized (this) {
      if (queue.isEmpty() || batchesInFlight >= kept.size()) {
        return;
      }
      batchesInFlight++;
      batch = new ArrayList<>(Math.min(queue.size(), MAX_BATCH));
      while (!queue.isEmpty() && batch.size() < MAX_BATCH) {
        batch.add(queue.poll());
      }
    }
    writeBatch(batch)
        .onComplete(
            ar -> {
              synchronized (this) {
                batchesInFlight--;
              }
              for (Pending p : batch) {
                if (ar.failed()) {
                  p.promise().tryFail(ar.cause());
                } else {
                  Decision d = ar.result().get(p.gid());
                  if (d != null) {
                    p.promise().tryComplete(d);
                  } else {
                    p.promise().tryFail(new IllegalStateException("decision row missing"));
                  }
                }
              }
              drain();
            });
  }

  private Future<Map<String, Decision>> writeBatch(List<Pending> batch) {
    StringBuilder sql =
        new StringBuilder("INSERT IGNORE INTO ").append(table).append(COLUMNS).append(" VALUES ");
    for (int i = 0; i < batch.size(); i++) {
      Pending p = batch.get(i);
      sql.append(i == 0 ? "('" : ", ('")
          .append(p.gid())
          .append("', '" + PROTOCOL + "', " + COMMIT + ", " + NOW + ", NULL, 0, " + NOW + ", ")
          .append(NOW)
          .append(", X'")
          .append(HexFormat.of().formatHex(p.branches().getBytes(StandardCharsets.UTF_8)))
          .append("')");
    }
    return kept.get()
        .compose(
            conn ->
                conn.query(sql.toString())
                    .execute()
                    .onFailure(
                        e -> {
                          if (!SqlErrors.fromServer(e)) {
                            kept.broken(conn);
                          }
                        }))
        .compose(
            rs -> {
              if (rs.rowCount() == batch.size()) {
                Map<String, Decision> all = new HashMap<>();
                batch.forEach(p -> all.put(p.gid(), Decision.COMMIT));
                return Future.succeededFuture(all);
              }
              List<String> gids = new ArrayList<>();
              batch.forEach(p -> gids.add(p.gid()));
              return read(gids);
            });
  }

  /** {@link #decide}, also telling whether this call inserted the row. */
  Future<Decided> decideReporting(String gid, Decision wanted, Collection<?> branches, String by) {
    return kept.get()
        .compose(
            conn ->
                conn.preparedQuery(
                        "INSERT INTO "
                            + table
                            + COLUMNS
                            + " VALUES (?, '"
                            + PROTOCOL
                            + "', ?, "
                            + NOW
                            + ", NULL, 0, "
                            + NOW
                            + ", "
                            + NOW
                            + ", ?)")
                    .execute(Tuple.of(gid, code(wanted), branchesJson(branches)))
                    .onFailure(
                        e -> {
                          if (!SqlErrors.fromServer(e)) {
                            kept.broken(conn);
                          }
                        }))
        .map(rs -> new Decided(wanted, true))
        .recover(e -> lostTo(e, gid, () -> read(List.of(gid))));
  }

  /**
   * After an insert of {@code gid}'s decision failed with {@code e}: on a duplicate key, the
   * decision that was there first (read by {@code read}); any other failure as is.
   */
  static Future<Decided> lostTo(
      Throwable e, String gid, java.util.function.Supplier<Future<Map<String, Decision>>> read) {
    if (SqlErrors.code(e) != SqlErrors.DUP_ENTRY) {
      return Future.failedFuture(e);
    }
    return read.get()
        .compose(
            found -> {
              Decision winner = found.get(gid);
              return winner != null
                  ? Future.succeededFuture(new Decided(winner, false))
                  : Future.failedFuture(e); // deleted in between: cannot happen
            });
  }

  /** gid → decision of rows {@code (gid, state)}. */
  static Map<String, Decision> decisions(io.vertx.sqlclient.RowSet<Row> rows) {
    Map<String, Decision> out = new HashMap<>();
    for (Row row : rows) {
      out.put(row.getString(0), decision(row.getInteger(1)));
    }
    return out;
  }

  /** The first column of every row: global ids. */
  static List<String> gids(io.vertx.sqlclient.RowSet<Row> rows) {
    List<String> out = new ArrayList<>();
    rows.forEach(r -> out.add(r.getString(0)));
    return out;
  }

  /**
   * The decisions recorded for these global ids (absent ids have none), read on a kept connection:
   * recovery calls it while holding a lease and a scan connection of the same pool.
   */
  Future<Map<String, Decision>> read(Collection<String> gids) {
    if (gids.isEmpty()) {
      return Future.succeededFuture(Map.of());
    }
    List<Object> args = new ArrayList<>(gids);
    return kept.get()
        .compose(
            conn ->
                conn.preparedQuery(
                        "SELECT gid, state FROM "
                            + table
                            + " WHERE gid IN ("
                            + marks(args.size())
                            + ") AND protocol = '"
                            + PROTOCOL
                            + "'")
                    .execute(Tuple.wrap(args)))
        .map(CoordinatorLog::decisions);
  }

  /** Global ids whose decision is older than {@code retentionMillis}, oldest first. */
  Future<List<String>> olderThan(long retentionMillis, int limit) {
    return pool.preparedQuery(
            "SELECT gid FROM "
                + table
                + " WHERE protocol = '"
                + PROTOCOL
                + "' AND updated_at < UTC_TIMESTAMP(3) - INTERVAL ? MICROSECOND"
                + " ORDER BY updated_at LIMIT ?")
        .execute(Tuple.of(retentionMillis * 1000, limit))
        .map(CoordinatorLog::gids);
  }

  Future<Integer> delete(Collection<String> gids) {
    if (gids.isEmpty()) {
      return Future.succeededFuture(0);
    }
    List<Object> args = new ArrayList<>(gids);
    return pool.preparedQuery(
            "DELETE FROM "
                + table
                + " WHERE gid IN ("
                + marks(args.size())
                + ") AND protocol = '"
                + PROTOCOL
                + "'")
        .execute(Tuple.wrap(args))
        .map(rs -> rs.rowCount());
  }

  static final int MAX_BATCH = 64;

  static int code(Decision d) {
    return d == Decision.COMMIT ? COMMIT : ABORT;
  }

  static Decision decision(int state) {
    return state == COMMIT ? Decision.COMMIT : Decision.ROLLBACK;
  }

  private static final String COLUMNS =
      " (gid, protocol, state, deadline_at, next_attempt_at, attempts, created_at, updated_at,"
          + " branches)";

  private static final String NOW = "UTC_TIMESTAMP(3)";

  /** The data sources as a JSON array of strings. */
  /**
   * The {@code branches} column of an XA row: one object per participant, its snapshot as it joined
   * ({@code dataSource}, {@code protocol}, {@code branchId}, {@code isolationLevel}, {@code
   * joinedAt}) when the coordinator decides, only {@code dataSource} when a name is all there is.
   */
  static String branchesJson(Collection<?> branches) {
    io.vertx.core.json.JsonArray out = new io.vertx.core.json.JsonArray();
    for (Object b : branches) {
      if (b instanceof io.shardkit.tx.Participant p) {
        out.add(
            new io.vertx.core.json.JsonObject()
                .put("dataSource", p.dataSource())
                .put("protocol", p.protocol())
                .put("branchId", p.branchId())
                .put("isolationLevel", p.isolationLevel())
                .put("joinedAt", p.joinedAt().toString()));
      } else {
        out.add(new io.vertx.core.json.JsonObject().put("dataSource", String.valueOf(b)));
      }
    }
    return out.encode();
  }

  static String marks(int n) {
    StringBuilder sb = new StringBuilder(n * 3);
    for (int i = 0; i < n; i++) {
      sb.append(i == 0 ? "?" : ", ?");
    }
    return sb.toString();
  }
}
