package io.shardkit.tx.outbox;

import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The periodic check of the outbox, per data source: the backlog and the age of the oldest
 * unpublished message; messages unpublished for longer than {@code stuckAfter} (reported, and the
 * local relay nudged); whether any relay holds the data source's lease; and, for destinations whose
 * consumer declares acknowledgements ({@link #expectAcknowledgements}), published messages that
 * consumer has not recorded in its {@link Inbox} after {@code stuckAfter}: reported and, with
 * re-drive on, set back to unpublished so the relay publishes them again (the inbox makes that
 * harmless). Results go to the {@code shardkit.outbox.*} gauges and to a {@link Report}.
 */
public final class OutboxReconciler {

  private final Outbox outbox;
  private final OutboxOptions options;
  private final OutboxMetrics metrics;
  private final Map<String, Inbox> acknowledging = new LinkedHashMap<>();
  private OutboxRelay relay;
  private boolean redrive = true;
  private long timer = -1;

  OutboxReconciler(Outbox outbox) {
    this.outbox = outbox;
    this.options = outbox.options();
    this.metrics = new OutboxMetrics(options.meterRegistry());
  }

  /**
   * Declares that the consumer behind {@code inbox} acknowledges every message sent to {@code
   * destination} by recording it in its inbox.
   */
  public OutboxReconciler expectAcknowledgements(String destination, Inbox inbox) {
    acknowledging.put(destination, inbox);
    return this;
  }

  /** The relay of this process to nudge when messages are stuck. */
  public OutboxReconciler relay(OutboxRelay relay) {
    this.relay = relay;
    return this;
  }

  /** Whether unacknowledged messages are set back to unpublished (true). */
  public OutboxReconciler redrive(boolean redrive) {
    this.redrive = redrive;
    return this;
  }

  /** Runs {@link #runOnce()} every {@code reconcileInterval}. */
  public OutboxReconciler start() {
    if (timer < 0) {
      timer =
          outbox
              .vertx()
              .setPeriodic(
                  options.reconcileInterval().toMillis(), id -> runOnce().onFailure(e -> {}));
    }
    return this;
  }

  /** Stops the periodic runs. */
  public void stop() {
    if (timer >= 0) {
      outbox.vertx().cancelTimer(timer);
      timer = -1;
    }
  }

  /** What one run found on one data source. */
  public record ShardReport(
      String dataSource,
      long backlog,
      long oldestUnpublishedMicros,
      List<String> stuck,
      boolean leaseHeld,
      List<String> unacknowledged,
      long redriven) {}

  /** What one run found. */
  public record Report(Map<String, ShardReport> shards) {
    /** Messages stuck unpublished, over all data sources. */
    public long stuckCount() {
      return shards.values().stream().mapToLong(s -> s.stuck().size()).sum();
    }

    /** Messages published but unacknowledged past the bound, over all data sources. */
    public long unacknowledgedCount() {
      return shards.values().stream().mapToLong(s -> s.unacknowledged().size()).sum();
    }
  }

  /** One pass over every data source of the outbox. */
  public Future<Report> runOnce() {
    Map<String, ShardReport> reports = new LinkedHashMap<>();
    List<Future<?>> all = new ArrayList<>();
    outbox
        .actualTables()
        .forEach(
            (ds, table) ->
                all.add(
                    check(ds, table)
                        .onSuccess(r -> reports.put(ds, r))
                        .onFailure(e -> metrics.failure(ds, "reconcile"))));
    return Future.join(all)
        .transform(
            ar -> {
              Map<String, ShardReport> ordered = new LinkedHashMap<>();
              outbox
                  .actualTables()
                  .keySet()
                  .forEach(
                      ds -> {
                        if (reports.containsKey(ds)) {
                          ordered.put(ds, reports.get(ds));
                        }
                      });
              if (ar.failed() && ordered.isEmpty()) {
                return Future.failedFuture(ar.cause());
              }
              if (relay != null && ordered.values().stream().anyMatch(r -> !r.stuck().isEmpty())) {
                relay.nudge();
              }
              return Future.succeededFuture(new Report(ordered));
            });
  }

  private Future<ShardReport> check(String ds, String table) {
    Pool db = outbox.pool().pool(ds);
    long stuckMicros = options.stuckAfter().toNanos() / 1000;
    Future<Row> summary =
        db.preparedQuery(
                "SELECT COUNT(*), COALESCE(TIMESTAMPDIFF(MICROSECOND, MIN(created_at), NOW(6)), 0)"
                    + " FROM "
                    + table
                    + " WHERE published_at IS NULL")
            .execute()
            .map(rs -> rs.iterator().next());
    Future<List<String>> stuck =
        db.preparedQuery(
                "SELECT message_id FROM "
                    + table
                    + " WHERE published_at IS NULL AND created_at < NOW(6) - INTERVAL ? MICROSECOND"
                    + " ORDER BY id LIMIT 100")
            .execute(Tuple.of(stuckMicros))
            .map(rs -> ids(rs, 0));
    Future<Boolean> lease =
        db.preparedQuery(
                "SELECT COUNT(*) FROM "
                    + options.leaseTable()
                    + " WHERE name = ? AND expires_at > NOW(6)")
            .execute(Tuple.of("outbox:" + table))
            .map(rs -> rs.iterator().next().getLong(0) > 0);
    Future<long[]> unacked = unacknowledged(ds, db, table, stuckMicros);
    return Future.all(summary, stuck, lease, unacked)
        .map(
            v -> {
              long backlog = summary.result().getLong(0);
              long oldest = backlog == 0 ? 0 : summary.result().getLong(1);
              metrics.gauge(
                  "shardkit.outbox.backlog", ds, backlog, "unpublished messages in the outbox");
              metrics.gauge(
                  "shardkit.outbox.oldest.age.ms",
                  ds,
                  oldest / 1000,
                  "age of the oldest unpublished message");
              metrics.gauge(
                  "shardkit.outbox.stuck",
                  ds,
                  stuck.result().size(),
                  "messages unpublished for longer than stuckAfter");
              metrics.gauge(
                  "shardkit.outbox.relay.active",
                  ds,
                  lease.result() ? 1 : 0,
                  "1 while some relay holds the data source's lease");
              metrics.gauge(
                  "shardkit.outbox.unacknowledged",
                  ds,
                  unackedIds.getOrDefault(ds, List.of()).size(),
                  "published messages a consumer has not acknowledged after stuckAfter");
              return new ShardReport(
                  ds,
                  backlog,
                  oldest,
                  stuck.result(),
                  lease.result(),
                  unackedIds.getOrDefault(ds, List.of()),
                  unacked.result()[0]);
            });
  }

  private final Map<String, List<String>> unackedIds =
      new java.util.concurrent.ConcurrentHashMap<>();

  /** Checks published, not yet acknowledged rows against the inboxes; returns {redriven}. */
  private Future<long[]> unacknowledged(String ds, Pool db, String table, long stuckMicros) {
    unackedIds.put(ds, List.of());
    if (acknowledging.isEmpty() || options.deletePublished()) {
      return Future.succeededFuture(new long[] {0});
    }
    List<String> missing = new ArrayList<>();
    long[] redriven = {0};
    Future<?> chain = Future.succeededFuture();
    for (Map.Entry<String, Inbox> e : acknowledging.entrySet()) {
      String destination = e.getKey();
      Inbox inbox = e.getValue();
      chain =
          chain.compose(
              v ->
                  db.preparedQuery(
                          "SELECT id, message_id, published_at < NOW(6) - INTERVAL ? MICROSECOND"
                              + " FROM "
                              + table
                              + " WHERE destination = ? AND acknowledged_at IS NULL"
                              + " AND published_at IS NOT NULL ORDER BY id LIMIT 500")
                      .execute(Tuple.of(stuckMicros, destination))
                      .compose(
                          rows -> {
                            Map<String, Long> idOf = new LinkedHashMap<>();
                            Map<String, Boolean> old = new LinkedHashMap<>();
                            for (Row row : rows) {
                              idOf.put(row.getString(1), row.getLong(0));
                              old.put(row.getString(1), row.getInteger(2) == 1);
                            }
                            return inbox
                                .acknowledged(idOf.keySet())
                                .compose(
                                    acked ->
                                        settle(db, table, idOf, old, acked, missing, redriven));
                          }));
    }
    return chain.map(
        v -> {
          unackedIds.put(ds, List.copyOf(missing));
          return redriven;
        });
  }

  private Future<Void> settle(
      Pool db,
      String table,
      Map<String, Long> idOf,
      Map<String, Boolean> old,
      Set<String> acked,
      List<String> missing,
      long[] redriven) {
    List<Long> ackedIds = new ArrayList<>();
    List<Long> overdue = new ArrayList<>();
    idOf.forEach(
        (messageId, id) -> {
          if (acked.contains(messageId)) {
            ackedIds.add(id);
          } else if (old.get(messageId)) {
            overdue.add(id);
            missing.add(messageId);
          }
        });
    Future<?> f = Future.succeededFuture();
    if (!ackedIds.isEmpty()) {
      f =
          db.query(
                  "UPDATE " + table + " SET acknowledged_at = NOW(6) WHERE id IN " + list(ackedIds))
              .execute();
    }
    if (redrive && !overdue.isEmpty()) {
      f =
          f.compose(
              v ->
                  db.query(
                          "UPDATE "
                              + table
                              + " SET published_at = NULL WHERE acknowledged_at IS NULL AND id IN "
                              + list(overdue))
                      .execute()
                      .onSuccess(
                          rs -> {
                            redriven[0] += rs.rowCount();
                            metrics.redriven(db == null ? "?" : dsOf(db), rs.rowCount());
                          }));
    }
    return f.mapEmpty();
  }

  private String dsOf(Pool db) {
    for (String ds : outbox.actualTables().keySet()) {
      if (outbox.pool().pool(ds) == db) {
        return ds;
      }
    }
    return "?";
  }

  private static List<String> ids(io.vertx.sqlclient.RowSet<Row> rs, int column) {
    List<String> out = new ArrayList<>();
    for (Row row : rs) {
      out.add(row.getString(column));
    }
    return out;
  }

  private static String list(List<Long> ids) {
    StringBuilder sb = new StringBuilder("(");
    for (int i = 0; i < ids.size(); i++) {
      sb.append(i == 0 ? "" : ",").append(ids.get(i));
    }
    return sb.append(')').toString();
  }
}
