package io.shardkit.router.impl.execute;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Timer;
import io.shardkit.router.ShardOverloadedException;
import io.shardkit.router.impl.rewrite.Rewriter;
import io.shardkit.router.impl.rewrite.SqlUnit;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.SqlConnection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Adaptive admission of the pool's statements per data source, after routing and before a
 * connection is asked for ({@code ShardedPool.Builder.queueDelayTarget}): each data source's
 * statements run on a connection taken from its pool ({@code getConnection}, then released), the
 * time until the pool hands it over is the statement's wait, and a {@link QueueDelayLimit} of the
 * data source turns the waits into a limit of its statements outstanding (waiting or running). A
 * new statement of the pool beyond a data source's limit is refused with a {@link
 * ShardOverloadedException} naming it, before anything is sent anywhere; statements of open
 * connections and transactions are never refused by it (the caller decides: {@link #check} is only
 * called for the pool's own statements).
 */
final class QueueDelayAdmission {

  private final Map<String, Entry> entries = new LinkedHashMap<>();

  private static final class Entry {
    final String dataSource;
    final Pool pool;
    final QueueDelayLimit limit;
    final Counter refused;
    final Timer waits;

    Entry(String dataSource, Pool pool, QueueDelayLimit limit, Counter refused, Timer waits) {
      this.dataSource = dataSource;
      this.pool = pool;
      this.limit = limit;
      this.refused = refused;
      this.waits = waits;
    }

    /** A connection is asked for: counted outstanding from now; returns the time asked. */
    long asked() {
      long asked = System.nanoTime();
      limit.asked();
      return asked;
    }

    /** The connection asked for at {@code asked} came: the wait is measured. */
    void got(long asked) {
      long now = System.nanoTime();
      limit.got(asked, now);
      waits.record(now - asked, TimeUnit.NANOSECONDS);
    }

    /** No connection came: the count ends. */
    void gotNone() {
      limit.gotNone();
      limit.done();
    }
  }

  /**
   * @param pools the data sources' pools
   * @param maxSizes each pool's connections: the floor of its limit
   * @param maxWaitQueueSizes each pool's wait queue (negative: unbounded); connections + queue are
   *     the ceiling
   */
  QueueDelayAdmission(
      Map<String, Pool> pools,
      Map<String, Integer> maxSizes,
      Map<String, Integer> maxWaitQueueSizes,
      long targetNanos,
      long intervalNanos,
      RouterMetrics metrics) {
    long now = System.nanoTime();
    pools.forEach(
        (ds, pool) -> {
          int floor = Math.max(1, maxSizes.get(ds));
          int queue = maxWaitQueueSizes.get(ds);
          int ceiling =
              (int) Math.min(Integer.MAX_VALUE, (long) floor + (queue < 0 ? 1 << 20 : queue));
          QueueDelayLimit limit =
              new QueueDelayLimit(floor, Math.max(floor, ceiling), targetNanos, intervalNanos, now);
          metrics.admissionLimit(ds, limit); // held strongly by its entry (Micrometer's is weak)
          entries.put(
              ds, new Entry(ds, pool, limit, metrics.queueRefused(ds), metrics.connectionWait(ds)));
        });
  }

  /**
   * Refuses (throws {@link ShardOverloadedException}) when a data source of {@code routed} that the
   * statement would run on through its pool is at its limit; nothing is counted in.
   *
   * @param replicas the pool's read replicas, or null: a read a replica serves is not checked
   *     against the primary's limit
   */
  void check(Rewriter.Routed routed, ReadReplicas replicas) {
    boolean replicaRead = replicas != null && StatementRunner.replicaRead(routed);
    long now = 0;
    for (SqlUnit unit : routed.units()) {
      String ds = unit.dataSource();
      if (replicaRead && replicas.has(ds)) {
        continue;
      }
      Entry e = entries.get(ds);
      if (e == null) {
        continue;
      }
      if (now == 0) {
        now = System.nanoTime();
      }
      if (!e.limit.admits(now)) {
        e.refused.increment();
        if (e.limit.limit(now) >= e.limit.ceiling()) {
          // no standing queue: the pool's wait queue is full, refused as the pool would
          throw new ShardOverloadedException(ds, null);
        }
        throw ShardOverloadedException.queueing(
            ds,
            TimeUnit.NANOSECONDS.toMillis(e.limit.lastMinWaitNanos()),
            TimeUnit.NANOSECONDS.toMillis(e.limit.targetNanos()),
            TimeUnit.NANOSECONDS.toMillis(e.limit.intervalNanos()),
            e.limit.limit(now));
      }
    }
  }

  /**
   * Runs {@code op} on a connection of {@code dataSource}'s pool, measuring how long the pool took
   * to hand it over, and releases the connection when {@code op}'s future completes.
   */
  <T> Future<T> run(String dataSource, Function<SqlClient, Future<T>> op) {
    Entry e = entries.get(dataSource);
    long asked = e.asked();
    Future<SqlConnection> connection;
    try {
      connection = e.pool.getConnection();
    } catch (RuntimeException failed) {
      connection = Future.failedFuture(failed);
    }
    // one stage: the connection's answer, then op's (released before the caller hears back)
    return connection.transform(
        ar -> {
          if (ar.failed()) {
            e.gotNone();
            return Future.failedFuture(ar.cause());
          }
          e.got(asked);
          SqlConnection c = ar.result();
          Future<T> out;
          try {
            out = op.apply(c);
          } catch (RuntimeException failed) {
            out = Future.failedFuture(failed);
          }
          out.onComplete(
              done -> {
                e.limit.done();
                c.close();
              });
          return out;
        });
  }

  /**
   * Takes a connection of {@code dataSource}'s pool through {@code connect} (for {@link #run}, or
   * for a stream, which holds it until it ends), timing the wait: the taker counts as outstanding
   * on the data source from now until {@link #released} (call it once, when the connection is let
   * go). When no connection comes, the count ends here and {@link #released} must not be called.
   */
  Future<SqlConnection> take(
      String dataSource, java.util.function.Supplier<Future<SqlConnection>> connect) {
    Entry e = entries.get(dataSource);
    long asked = e.asked();
    Future<SqlConnection> connection;
    try {
      connection = connect.get();
    } catch (RuntimeException failed) {
      connection = Future.failedFuture(failed);
    }
    return connection.transform(
        ar -> {
          if (ar.failed()) {
            e.gotNone();
            return Future.failedFuture(ar.cause());
          }
          e.got(asked);
          return Future.succeededFuture(ar.result());
        });
  }

  /** A connection taken by {@link #take} was let go. */
  void released(String dataSource) {
    entries.get(dataSource).limit.done();
  }

  /** The data source's limit now (for tests and the gauge). */
  int limit(String dataSource) {
    return entries.get(dataSource).limit.limit(System.nanoTime());
  }

  int outstanding(String dataSource) {
    return entries.get(dataSource).limit.outstanding();
  }
}
