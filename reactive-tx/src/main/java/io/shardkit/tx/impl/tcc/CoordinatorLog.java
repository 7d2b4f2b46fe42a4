package io.shardkit.tx.impl.tcc;

import io.shardkit.context.ShardkitException;
import io.shardkit.tx.TccBranch;
import io.shardkit.tx.TccOptions;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlConnection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;

/**
 * The coordinator log on one data source: one row per global transaction ({@code <prefix>_tx}):
 * state, deadline, when recovery may take it, lease owner, and its branches as a JSON array (action
 * name and argument of each), so that logging branches is a single autocommit statement. Every call
 * must run inside a scope: its connection is pinned.
 *
 * <p>State machine: 1 TRYING → 2 COMMIT → 4 COMMITTED, or 1 TRYING → 3 CANCEL → 5 CANCELLED (or
 * straight to 3 when the coordinator cancels before its first log write committed). Decisions are
 * compare-and-set on {@code state = 1} (or insert-if-absent), so the first decision wins and can
 * never be replaced, and branches are only appended while TRYING. {@code next_attempt_at} is when
 * recovery may take the row: the deadline plus grace while TRYING, the end of the coordinator's
 * completion budget once decided, the end of a recovery lease while claimed, NULL when finished.
 */
final class CoordinatorLog {

  /**
   * A transaction recovery claimed: its state after the claim (2 or 3), its branches, and how long
   * after its deadline it was claimed (by the log server's clock; negative: before it).
   */
  record Claimed(
      String gid,
      String protocol,
      int state,
      List<TccBranch> branches,
      Set<String> retryOnly,
      long overdueMicros) {}

  /** Batches of one kind of write in flight at once, and transactions per batch. */
  private static final int BATCHES_IN_FLIGHT = 2;

  private static final int MAX_BATCH = 128;

  /** The longest global id a batched insert takes (the column's length: never truncated). */
  private static final int MAX_GID = 64;

  private final Pool pool;

  /** The log's connections; timed by the coordinator's admission once {@link #measuredBy}. */
  private volatile LocalTx.Connector connector;

  private final TccOptions options;
  private final String tx;
  private final LogBatcher<String> inserts;
  private final LogBatcher<Void> commits;

  /**
   * Times the waits for this log's connections in {@code admission} (the TCC coordinator's: its log
   * writes are its transactions' steps).
   */
  void measuredBy(io.shardkit.tx.impl.Admission admission, String dataSource) {
    this.connector = LocalTx.Connector.of(pool, admission, dataSource);
  }

  CoordinatorLog(io.vertx.core.Vertx vertx, Pool pool, TccOptions options) {
    this.pool = pool;
    this.connector = LocalTx.Connector.of(pool, null, null);
    this.options = options;
    this.tx = "`" + options.txTable() + "`";
    this.inserts =
        new LogBatcher<>(
            vertx, BATCHES_IN_FLIGHT, MAX_BATCH, options.phaseTimeout(), this::insertRows);
    this.commits =
        new LogBatcher<>(
            vertx, BATCHES_IN_FLIGHT, MAX_BATCH, options.phaseTimeout(), this::commitRows);
  }

  Future<Void> setup() {
    return pool.query(Sql.txDdl(options)).execute().mapEmpty();
  }

  /**
   * Logs branches before their tries, in one autocommit statement: the first write of a transaction
   * inserts its row (TRYING, with the deadline and the branches); later writes append to the
   * branches only while the row is still TRYING (the row lock orders them with the decision), so no
   * branch can be added after a decision.
   */
  Future<Void> writeBranches(String gid, boolean first, Duration remaining, List<TccBranch> batch) {
    return writeBranches(gid, Protocol.TCC, first, remaining, batch, Set.of());
  }

  /**
   * {@link #writeBranches(String, boolean, Duration, List)} for any protocol. When the batch holds
   * a retry-only saga step ({@code retryOnly} names its branch ids), the same statement moves the
   * transaction past its pivot: TRYING → COMMIT (an append then also succeeds on a COMMIT row, as
   * only retry-only steps follow a pivot), with recovery kept off until the deadline plus the
   * completion budget; a CANCEL row refuses it.
   */
  Future<Void> writeBranches(
      String gid,
      Protocol protocol,
      boolean first,
      Duration remaining,
      List<TccBranch> batch,
      Set<String> retryOnly) {
    JsonArray branches = new JsonArray();
    boolean withPivot = false;
    for (TccBranch b : batch) {
      JsonObject json =
          new JsonObject()
              .put("branch", b.branchId())
              .put("action", b.action())
              .put("args", b.args());
      if (retryOnly.contains(b.branchId())) {
        json.put("retryOnly", true);
        withPivot = true;
      }
      branches.add(json);
    }
    boolean pivot = withPivot;
    String pivotNext = Sql.nowPlus(options.recoveryTakeover());
    String json = Sql.text(branches.encode());
    if (first) {
      String row =
          "("
              + Sql.quote(gid)
              + ", "
              + Sql.quote(protocol.column())
              + ", "
              + (pivot ? Sql.COMMIT : Sql.TRYING)
              + ", "
              + Sql.nowPlus(remaining)
              + ", "
              + (pivot ? pivotNext : Sql.nowPlus(remaining.plus(options.recoveryGrace())))
              + ", 0, UTC_TIMESTAMP(3), UTC_TIMESTAMP(3), "
              + json
              + ")";
      if (gid.length() <= MAX_GID) {
        return inserts.submit(gid, row).mapEmpty();
      }
      return LocalTx.single(
          connector,
          conn -> conn.query("INSERT INTO " + tx + INSERT_COLUMNS + row).execute().mapEmpty());
    }
    String set =
        pivot
            ? " SET branches = JSON_MERGE_PRESERVE(branches, "
                + json
                + "), state = "
                + Sql.COMMIT
                + ", next_attempt_at = IF(state = "
                + Sql.TRYING
                + ", "
                + pivotNext
                + ", next_attempt_at), updated_at = UTC_TIMESTAMP(3) WHERE gid = "
                + Sql.quote(gid)
                + " AND state IN ("
                + Sql.TRYING
                + ", "
                + Sql.COMMIT
                + ")"
            : " SET branches = JSON_MERGE_PRESERVE(branches, "
                + json
                + "), updated_at = UTC_TIMESTAMP(3) WHERE gid = "
                + Sql.quote(gid)
                + " AND state = "
                + Sql.TRYING;
    return LocalTx.single(
        connector,
        conn ->
            conn.query("UPDATE " + tx + set)
                .execute()
                .compose(
                    updated ->
                        updated.rowCount() == 1
                            ? Future.<Void>succeededFuture()
                            : state(conn, gid)
                                .transform(
                                    state ->
                                        Future.failedFuture(
                                            new ShardkitException(
                                                "transaction "
                                                    + gid
                                                    + ": cannot "
                                                    + (protocol == Protocol.SAGA
                                                        ? "add a step"
                                                        : "enlist")
                                                    + ", the transaction is "
                                                    + (state.succeeded()
                                                        ? "already " + Sql.stateName(state.result())
                                                        : "unknown to the log"))))));
  }

  private static final String INSERT_COLUMNS =
      " (gid, protocol, state, deadline_at, next_attempt_at, attempts, created_at, updated_at,"
          + " branches) VALUES ";

  /**
   * The first writes of several transactions, one multi-row {@code INSERT IGNORE} (autocommit). All
   * inserted: done. Otherwise a row was there already: a CANCEL row its coordinator inserted
   * because it cancelled before this write committed ({@link #decideCancel}, branches {@code []}),
   * so that transaction's write fails, as a plain INSERT would on the duplicate key; which ones is
   * read back (a row this write inserted always has branches).
   */
  private Future<java.util.Map<String, LogBatcher.Outcome>> insertRows(
      List<LogBatcher.Item<String>> rows) {
    StringBuilder sql = new StringBuilder("INSERT IGNORE INTO ").append(tx).append(INSERT_COLUMNS);
    List<String> gids = new ArrayList<>(rows.size());
    for (LogBatcher.Item<String> row : rows) {
      sql.append(gids.isEmpty() ? "" : ", ").append(row.value());
      gids.add(row.gid());
    }
    return LocalTx.single(
        connector,
        conn ->
            conn.query(sql.toString())
                .execute()
                .compose(
                    inserted -> {
                      java.util.Map<String, LogBatcher.Outcome> outcomes =
                          new java.util.HashMap<>();
                      if (inserted.rowCount() == rows.size()) {
                        gids.forEach(g -> outcomes.put(g, LogBatcher.Outcome.of(Sql.TRYING)));
                        return Future.succeededFuture(outcomes);
                      }
                      return conn.query(
                              "SELECT gid, state, branches = '[]' FROM "
                                  + tx
                                  + " WHERE gid IN ("
                                  + Sql.quoteAll(gids)
                                  + ")")
                          .execute()
                          .map(
                              found -> {
                                for (Row row : found) {
                                  String gid = row.getString(0);
                                  outcomes.put(
                                      gid,
                                      row.getInteger(2) == 0
                                          ? LogBatcher.Outcome.of(Sql.TRYING)
                                          : LogBatcher.Outcome.failed(
                                              new ShardkitException(
                                                  "transaction "
                                                      + gid
                                                      + " is already "
                                                      + Sql.stateName(row.getInteger(1))
                                                      + ": it was cancelled before its first log"
                                                      + " write")));
                                }
                                return outcomes;
                              });
                    }));
  }

  /**
   * COMMIT decisions of several transactions, one {@code UPDATE … WHERE gid IN (…) AND state =
   * TRYING} (autocommit): every row matched → all COMMIT; otherwise each one's state is read back
   * (COMMIT: this decision, or an earlier attempt of it, won; CANCEL: recovery cancelled first).
   */
  private Future<java.util.Map<String, LogBatcher.Outcome>> commitRows(
      List<LogBatcher.Item<Void>> decisions) {
    List<String> gids = new ArrayList<>(decisions.size());
    decisions.forEach(d -> gids.add(d.gid()));
    String in = Sql.quoteAll(gids);
    return LocalTx.single(
        connector,
        conn ->
            conn.query(
                    "UPDATE "
                        + tx
                        + " SET state = "
                        + Sql.COMMIT
                        + ", next_attempt_at = "
                        + Sql.nowPlus(options.recoveryTakeover())
                        + ", updated_at = UTC_TIMESTAMP(3) WHERE gid IN ("
                        + in
                        + ") AND state = "
                        + Sql.TRYING)
                .execute()
                .compose(
                    updated -> {
                      java.util.Map<String, LogBatcher.Outcome> outcomes =
                          new java.util.HashMap<>();
                      if (updated.rowCount() == gids.size()) {
                        gids.forEach(g -> outcomes.put(g, LogBatcher.Outcome.of(Sql.COMMIT)));
                        return Future.succeededFuture(outcomes);
                      }
                      return conn.query(
                              "SELECT gid, state FROM " + tx + " WHERE gid IN (" + in + ")")
                          .execute()
                          .map(
                              found -> {
                                for (Row row : found) {
                                  outcomes.put(
                                      row.getString(0), LogBatcher.Outcome.of(row.getInteger(1)));
                                }
                                for (String gid : gids) {
                                  outcomes.putIfAbsent(
                                      gid,
                                      LogBatcher.Outcome.failed(
                                          new ShardkitException(
                                              "transaction "
                                                  + gid
                                                  + " is not in the coordinator log")));
                                }
                                return outcomes;
                              });
                    }));
  }

  /**
   * A saga whose body succeeded: TRYING → COMMITTED in one write (nothing is left to run forward),
   * compare-and-set; returns the state the transaction ends up with.
   */
  Future<Integer> commitFinished(String gid) {
    return LocalTx.single(
        connector,
        conn ->
            conn.query(
                    "UPDATE "
                        + tx
                        + " SET state = "
                        + Sql.COMMITTED
                        + ", next_attempt_at = NULL, updated_at = UTC_TIMESTAMP(3) WHERE gid = "
                        + Sql.quote(gid)
                        + " AND state = "
                        + Sql.TRYING)
                .execute()
                .compose(
                    updated ->
                        updated.rowCount() == 1
                            ? Future.succeededFuture(Sql.COMMITTED)
                            : state(conn, gid)));
  }

  /** The state of a transaction (fails if the log has no row for it). */
  Future<Integer> state(String gid) {
    return LocalTx.single(connector, conn -> state(conn, gid));
  }

  /**
   * Writes COMMIT if still TRYING; returns the state the transaction ends up with. Batched with the
   * decisions of concurrent transactions ({@link #commitRows}).
   */
  Future<Integer> decideCommit(String gid) {
    return commits.submit(gid, null);
  }

  /**
   * Writes CANCEL if still TRYING, or inserts a CANCEL row if there is none yet (so a first log
   * write still in flight fails on the duplicate key instead of starting tries); returns the state
   * the transaction ends up with.
   */
  Future<Integer> decideCancel(String gid) {
    return decideCancel(gid, Protocol.TCC);
  }

  /** {@link #decideCancel(String)}; a CANCEL row it inserts carries {@code protocol}. */
  Future<Integer> decideCancel(String gid, Protocol protocol) {
    String next = Sql.nowPlus(options.recoveryTakeover());
    return LocalTx.single(
        connector,
        conn ->
            conn.query(
                    "UPDATE "
                        + tx
                        + " SET state = "
                        + Sql.CANCELLING
                        + ", next_attempt_at = "
                        + next
                        + ", updated_at = UTC_TIMESTAMP(3) WHERE gid = "
                        + Sql.quote(gid)
                        + " AND state = "
                        + Sql.TRYING)
                .execute()
                .compose(
                    updated -> {
                      if (updated.rowCount() == 1) {
                        return Future.succeededFuture(Sql.CANCELLING);
                      }
                      return conn.query(
                              "INSERT IGNORE INTO "
                                  + tx
                                  + " (gid, protocol, state, deadline_at, next_attempt_at,"
                                  + " attempts, created_at, updated_at, branches) VALUES ("
                                  + Sql.quote(gid)
                                  + ", "
                                  + Sql.quote(protocol.column())
                                  + ", "
                                  + Sql.CANCELLING
                                  + ", UTC_TIMESTAMP(3), "
                                  + next
                                  + ", 0, UTC_TIMESTAMP(3), UTC_TIMESTAMP(3), '[]')")
                          .execute()
                          .compose(
                              inserted ->
                                  inserted.rowCount() == 1
                                      ? Future.succeededFuture(Sql.CANCELLING)
                                      : state(conn, gid));
                    }));
  }

  private Future<Integer> state(SqlConnection conn, String gid) {
    return conn.query("SELECT state FROM " + tx + " WHERE gid = " + Sql.quote(gid))
        .execute()
        .compose(
            rows -> {
              Integer state =
                  rows.iterator().hasNext() ? rows.iterator().next().getInteger(0) : null;
              return state != null
                  ? Future.succeededFuture(state)
                  : Future.failedFuture(
                      new ShardkitException(
                          "transaction " + gid + " is not in the coordinator log"));
            });
  }

  /** Marks decided transactions finished (COMMIT → COMMITTED, CANCEL → CANCELLED). */
  Future<Integer> markDone(Collection<String> gids) {
    if (gids.isEmpty()) {
      return Future.succeededFuture(0);
    }
    return LocalTx.single(
        connector,
        conn ->
            conn.query(
                    "UPDATE "
                        + tx
                        + " SET state = state + 2, next_attempt_at = NULL,"
                        + " updated_at = UTC_TIMESTAMP(3) WHERE gid IN ("
                        + Sql.quoteAll(gids)
                        + ") AND state IN ("
                        + Sql.COMMIT
                        + ", "
                        + Sql.CANCELLING
                        + ")")
                .execute()
                .map(RowSet::rowCount));
  }

  /**
   * The coordinator is still driving this decided transaction: recovery may take it only a {@link
   * TccOptions#recoveryTakeover()} from now. Touches neither a finished row nor one recovery has
   * claimed.
   */
  Future<Void> extend(String gid) {
    return LocalTx.single(
        connector,
        conn ->
            conn.query(
                    "UPDATE "
                        + tx
                        + " SET next_attempt_at = "
                        + Sql.nowPlus(options.recoveryTakeover())
                        + " WHERE gid = "
                        + Sql.quote(gid)
                        + " AND state IN ("
                        + Sql.COMMIT
                        + ", "
                        + Sql.CANCELLING
                        + ") AND next_attempt_at IS NOT NULL AND lease_owner IS NULL")
                .execute()
                .mapEmpty());
  }

  /** Lets recovery take a decided transaction now (the coordinator gave up on it). */
  Future<Void> handOver(String gid) {
    return LocalTx.single(
        connector,
        conn ->
            conn.query(
                    "UPDATE "
                        + tx
                        + " SET next_attempt_at = UTC_TIMESTAMP(3) WHERE gid = "
                        + Sql.quote(gid)
                        + " AND state IN ("
                        + Sql.COMMIT
                        + ", "
                        + Sql.CANCELLING
                        + ")")
                .execute()
                .mapEmpty());
  }

  /**
   * Claims due transactions for {@code owner}: locks up to {@code limit} due rows that no other
   * instance holds ({@code FOR UPDATE SKIP LOCKED}), cancels those still TRYING (their deadline
   * plus grace has passed), and leases all of them, in one READ COMMITTED transaction (no gap
   * locks, so new transactions can be logged meanwhile).
   */
  Future<List<Claimed>> claim(String owner, int limit) {
    return LocalTx.run(
        connector,
        "READ COMMITTED",
        conn ->
            conn.query(
                    "SELECT gid, state, branches, protocol,"
                        + " TIMESTAMPDIFF(MICROSECOND, deadline_at, UTC_TIMESTAMP(3)) FROM "
                        + tx
                        + " WHERE next_attempt_at <= UTC_TIMESTAMP(3) ORDER BY next_attempt_at"
                        + " LIMIT "
                        + limit
                        + " FOR UPDATE SKIP LOCKED")
                .execute()
                .compose(
                    rows -> {
                      List<Claimed> claimed = new ArrayList<>();
                      List<String> gids = new ArrayList<>();
                      for (Row row : rows) {
                        int state = row.getInteger(1);
                        String gid = row.getString(0);
                        gids.add(gid);
                        Set<String> retryOnly = new java.util.HashSet<>();
                        claimed.add(
                            new Claimed(
                                gid,
                                row.getString(3),
                                state == Sql.TRYING ? Sql.CANCELLING : state,
                                branches(gid, row.getString(2), retryOnly),
                                retryOnly,
                                row.getLong(4)));
                      }
                      if (gids.isEmpty()) {
                        return Future.succeededFuture(claimed);
                      }
                      return conn.query(
                              "UPDATE "
                                  + tx
                                  + " SET state = IF(state = "
                                  + Sql.TRYING
                                  + ", "
                                  + Sql.CANCELLING
                                  + ", state), lease_owner = "
                                  + Sql.quote(owner)
                                  + ", attempts = attempts + 1, next_attempt_at = "
                                  + Sql.nowPlus(options.recoveryLease())
                                  + ", updated_at = UTC_TIMESTAMP(3) WHERE gid IN ("
                                  + Sql.quoteAll(gids)
                                  + ")")
                          .execute()
                          .map(claimed);
                    }));
  }

  private static List<TccBranch> branches(String gid, String json, Set<String> retryOnly) {
    List<TccBranch> branches = new ArrayList<>();
    JsonArray array = new JsonArray(json);
    for (int i = 0; i < array.size(); i++) {
      JsonObject b = array.getJsonObject(i);
      if (b.getBoolean("retryOnly", false)) {
        retryOnly.add(b.getString("branch"));
      }
      branches.add(
          new TccBranch(
              gid, b.getString("branch"), b.getString("action"), b.getJsonObject("args")));
    }
    return branches;
  }

  /** Gives a claimed transaction back, to be retried after {@code delay}. */
  Future<Void> release(String gid, String owner, Duration delay) {
    return LocalTx.single(
        connector,
        conn ->
            conn.query(
                    "UPDATE "
                        + tx
                        + " SET next_attempt_at = "
                        + Sql.nowPlus(delay)
                        + ", updated_at = UTC_TIMESTAMP(3) WHERE gid = "
                        + Sql.quote(gid)
                        + " AND lease_owner = "
                        + Sql.quote(owner)
                        + " AND next_attempt_at IS NOT NULL")
                .execute()
                .mapEmpty());
  }

  /** Deletes up to 500 transactions finished more than the retention ago; returns how many. */
  Future<Integer> prune() {
    String cutoff = Sql.nowPlus(options.logRetention().negated());
    return pool.query(
            "SELECT gid FROM "
                + tx
                + " WHERE updated_at < "
                + cutoff
                + " AND next_attempt_at IS NULL AND protocol <> "
                + Sql.quote(Protocol.XA.column())
                + " LIMIT 500")
        .execute()
        .compose(
            rows -> {
              List<String> gids = new ArrayList<>();
              for (Row row : rows) {
                gids.add(row.getString(0));
              }
              if (gids.isEmpty()) {
                return Future.succeededFuture(0);
              }
              return LocalTx.run(
                  connector,
                  "READ COMMITTED",
                  conn ->
                      conn.query(
                              "DELETE FROM "
                                  + tx
                                  + " WHERE gid IN ("
                                  + Sql.quoteAll(gids)
                                  + ") AND next_attempt_at IS NULL AND protocol <> "
                                  + Sql.quote(Protocol.XA.column()))
                          .execute()
                          .map(RowSet::rowCount));
            });
  }
}
