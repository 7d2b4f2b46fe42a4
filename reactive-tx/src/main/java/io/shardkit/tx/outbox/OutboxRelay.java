package io.shardkit.tx.outbox;

import io.shardkit.tx.outbox.spi.OutboxSink;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeoutException;

/**
 * Publishes committed outbox rows to a sink, one loop per data source, on one Vert.x context and
 * without blocking it. Each loop holds a lease on its data source (a row of the lease table,
 * renewed while it runs): another relay instance on the same data sources waits until the lease
 * expires, so two instances never publish one data source's messages at the same time, and one that
 * dies is replaced one lease later.
 *
 * <p>A poll reads up to {@code batchSize} unpublished rows in id order, counts an attempt on them,
 * publishes them (one message of an aggregate key at a time, keys in parallel up to {@code
 * maxInFlight}; a failure holds back the rest of that key until the next poll) and marks (or
 * deletes) the published ones in one statement. Nothing is marked before the sink acknowledged it,
 * so a relay dying mid-batch leaves its rows to be published again (at least once; consumers
 * deduplicate with {@link Inbox}). The next poll starts when the batch is done: a slow sink slows
 * the relay.
 */
public final class OutboxRelay {

  private static final System.Logger LOG = System.getLogger(OutboxRelay.class.getName());

  private final Outbox outbox;
  private final OutboxSink sink;
  private final OutboxOptions options;
  private final OutboxMetrics metrics;
  private final Map<String, ShardLoop> loops = new LinkedHashMap<>();
  private Context context;
  private volatile boolean stopped;

  OutboxRelay(Outbox outbox, OutboxSink sink) {
    this.outbox = outbox;
    this.sink = sink;
    this.options = outbox.options();
    this.metrics = new OutboxMetrics(options.meterRegistry());
    outbox.actualTables().forEach((ds, table) -> loops.put(ds, new ShardLoop(ds, table)));
  }

  /** This relay's name in the lease table. */
  public String relayId() {
    return options.relayId();
  }

  /** Starts one loop per data source, on a context of its own (an event loop). */
  public synchronized Future<Void> start() {
    if (context != null) {
      return Future.failedFuture(new IllegalStateException("relay already started"));
    }
    context = outbox.vertx().getOrCreateContext();
    Promise<Void> started = Promise.promise();
    context.runOnContext(
        v -> {
          loops.values().forEach(ShardLoop::begin);
          started.complete();
        });
    return started.future();
  }

  /**
   * Stops polling, waits for the batches in flight and gives the leases back, so another relay may
   * take over at once.
   */
  public Future<Void> stop() {
    stopped = true;
    if (context == null) {
      return Future.succeededFuture();
    }
    Promise<Void> done = Promise.promise();
    context.runOnContext(
        v -> {
          List<Future<?>> all = new ArrayList<>();
          loops.values().forEach(l -> all.add(l.stop()));
          Future.join(all).<Void>mapEmpty().onComplete(done);
        });
    return done.future();
  }

  /** Polls every data source now instead of at the next interval (e.g. after a commit). */
  public void nudge() {
    if (context != null && !stopped) {
      context.runOnContext(v -> loops.values().forEach(ShardLoop::nudge));
    }
  }

  /** Whether this relay holds the lease of {@code dataSource} now (by its own clock). */
  public boolean holdsLease(String dataSource) {
    ShardLoop loop = loops.get(dataSource);
    return loop != null && System.nanoTime() < loop.publishUntil;
  }

  /** Messages this relay published (sink acknowledged) since it started. */
  public long publishedCount() {
    return loops.values().stream().mapToLong(l -> l.published).sum();
  }

  /** The loop of one data source. Runs on the relay's context only. */
  private final class ShardLoop {
    final String ds;
    final String table;
    final Pool db;
    final String leaseName;
    long timer = -1;
    boolean busy;
    boolean again;
    long publishUntil; // nanoTime; no publication starts after it
    long renewAt; // nanoTime; renew the lease after it
    long nextCleanup;
    long published;
    Promise<Void> stopped;

    ShardLoop(String ds, String table) {
      this.ds = ds;
      this.table = table;
      this.db = outbox.pool().pool(ds);
      this.leaseName = "outbox:" + table;
    }

    void begin() {
      db.preparedQuery(
              "INSERT IGNORE INTO "
                  + options.leaseTable()
                  + " (name, owner, expires_at) VALUES (?, '', '1970-01-02 00:00:00')")
          .execute(Tuple.of(leaseName))
          .onComplete(ar -> cycle());
    }

    void nudge() {
      if (busy) {
        again = true;
      } else if (timer >= 0 && System.nanoTime() < publishUntil) {
        outbox.vertx().cancelTimer(timer);
        timer = -1;
        cycle();
      }
    }

    void schedule(long delayMs) {
      if (OutboxRelay.this.stopped) {
        finishStop();
        return;
      }
      if (again || delayMs <= 0) {
        again = false;
        context.runOnContext(v -> cycle());
      } else {
        timer =
            outbox
                .vertx()
                .setTimer(
                    delayMs,
                    id -> {
                      timer = -1;
                      cycle();
                    });
      }
    }

    void cycle() {
      if (OutboxRelay.this.stopped) {
        finishStop();
        return;
      }
      busy = true;
      lease()
          .compose(held -> held ? poll() : Future.succeededFuture(Poll.NO_LEASE))
          .onComplete(
              ar -> {
                busy = false;
                long delay;
                if (ar.failed()) {
                  LOG.log(
                      System.Logger.Level.DEBUG,
                      "outbox relay " + relayId() + " on " + ds + ": " + ar.cause());
                  delay = options.failureBackoff().toMillis();
                } else {
                  delay =
                      switch (ar.result()) {
                        case MORE -> 0;
                        case IDLE -> options.pollInterval().toMillis();
                        case FAILED -> options.failureBackoff().toMillis();
                        case NO_LEASE ->
                            Math.max(
                                options.pollInterval().toMillis(),
                                options.leaseDuration().toMillis() / 5);
                      };
                }
                schedule(delay);
              });
    }

    /** Renews the lease when a third of it has run out; true while held. */
    Future<Boolean> lease() {
      long now = System.nanoTime();
      if (now < renewAt) {
        return Future.succeededFuture(true);
      }
      long leaseNanos = options.leaseDuration().toNanos();
      return db.preparedQuery(
              "UPDATE "
                  + options.leaseTable()
                  + " SET owner = ?, expires_at = NOW(6) + INTERVAL ? MICROSECOND"
                  + " WHERE name = ? AND (owner = ? OR expires_at < NOW(6))")
          .execute(Tuple.of(relayId(), leaseNanos / 1000, leaseName, relayId()))
          .map(
              rs -> {
                boolean held = rs.rowCount() > 0;
                if (held) {
                  // the server's expiry is at least now + lease: stop starting publications
                  // early enough that the last one ends (publishTimeout) before it
                  long margin = options.publishTimeout().toNanos() + leaseNanos / 10;
                  publishUntil = now + leaseNanos - margin;
                  renewAt = now + leaseNanos / 3;
                } else {
                  publishUntil = 0;
                  renewAt = 0;
                }
                metrics.gauge(
                    "shardkit.outbox.lease.held",
                    ds,
                    held ? 1 : 0,
                    "1 while this relay holds the data source's lease",
                    "relay",
                    relayId());
                return held;
              })
          .onFailure(
              e -> {
                publishUntil =
                    Math.min(
                        publishUntil,
                        now + leaseNanos - options.publishTimeout().toNanos() - leaseNanos / 10);
                renewAt = 0;
                metrics.failure(ds, "lease");
              });
    }

    Future<Poll> poll() {
      long now = System.nanoTime();
      Future<?> cleanup = Future.succeededFuture();
      if (!options.deletePublished() && now > nextCleanup) {
        nextCleanup = now + 10_000_000_000L;
        cleanup =
            db.preparedQuery(
                    "DELETE FROM "
                        + table
                        + " WHERE published_at < NOW(6) - INTERVAL ? MICROSECOND LIMIT 1000")
                .execute(Tuple.of(options.retention().toNanos() / 1000))
                .recover(e -> Future.succeededFuture());
      }
      return cleanup
          .compose(
              v ->
                  db.preparedQuery(
                          "SELECT id, message_id, destination, aggregate_key, content_type, payload,"
                              + " headers, attempts, TIMESTAMPDIFF(MICROSECOND, created_at, NOW(6))"
                              + " AS age_us FROM "
                              + table
                              + " WHERE published_at IS NULL ORDER BY id LIMIT ?")
                      .execute(Tuple.of(options.batchSize())))
          .onFailure(e -> metrics.failure(ds, "poll"))
          .compose(this::publishBatch);
    }

    Future<Poll> publishBatch(RowSet<Row> rows) {
      if (rows.size() == 0) {
        return Future.succeededFuture(Poll.IDLE);
      }
      long fetchedAt = System.nanoTime();
      List<Pending> batch = new ArrayList<>(rows.size());
      for (Row row : rows) {
        batch.add(pending(row));
      }
      boolean full = batch.size() >= options.batchSize();
      // count the attempt before publishing: a redelivery then knows it is one
      return db.query("UPDATE " + table + " SET attempts = attempts + 1 WHERE id IN " + ids(batch))
          .execute()
          .onFailure(e -> metrics.failure(ds, "mark"))
          .compose(
              rs -> {
                Map<String, ArrayDeque<Pending>> byKey = new LinkedHashMap<>();
                for (Pending p : batch) {
                  byKey
                      .computeIfAbsent(p.message.aggregateKeyText(), k -> new ArrayDeque<>())
                      .add(p);
                }
                ArrayDeque<ArrayDeque<Pending>> chains = new ArrayDeque<>(byKey.values());
                Promise<Void> all = Promise.promise();
                int[] running = {0};
                Runnable[] pump = new Runnable[1];
                pump[0] =
                    () -> {
                      while (running[0] < options.maxInFlight() && !chains.isEmpty()) {
                        running[0]++;
                        publishChain(chains.poll(), fetchedAt)
                            .onComplete(
                                ar -> {
                                  running[0]--;
                                  pump[0].run();
                                });
                      }
                      if (running[0] == 0 && chains.isEmpty()) {
                        all.tryComplete();
                      }
                    };
                pump[0].run();
                return all.future();
              })
          .compose(v -> markPublished(batch, fetchedAt, full));
    }

    Future<Void> publishChain(ArrayDeque<Pending> chain, long fetchedAt) {
      Pending next = chain.poll();
      if (next == null) {
        return Future.succeededFuture();
      }
      if (OutboxRelay.this.stopped || System.nanoTime() >= publishUntil) {
        return Future.succeededFuture(); // the lease may run out: leave the rest unpublished
      }
      return publishOne(next.message)
          .transform(
              ar -> {
                if (ar.succeeded()) {
                  next.published = true;
                  long micros = next.ageMicros + (System.nanoTime() - fetchedAt) / 1000;
                  metrics.published(ds, sink.name(), micros, next.message.attempt() > 1);
                  return publishChain(chain, fetchedAt);
                }
                metrics.failure(ds, "publish");
                LOG.log(
                    System.Logger.Level.DEBUG,
                    "outbox relay "
                        + relayId()
                        + ": "
                        + next.message
                        + " not published: "
                        + ar.cause());
                next.failed = true;
                return Future.succeededFuture(); // the rest of this key waits for the next poll
              });
    }

    Future<Void> publishOne(OutboxMessage message) {
      Promise<Void> result = Promise.promise();
      long timeout = options.publishTimeout().toMillis();
      long timerId =
          outbox
              .vertx()
              .setTimer(
                  timeout,
                  id ->
                      result.tryFail(
                          new TimeoutException(
                              "sink "
                                  + sink.name()
                                  + " did not acknowledge "
                                  + message
                                  + " within "
                                  + timeout
                                  + " ms")));
      Future<Void> sent;
      try {
        sent = sink.publish(message);
      } catch (RuntimeException e) {
        sent = Future.failedFuture(e);
      }
      sent.onComplete(
          ar -> {
            outbox.vertx().cancelTimer(timerId);
            if (ar.succeeded()) {
              result.tryComplete();
            } else {
              result.tryFail(ar.cause());
            }
          });
      return result.future();
    }

    Future<Poll> markPublished(List<Pending> batch, long fetchedAt, boolean full) {
      List<Pending> done = new ArrayList<>();
      boolean failed = false;
      for (Pending p : batch) {
        if (p.published) {
          done.add(p);
        } else if (p.failed) {
          failed = true;
        }
      }
      published += done.size();
      boolean anyFailed = failed;
      if (done.isEmpty()) {
        return Future.succeededFuture(anyFailed ? Poll.FAILED : Poll.MORE);
      }
      String sql =
          options.deletePublished()
              ? "DELETE FROM " + table + " WHERE id IN " + ids(done)
              : "UPDATE " + table + " SET published_at = NOW(6) WHERE id IN " + ids(done);
      return db.query(sql)
          .execute()
          .onFailure(e -> metrics.failure(ds, "mark"))
          .map(
              rs ->
                  anyFailed
                      ? Poll.FAILED
                      : (full || done.size() < batch.size() ? Poll.MORE : Poll.IDLE));
    }

    Future<Void> stop() {
      if (timer >= 0) {
        outbox.vertx().cancelTimer(timer);
        timer = -1;
      }
      stopped = Promise.promise();
      if (!busy) {
        finishStop();
      }
      return stopped.future();
    }

    void finishStop() {
      if (stopped == null || stopped.future().isComplete()) {
        return;
      }
      publishUntil = 0;
      db.preparedQuery(
              "UPDATE "
                  + options.leaseTable()
                  + " SET expires_at = NOW(6) - INTERVAL 1 SECOND WHERE name = ? AND owner = ?")
          .execute(Tuple.of(leaseName, relayId()))
          .onComplete(ar -> stopped.tryComplete());
    }

    Pending pending(Row row) {
      JsonObject headerJson = new JsonObject(row.getString("headers"));
      Map<String, String> headers = new LinkedHashMap<>();
      headerJson.forEach(e -> headers.put(e.getKey(), String.valueOf(e.getValue())));
      int attempt = row.getInteger("attempts") + 1;
      headers.put(OutboxMessage.DATA_SOURCE, ds);
      headers.put(OutboxMessage.ATTEMPT, Integer.toString(attempt));
      Buffer payload = row.getBuffer("payload");
      OutboxMessage message =
          OutboxMessage.restore(
              row.getString("message_id"),
              row.getString("destination"),
              row.getValue("aggregate_key"),
              payload,
              "json".equals(row.getString("content_type")),
              Collections.unmodifiableMap(headers),
              attempt);
      Long age = row.getLong("age_us");
      return new Pending(row.getLong("id"), message, age == null ? 0 : age);
    }
  }

  private static String ids(List<Pending> batch) {
    StringBuilder sb = new StringBuilder("(");
    for (int i = 0; i < batch.size(); i++) {
      if (i > 0) {
        sb.append(',');
      }
      sb.append(batch.get(i).id);
    }
    return sb.append(')').toString();
  }

  private enum Poll {
    MORE,
    IDLE,
    FAILED,
    NO_LEASE
  }

  private static final class Pending {
    final long id;
    final OutboxMessage message;
    final long ageMicros;
    boolean published;
    boolean failed;

    Pending(long id, OutboxMessage message, long ageMicros) {
      this.id = id;
      this.message = message;
      this.ageMicros = ageMicros;
    }
  }
}
