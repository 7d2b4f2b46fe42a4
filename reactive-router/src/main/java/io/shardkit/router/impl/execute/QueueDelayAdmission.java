package io.shardkit.router.impl.execute;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Timer;
import io.shardkit.router.ShardOverloadedException;
import io.shardkit.router.impl.rewrite.Rewriter;
import io.shardkit.router.impl.rewrite.SqlUnit;
import io.shardkit.router.spi.QueueDelayLimit;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.SqlConnection;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
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
 *
 * <p>Each read replica has a limit of its own, on the same rule, for the reads it serves (plain
 * reads of the pool outside transactions): a new read whose data source's healthy replicas are all
 * at their limits is refused with a {@link ShardOverloadedException} naming the data source and the
 * replica, before anything is sent; while one of them is below its limit, the read goes there (the
 * load balancer's choice first). A read is not moved to the primary: the primary's connections are
 * its writes' and its transactions', and a replica's overload would become theirs (a read goes to
 * the primary only when no replica is healthy, and is then admitted as one of the primary's
 * statements).
 */
final class QueueDelayAdmission {

  private final Map<String, Gate> primaries = new LinkedHashMap<>();

  /** Cancels statements whose caller's deadline passed ({@link StatementCancel}). */
  private final StatementCancel cancel;

  /** Built once, read only afterwards (from any thread). */
  private final Map<ReadReplicas.Member, Gate> replicas = new IdentityHashMap<>();

  /** One pool under admission: a data source's primary, or one of its read replicas. */
  static final class Gate {
    final String dataSource;
    final String replica; // null: the primary
    final Pool pool;
    final io.vertx.mysqlclient.MySQLConnectOptions server; // where its statements are killed
    final QueueDelayLimit limit;
    final Counter refused;
    final Timer waits;

    Gate(
        String dataSource,
        String replica,
        Pool pool,
        io.vertx.mysqlclient.MySQLConnectOptions server,
        QueueDelayLimit limit,
        Counter refused,
        Timer waits) {
      this.dataSource = dataSource;
      this.replica = replica;
      this.pool = pool;
      this.server = server;
      this.limit = limit;
      this.refused = refused;
      this.waits = waits;
    }

    /**
     * A connection is asked for ({@code growing}: {@link #growing()} just before): counted
     * outstanding from now; returns the time asked.
     */
    long asked(boolean growing) {
      long asked = System.nanoTime();
      limit.asked(growing);
      return asked;
    }

    /**
     * Whether a request made now gets a connection of its own being set up rather than waiting
     * behind others: the pool's connections and the requests already waiting are fewer than its
     * {@code maxSize} (the limit's floor). Asked before the request is counted.
     */
    boolean growing() {
      return limit.growing(pool.size(), limit.floor());
    }

    /**
     * The connection asked for at {@code asked} came: the wait is measured. A wait above the target
     * for a request made while the pool was {@link #growing} was a connection's set-up, not a
     * queue: it is no sample (a cold pool under a first burst would otherwise look like a standing
     * queue).
     */
    void got(long asked, boolean growing) {
      long now = System.nanoTime();
      limit.got(asked, now, growing);
      waits.record(now - asked, TimeUnit.NANOSECONDS);
    }

    /** No connection came for the request made {@code growing}: the count ends. */
    void gotNone(boolean growing) {
      limit.gotNone(growing);
      limit.done();
    }
  }

  /**
   * @param pools the data sources' pools
   * @param maxSizes each pool's connections: the floor of its limit
   * @param maxWaitQueueSizes each pool's wait queue (negative: unbounded); connections + queue are
   *     the ceiling
   * @param readReplicas the data sources' read replicas (each gets a limit of its own on its pool's
   *     sizes), or null
   */
  QueueDelayAdmission(
      Map<String, Pool> pools,
      Map<String, io.vertx.mysqlclient.MySQLConnectOptions> servers,
      StatementCancel cancel,
      Map<String, Integer> maxSizes,
      Map<String, Integer> maxWaitQueueSizes,
      long targetNanos,
      long intervalNanos,
      RouterMetrics metrics,
      ReadReplicas readReplicas) {
    this.cancel = cancel;
    long now = System.nanoTime();
    pools.forEach(
        (ds, pool) -> {
          QueueDelayLimit limit =
              limit(maxSizes.get(ds), maxWaitQueueSizes.get(ds), targetNanos, intervalNanos, now);
          metrics.admissionLimit(ds, limit); // held strongly by its gate (Micrometer's is weak)
          primaries.put(
              ds,
              new Gate(
                  ds,
                  null,
                  pool,
                  servers.get(ds),
                  limit,
                  metrics.queueRefused(ds),
                  metrics.connectionWait(ds)));
        });
    if (readReplicas != null) {
      for (ReadReplicas.Member m : readReplicas.members()) {
        QueueDelayLimit limit =
            limit(
                m.poolOptions.getMaxSize(),
                m.poolOptions.getMaxWaitQueueSize(),
                targetNanos,
                intervalNanos,
                now);
        metrics.replicaAdmissionLimit(m.dataSource, m.name, limit);
        replicas.put(
            m,
            new Gate(
                m.dataSource,
                m.name,
                m.pool,
                m.connect,
                limit,
                metrics.replicaQueueRefused(m.dataSource, m.name),
                metrics.replicaConnectionWait(m.dataSource, m.name)));
      }
    }
  }

  private static QueueDelayLimit limit(
      int maxSize, int maxWaitQueueSize, long targetNanos, long intervalNanos, long now) {
    int floor = Math.max(1, maxSize);
    int ceiling =
        (int)
            Math.min(
                Integer.MAX_VALUE,
                (long) floor + (maxWaitQueueSize < 0 ? 1 << 20 : maxWaitQueueSize));
    return new QueueDelayLimit(floor, Math.max(floor, ceiling), targetNanos, intervalNanos, now);
  }

  /** The gate of {@code dataSource}'s primary. */
  Gate primary(String dataSource) {
    return primaries.get(dataSource);
  }

  /** The gate of a read replica. */
  Gate replica(ReadReplicas.Member replica) {
    return replicas.get(replica);
  }

  /**
   * Refuses (throws {@link ShardOverloadedException}) when a pool that {@code routed} would run on
   * is at its limit; nothing is counted in. A read a replica may serve ({@code replicas} given) is
   * checked against the data source's healthy replicas: refused when every one of them is at its
   * limit; against the primary's limit when none is healthy (it then runs there).
   *
   * @param replicas the pool's read replicas, or null
   */
  void check(Rewriter.Routed routed, ReadReplicas replicas) {
    boolean replicaRead = replicas != null && StatementRunner.replicaRead(routed);
    long now = 0;
    for (SqlUnit unit : routed.units()) {
      String ds = unit.dataSource();
      if (replicaRead && replicas.has(ds)) {
        List<ReadReplicas.Member> healthy = replicas.healthy(ds);
        if (!healthy.isEmpty()) {
          if (now == 0) {
            now = System.nanoTime();
          }
          checkReplicas(ds, healthy, now);
          continue;
        }
        // no healthy replica: the read runs on the primary, admitted there
      }
      Gate g = primaries.get(ds);
      if (g == null) {
        continue;
      }
      if (now == 0) {
        now = System.nanoTime();
      }
      if (!g.limit.admits(now)) {
        g.refused.increment();
        if (g.limit.limit(now) >= g.limit.ceiling()) {
          // no standing queue: the pool's wait queue is full, refused as the pool would
          throw new ShardOverloadedException(ds, null);
        }
        throw ShardOverloadedException.queueing(
            ds,
            TimeUnit.NANOSECONDS.toMillis(g.limit.lastMinWaitNanos()),
            TimeUnit.NANOSECONDS.toMillis(g.limit.targetNanos()),
            TimeUnit.NANOSECONDS.toMillis(g.limit.intervalNanos()),
            g.limit.limit(now));
      }
    }
  }

  /** Refuses the read when every healthy replica of {@code ds} is at its limit. */
  private void checkReplicas(String ds, List<ReadReplicas.Member> healthy, long now) {
    for (ReadReplicas.Member m : healthy) {
      Gate g = replicas.get(m);
      if (g == null || g.limit.admits(now)) {
        return;
      }
    }
    List<String> names = new ArrayList<>(healthy.size());
    List<String> details = new ArrayList<>(healthy.size());
    for (ReadReplicas.Member m : healthy) {
      QueueDelayLimit l = replicas.get(m).limit;
      names.add(m.name);
      int limit = l.limit(now);
      details.add(
          limit >= l.ceiling()
              ? m.name
                  + ": all its connections are busy and its wait queue is full"
                  + " (PoolOptions.maxWaitQueueSize)"
              : m.name
                  + ": its reads waited at least "
                  + TimeUnit.NANOSECONDS.toMillis(l.lastMinWaitNanos())
                  + " ms for a connection over the last "
                  + TimeUnit.NANOSECONDS.toMillis(l.intervalNanos())
                  + " ms (target "
                  + TimeUnit.NANOSECONDS.toMillis(l.targetNanos())
                  + " ms, ShardedPool.Builder.queueDelayTarget) and "
                  + limit
                  + " are already waiting or running, its limit now");
    }
    replicas.get(healthy.get(0)).refused.increment();
    throw ShardOverloadedException.replicaQueueing(ds, names, details);
  }

  /**
   * A healthy replica of {@code dataSource} for a read, or null (the read goes to the primary): the
   * load balancer's choice, or when that one is at its limit the next healthy one below its limit.
   */
  ReadReplicas.Member pickReplica(String dataSource, ReadReplicas readReplicas) {
    long now = System.nanoTime();
    return readReplicas.pick(
        dataSource,
        m -> {
          Gate g = replicas.get(m);
          return g == null || g.limit.admits(now);
        });
  }

  /**
   * Runs {@code op} on a connection of {@code dataSource}'s primary pool, measuring how long the
   * pool took to hand it over, and releases the connection when {@code op}'s future completes.
   */
  <T> Future<T> run(String dataSource, Function<SqlClient, Future<T>> op) {
    return run(primaries.get(dataSource), op);
  }

  /** As {@link #run(String, Function)}, on the gate's pool (a primary's or a replica's). */
  <T> Future<T> run(Gate gate, Function<SqlClient, Future<T>> op) {
    if (StatementCancel.inScope()) {
      return runWatched(gate, op);
    }
    boolean growing = gate.growing();
    long asked = gate.asked(growing);
    // one stage: the connection's answer, then op's (released before the caller hears back)
    return ask(gate.pool::getConnection)
        .transform(
            ar -> {
              if (!came(gate, asked, growing, ar)) {
                return Future.failedFuture(ar.cause());
              }
              SqlConnection c = ar.result();
              Future<T> out;
              try {
                out = op.apply(c);
              } catch (RuntimeException failed) {
                out = Future.failedFuture(failed);
              }
              out.onComplete(
                  done -> {
                    released(gate);
                    c.close();
                  });
              return out;
            });
  }

  /**
   * {@link #run} for a caller with a deadline: a statement still waiting for its connection at the
   * deadline is not sent, one running then is killed ({@link StatementCancel}).
   */
  private <T> Future<T> runWatched(Gate gate, Function<SqlClient, Future<T>> op) {
    StatementCancel.Watch watch = cancel.watch(gate.server);
    boolean growing = gate.growing();
    long asked = gate.asked(growing);
    Future<T> out =
        ask(gate.pool::getConnection)
            .transform(
                ar ->
                    came(gate, asked, growing, ar)
                        ? cancel.run(watch, ar.result(), op, () -> released(gate))
                        : Future.failedFuture(ar.cause()));
    StatementCancel.bound(out, watch);
    return out;
  }

  /**
   * Takes a connection of the gate's pool through {@code connect} (for {@link #run}, or for a
   * stream, which holds it until it ends), timing the wait: the taker counts as outstanding on the
   * gate from now until {@link #released} (call it once, when the connection is let go). When no
   * connection comes, the count ends here and {@link #released} must not be called.
   */
  Future<SqlConnection> take(
      Gate gate, java.util.function.Supplier<Future<SqlConnection>> connect) {
    boolean growing = gate.growing();
    long asked = gate.asked(growing);
    return ask(connect)
        .transform(
            ar ->
                came(gate, asked, growing, ar)
                    ? Future.succeededFuture(ar.result())
                    : Future.failedFuture(ar.cause()));
  }

  /** The pool's answer to a request for a connection; a throw becomes a failed future. */
  private static Future<SqlConnection> ask(
      java.util.function.Supplier<Future<SqlConnection>> connect) {
    try {
      return connect.get();
    } catch (RuntimeException failed) {
      return Future.failedFuture(failed);
    }
  }

  /** Counts the answer to a request made at {@code asked}; whether a connection came. */
  private static boolean came(
      Gate gate, long asked, boolean growing, io.vertx.core.AsyncResult<SqlConnection> answer) {
    if (answer.failed()) {
      gate.gotNone(growing);
      return false;
    }
    gate.got(asked, growing);
    return true;
  }

  /** A connection taken by {@link #take} was let go. */
  void released(Gate gate) {
    gate.limit.done();
  }

  /** The data source's limit now (for tests and the gauge). */
  int limit(String dataSource) {
    return primaries.get(dataSource).limit.limit(System.nanoTime());
  }

  int outstanding(String dataSource) {
    return primaries.get(dataSource).limit.outstanding();
  }
}
