package io.shardkit.tx.check;

import io.shardkit.router.ShardedPool;
import io.shardkit.tx.TransactionsOptions;
import io.shardkit.tx.impl.xa.Xid;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Checks the global transactions against what the branches did:
 *
 * <ul>
 *   <li><b>XA in doubt</b>: every shardkit branch {@code XA RECOVER} lists whose deadline (in its
 *       xid) passed more than the settle time ago;
 *   <li><b>XA outcomes, witnessed by the binary logs</b>: on every shard that writes one, the
 *       {@code XA PREPARE}, {@code XA COMMIT} and {@code XA ROLLBACK} events of shardkit's xids: a
 *       global id committed on one data source and rolled back on another is not atomic, whatever
 *       the log says; a branch that ended against the logged decision contradicts it;
 *   <li><b>TCC and Saga</b>: every log row against the fence rows of its branches on every data
 *       source (a committed transaction's branches confirmed and never cancelled, a cancelled one's
 *       tried branches cancelled and none confirmed), rows not finished past their deadline plus
 *       the settle time, and tried branches that nothing finished and no log row explains.
 * </ul>
 */
final class TransactionCheck {

  private static final int PAGE = 500;
  private static final int MAX_WITNESSED = 1_000_000;
  private static final Pattern XA_EVENT =
      Pattern.compile("^XA (PREPARE|COMMIT|ROLLBACK) X'([0-9a-fA-F]*)',X'([0-9a-fA-F]*)',(\\d+)");
  private static final HexFormat HEX = HexFormat.of();

  private final ShardedPool pool;
  private final TransactionsOptions tx;
  private final CheckOptions options;
  private final CheckReport report;
  private final Pool log;
  private final String logTable;
  private final String fenceTable;

  TransactionCheck(ShardedPool pool, CheckOptions options, CheckReport report) {
    this.pool = pool;
    this.tx = options.transactions();
    this.options = options;
    this.report = report;
    this.log = pool.pool(tx.logDataSource());
    this.logTable = CopyCheck.q(tx.logTable());
    this.fenceTable = tx.tcc().fenceTable();
  }

  Future<Void> run() {
    return xaInDoubt().compose(v -> binlogs()).compose(v -> tccAndSaga()).compose(v -> orphans());
  }

  private long settleMillis() {
    return options.settle().toMillis();
  }

  // ---------------------------------------------------------------- XA in doubt

  private Future<Void> xaInDoubt() {
    // xid deadlines are stamped on the coordinator log server's clock: judged on it too (read
    // once for the whole check)
    return new io.shardkit.tx.impl.xa.DbClock(() -> Future.succeededFuture(log))
        .read()
        .compose(
            now -> {
              Future<Void> all = Future.succeededFuture();
              for (String ds : pool.rules().dataSourceNames()) {
                all = all.compose(v -> xaInDoubt(ds, now));
              }
              return all;
            });
  }

  private Future<Void> xaInDoubt(String ds, long now) {
    return pool.pool(ds)
        .query("XA RECOVER")
        .execute()
        .compose(
            rows -> {
              List<Xid> overdue = new ArrayList<>();
              for (Row row : rows) {
                Xid.fromRecover(
                        row.getInteger("formatID"),
                        row.getInteger("gtrid_length"),
                        row.getInteger("bqual_length"),
                        row.getBuffer("data"))
                    .filter(x -> x.dataSource().equals(ds))
                    .ifPresent(
                        x -> {
                          report.count("XA branches prepared now", 1);
                          if (now > x.deadlineEpochMillis() + settleMillis()) {
                            overdue.add(x);
                          }
                        });
              }
              if (overdue.isEmpty()) {
                return Future.succeededFuture();
              }
              Map<String, String> gids = new LinkedHashMap<>();
              overdue.forEach(x -> gids.put(x.globalId(), x.decidedOn()));
              return xaDecisions(gids)
                  .<Void>map(
                      decisions -> {
                        for (Xid x : overdue) {
                          Integer d = decisions.get(x.globalId());
                          report.add(
                              new Anomaly(
                                  Anomaly.Kind.XA_BRANCH_IN_DOUBT,
                                  ds,
                                  null,
                                  null,
                                  x.globalId(),
                                  "XA branch still prepared "
                                      + (now - x.deadlineEpochMillis()) / 1000
                                      + " s after its deadline (logged decision: "
                                      + decisionName(d)
                                      + "): recovery has not finished it; its locks are held"));
                        }
                        return null;
                      });
            })
        .recover(
            e -> {
              report.note("XA RECOVER on " + ds + " failed: " + e.getMessage());
              return Future.succeededFuture();
            });
  }

  private static String decisionName(Integer state) {
    if (state == null) {
      return "none";
    }
    return switch (state) {
      case 2, 4 -> "COMMIT";
      case 3, 5 -> "CANCEL";
      default -> "state " + state;
    };
  }

  /**
   * The XA decisions of {@code gids} (gid → the data source keeping its decision, null for the
   * coordinator log): gid → state (2 COMMIT, 3 CANCEL).
   */
  private Future<Map<String, Integer>> xaDecisions(Map<String, String> gids) {
    Map<String, Set<String>> byWhere = new LinkedHashMap<>();
    gids.forEach(
        (gid, where) ->
            byWhere
                .computeIfAbsent(where == null ? "" : where, k -> new LinkedHashSet<>())
                .add(gid));
    Map<String, Integer> out = new HashMap<>();
    Future<Void> chain = Future.succeededFuture();
    for (Map.Entry<String, Set<String>> e : byWhere.entrySet()) {
      String where = e.getKey();
      chain =
          chain.compose(
              v ->
                  (where.isEmpty()
                          ? logStates(e.getValue(), "protocol = 'XA'")
                          : states(
                              pool.pool(where),
                              CopyCheck.q(tx.xaDecisionTable()),
                              e.getValue(),
                              "1 = 1"))
                      .map(
                          found -> {
                            out.putAll(found);
                            return (Void) null;
                          }));
    }
    return chain.map(v -> out);
  }

  private Future<Map<String, Integer>> logStates(Set<String> gids, String where) {
    return states(log, logTable, gids, where);
  }

  private Future<Map<String, Integer>> states(
      Pool on, String table, Set<String> gids, String where) {
    Map<String, Integer> out = new HashMap<>();
    List<String> all = new ArrayList<>(gids);
    Future<Void> chain = Future.succeededFuture();
    for (int i = 0; i < all.size(); i += PAGE) {
      List<String> page = all.subList(i, Math.min(all.size(), i + PAGE));
      chain =
          chain.compose(
              v ->
                  on.preparedQuery(
                          "SELECT gid, state FROM "
                              + table
                              + " WHERE "
                              + where
                              + " AND gid IN ("
                              + marks(page.size())
                              + ")")
                      .execute(Tuple.wrap(new ArrayList<Object>(page)))
                      .map(
                          rows -> {
                            rows.forEach(r -> out.put(r.getString(0), r.getInteger(1)));
                            return null;
                          }));
    }
    return chain.map(v -> out);
  }

  private static String marks(int n) {
    return String.join(", ", java.util.Collections.nCopies(n, "?"));
  }

  // ---------------------------------------------------------------- binary logs

  /** gid → data source → last XA event seen (PREPARE, COMMIT, ROLLBACK). */
  private final Map<String, Map<String, String>> witnessed = new LinkedHashMap<>();

  /** gid → the data source keeping its decision, for the witnessed xids that name one. */
  private final Map<String, String> decidedOn = new HashMap<>();

  private Future<Void> binlogs() {
    Map<String, Pool> servers = new LinkedHashMap<>();
    Future<Void> chain = Future.succeededFuture();
    for (String ds : pool.rules().dataSourceNames()) {
      chain =
          chain.compose(
              v ->
                  pool.pool(ds)
                      .query("SELECT @@log_bin, @@hostname, @@port")
                      .execute()
                      .<Void>map(
                          rows -> {
                            Row r = rows.iterator().next();
                            if (!"1".equals(String.valueOf(r.getValue(0)))) {
                              report.note(
                                  ds
                                      + ": no binary log (log_bin=OFF): what its XA branches did is"
                                      + " not witnessed, only XA RECOVER is checked");
                            } else {
                              servers.putIfAbsent(
                                  r.getString(1) + ":" + r.getValue(2), pool.pool(ds));
                            }
                            return null;
                          })
                      .otherwiseEmpty());
    }
    return chain
        .compose(
            v -> {
              Future<Void> reads = Future.succeededFuture();
              for (Map.Entry<String, Pool> server : servers.entrySet()) {
                reads = reads.compose(w -> readBinlogs(server.getKey(), server.getValue()));
              }
              return reads;
            })
        .compose(v -> judgeWitnessed());
  }

  private Future<Void> readBinlogs(String server, Pool on) {
    return on.query("SHOW BINARY LOGS")
        .execute()
        .compose(
            files -> {
              Future<Void> chain = Future.succeededFuture();
              for (Row f : files) {
                String name = f.getString(0);
                chain = chain.compose(v -> readBinlog(server, on, name, null));
              }
              return chain;
            })
        .recover(
            e -> {
              report.note("reading the binary logs of " + server + " failed: " + e.getMessage());
              return Future.succeededFuture();
            });
  }

  private Future<Void> readBinlog(String server, Pool on, String file, Long from) {
    String sql =
        "SHOW BINLOG EVENTS IN '"
            + file.replace("'", "''")
            + "'"
            + (from == null ? " LIMIT 1000" : " FROM " + from + " LIMIT 1, 1000");
    return on.query(sql)
        .execute()
        .compose(
            rows -> {
              Long last = null;
              for (Row r : rows) {
                last = r.getLong("Pos");
                report.count("binlog events read", 1);
                Matcher m = XA_EVENT.matcher(String.valueOf(r.getValue("Info")));
                if (!m.find() || !Xid.isShardkit(Integer.parseInt(m.group(4)))) {
                  continue;
                }
                String gid = new String(HEX.parseHex(m.group(2)), StandardCharsets.UTF_8);
                String bqual = new String(HEX.parseHex(m.group(3)), StandardCharsets.UTF_8);
                Xid xid = Xid.of(Integer.parseInt(m.group(4)), gid, bqual).orElse(null);
                if (xid == null) {
                  continue;
                }
                String ds = xid.dataSource();
                if (xid.decidedOn() != null) {
                  decidedOn.put(gid, xid.decidedOn());
                }
                if (witnessed.size() >= MAX_WITNESSED && !witnessed.containsKey(gid)) {
                  report.note(
                      "more than "
                          + MAX_WITNESSED
                          + " XA transactions in the binary logs: the rest not judged");
                  continue;
                }
                witnessed.computeIfAbsent(gid, k -> new TreeMap<>()).put(ds, m.group(1));
              }
              return rows.size() < 1000 || last == null
                  ? Future.succeededFuture()
                  : readBinlog(server, on, file, last);
            });
  }

  private Future<Void> judgeWitnessed() {
    report.count("XA transactions witnessed in binary logs", witnessed.size());
    Map<String, String> ended = new LinkedHashMap<>();
    for (Map.Entry<String, Map<String, String>> e : witnessed.entrySet()) {
      Map<String, String> by = e.getValue();
      if (by.containsValue("COMMIT") && by.containsValue("ROLLBACK")) {
        report.add(
            new Anomaly(
                Anomaly.Kind.XA_NOT_ATOMIC,
                String.join(",", by.keySet()),
                null,
                null,
                e.getKey(),
                "committed on "
                    + with(by, "COMMIT")
                    + " but rolled back on "
                    + with(by, "ROLLBACK")
                    + " (binary logs)"));
      }
      if (by.containsValue("COMMIT") || by.containsValue("ROLLBACK")) {
        ended.put(e.getKey(), decidedOn.get(e.getKey()));
      }
    }
    return xaDecisions(ended)
        .map(
            decisions -> {
              decisions.forEach(
                  (gid, state) -> {
                    Map<String, String> by = witnessed.get(gid);
                    String against = state == 2 ? "ROLLBACK" : state == 3 ? "COMMIT" : null;
                    if (against != null && by.containsValue(against)) {
                      report.add(
                          new Anomaly(
                              Anomaly.Kind.XA_AGAINST_DECISION,
                              with(by, against),
                              null,
                              null,
                              gid,
                              "the log decided "
                                  + decisionName(state)
                                  + " but the branch on "
                                  + with(by, against)
                                  + " ended with XA "
                                  + against
                                  + " (binary log)"));
                    }
                  });
              return null;
            });
  }

  private static String with(Map<String, String> by, String outcome) {
    List<String> out = new ArrayList<>();
    by.forEach(
        (ds, o) -> {
          if (o.equals(outcome)) {
            out.add(ds);
          }
        });
    return String.join(",", out);
  }

  // ---------------------------------------------------------------- TCC and Saga

  private List<String> fenced;

  /** The data sources that have a fence table. */
  private Future<List<String>> fencedDataSources() {
    if (fenced != null) {
      return Future.succeededFuture(fenced);
    }
    List<String> out = new ArrayList<>();
    Future<Void> chain = Future.succeededFuture();
    for (String ds : pool.rules().dataSourceNames()) {
      chain =
          chain.compose(
              v ->
                  pool.pool(ds)
                      .preparedQuery(
                          "SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()"
                              + " AND TABLE_NAME = ?")
                      .execute(Tuple.of(fenceTable))
                      .map(
                          rows -> {
                            if (rows.iterator().hasNext()) {
                              out.add(ds);
                            }
                            return null;
                          }));
    }
    return chain.map(
        v -> {
          fenced = out;
          return out;
        });
  }

  private Future<Void> tccAndSaga() {
    return log.preparedQuery(
            "SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME"
                + " = ?")
        .execute(Tuple.of(tx.logTable()))
        .compose(
            rows -> {
              if (!rows.iterator().hasNext()) {
                report.note(
                    "no coordinator log table "
                        + tx.logTable()
                        + " on "
                        + tx.logDataSource()
                        + ": TCC and Saga not checked");
                return Future.succeededFuture();
              }
              return fencedDataSources().compose(ds -> logPage(""));
            });
  }

  private Future<Void> logPage(String after) {
    return log.preparedQuery(
            "SELECT gid, protocol, state, branches,"
                + " TIMESTAMPDIFF(MICROSECOND, deadline_at, NOW(3)) DIV 1000 AS past"
                + " FROM "
                + logTable
                + " WHERE protocol <> 'XA' AND gid > ? ORDER BY gid LIMIT "
                + PAGE)
        .execute(Tuple.of(after))
        .compose(
            rows -> {
              List<Row> list = new ArrayList<>();
              rows.forEach(list::add);
              if (list.isEmpty()) {
                return Future.succeededFuture();
              }
              String last = list.get(list.size() - 1).getString("gid");
              return judgePage(list)
                  .compose(v -> list.size() < PAGE ? Future.succeededFuture() : logPage(last));
            });
  }

  /** (gid, branch) → the fence rows' "phase/origin" pairs, over every fenced data source. */
  private Future<Map<String, Set<String>>> fences(List<String> gids) {
    Map<String, Set<String>> out = new HashMap<>();
    Future<Void> chain = Future.succeededFuture();
    for (String ds : fenced) {
      chain =
          chain.compose(
              v ->
                  pool.pool(ds)
                      .preparedQuery(
                          "SELECT gid, branch_id, phase, origin FROM "
                              + CopyCheck.q(fenceTable)
                              + " WHERE gid IN ("
                              + marks(gids.size())
                              + ")")
                      .execute(Tuple.wrap(new ArrayList<Object>(gids)))
                      .map(
                          rows -> {
                            for (Row r : rows) {
                              out.computeIfAbsent(
                                      r.getString(0) + "/" + r.getString(1),
                                      k -> new LinkedHashSet<>())
                                  .add(r.getInteger(2) + "/" + r.getInteger(3));
                            }
                            return null;
                          }));
    }
    return chain.map(v -> out);
  }

  private Future<Void> judgePage(List<Row> rows) {
    List<String> gids = new ArrayList<>();
    rows.forEach(r -> gids.add(r.getString("gid")));
    return fences(gids)
        .map(
            fences -> {
              for (Row r : rows) {
                judge(r, fences);
              }
              return null;
            });
  }

  private void judge(Row row, Map<String, Set<String>> fences) {
    String gid = row.getString("gid");
    String protocol = row.getString("protocol");
    int state = row.getInteger("state");
    long past = row.getLong("past");
    report.count("TCC/Saga transactions checked", 1);
    if (state <= 3) {
      if (past > settleMillis()) {
        report.add(
            new Anomaly(
                Anomaly.Kind.TX_NOT_FINISHED,
                tx.logDataSource(),
                tx.logTable(),
                null,
                gid,
                protocol
                    + " transaction still "
                    + (state == 1
                        ? "TRYING"
                        : state == 2 ? "COMMIT (confirming)" : "CANCEL (cancelling)")
                    + " "
                    + past / 1000
                    + " s after its deadline: recovery has not finished it"));
      }
      return;
    }
    boolean committed = state == 4;
    boolean saga = "SAGA".equals(protocol);
    JsonArray branches;
    try {
      branches = new JsonArray(row.getString("branches"));
    } catch (RuntimeException e) {
      report.note("transaction " + gid + ": unreadable branches column: " + e.getMessage());
      return;
    }
    for (int i = 0; i < branches.size(); i++) {
      JsonObject b = branches.getJsonObject(i);
      String branch = b.getString("branch");
      Set<String> f = fences.get(gid + "/" + branch);
      report.count("TCC/Saga branches checked", 1);
      if (f == null || f.isEmpty()) {
        report.count("TCC/Saga branches without fence rows (remote participant or cleaned up)", 1);
        continue;
      }
      boolean tried = f.contains("1/1");
      boolean marker = f.contains("1/3");
      boolean confirmed = f.contains("2/2");
      boolean cancelled = f.contains("3/3");
      String problem = null;
      if (committed) {
        if (cancelled || marker) {
          problem =
              saga
                  ? "compensated although the saga committed"
                  : "cancelled although the transaction committed";
        } else if (!tried) {
          problem = "never tried although the transaction committed";
        } else if (!saga && !confirmed) {
          problem = "tried but never confirmed although the transaction committed";
        }
      } else {
        if (confirmed) {
          problem = "confirmed although the transaction was cancelled";
        } else if (tried && !cancelled) {
          problem =
              saga
                  ? "its action applied but never compensated although the saga was cancelled"
                  : "tried but never cancelled although the transaction was cancelled";
        }
      }
      if (problem != null) {
        report.add(
            new Anomaly(
                Anomaly.Kind.TX_BRANCH_AGAINST_DECISION,
                null,
                fenceTable,
                "branch " + branch + " (" + b.getString("action") + ")",
                gid,
                protocol + " branch " + problem + " (fence rows " + f + ")"));
      }
    }
  }

  /**
   * Tried branches that no confirm or cancel followed, settled, and younger than the log's
   * retention (an older one's log row may have been pruned), whose transaction has no log row.
   */
  private Future<Void> orphans() {
    if (fenced == null) {
      return Future.succeededFuture();
    }
    Future<Void> chain = Future.succeededFuture();
    long settleMs = settleMillis();
    long retentionMs = tx.logRetention().toMillis();
    for (String ds : fenced) {
      chain =
          chain.compose(
              v ->
                  pool.pool(ds)
                      .query(
                          "SELECT f.gid, f.branch_id, f.action FROM "
                              + CopyCheck.q(fenceTable)
                              + " f WHERE f.phase = 1 AND f.origin = 1 AND f.created_at < NOW(3) -"
                              + " INTERVAL "
                              + settleMs * 1000
                              + " MICROSECOND AND f.created_at > NOW(3) - INTERVAL "
                              + retentionMs * 1000
                              + " MICROSECOND AND NOT EXISTS (SELECT 1 FROM "
                              + CopyCheck.q(fenceTable)
                              + " g WHERE g.gid = f.gid AND g.branch_id = f.branch_id AND g.phase"
                              + " IN (2, 3)) LIMIT 1000")
                      .execute()
                      .compose(rows -> orphans(ds, rows)));
    }
    return chain;
  }

  private Future<Void> orphans(String ds, RowSet<Row> rows) {
    if (rows.size() == 0) {
      return Future.succeededFuture();
    }
    Set<String> gids = new LinkedHashSet<>();
    rows.forEach(r -> gids.add(r.getString(0)));
    return logStates(gids, "protocol <> 'XA'")
        .map(
            states -> {
              for (Row r : rows) {
                if (!states.containsKey(r.getString(0))) {
                  report.add(
                      new Anomaly(
                          Anomaly.Kind.TX_BRANCH_LEFT_TRIED,
                          ds,
                          fenceTable,
                          "branch " + r.getString(1) + " (" + r.getString(2) + ")",
                          r.getString(0),
                          "tried (or a saga step applied), never confirmed nor cancelled, and its"
                              + " transaction has no log row"));
                }
              }
              return null;
            });
  }
}
