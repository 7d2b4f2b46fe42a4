package io.shardkit.router.impl.execute;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.shardkit.router.ReadWriteSplittingOptions;
import io.shardkit.router.ReplicaStatus;
import io.shardkit.router.ShardedPool;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.mysqlclient.MySQLBuilder;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * The read replicas of each data source: their pools, their health and the load balancer that picks
 * one for a read.
 *
 * <p><b>Lag</b> is measured with a heartbeat: every interval the pool writes a growing counter into
 * its own row of the heartbeat table on the primary and notes when the primary acknowledged each
 * value; then it reads the row on every replica. A replica showing value {@code v} while {@code v +
 * 1} is acknowledged lags by at least the time since {@code v + 1} was acknowledged; one showing
 * the last acknowledged value lags by less than the interval. Every time is this process's
 * monotonic clock: no clock of another machine enters the measure.
 */
final class ReadReplicas {

  private static final System.Logger LOG = System.getLogger(ReadReplicas.class.getName());
  private static final int RING = 4096;

  /** One replica: its pool and what the last heartbeat read found. */
  static final class Member {
    final String dataSource;
    final String name;
    final Pool pool;

    /**
     * One connection of its own for the heartbeat read, so that the read never waits behind (or is
     * refused by) the replica's queue of user reads: an overloaded replica is not a lagging one,
     * and marking it down would send all its reads to the primary.
     */
    final Pool heartbeat;

    /** Where the replica is (statements past their deadline are killed there). */
    final io.vertx.mysqlclient.MySQLConnectOptions connect;

    final PoolOptions poolOptions;
    final int weight;
    volatile long lagNanos = -1;
    volatile long answeredAt;
    volatile String down = "no heartbeat read yet";
    volatile boolean reading;
    final Counter reads;

    Member(
        String dataSource,
        String name,
        Pool pool,
        Pool heartbeat,
        io.vertx.mysqlclient.MySQLConnectOptions connect,
        PoolOptions poolOptions,
        int weight,
        Counter reads) {
      this.dataSource = dataSource;
      this.name = name;
      this.pool = pool;
      this.heartbeat = heartbeat;
      this.connect = connect;
      this.poolOptions = poolOptions;
      this.weight = weight;
      this.reads = reads;
    }
  }

  /** A data source's primary, its replicas and its heartbeat. */
  private final class Group {
    final String dataSource;
    final Pool primary;
    final List<Member> members = new ArrayList<>();
    final AtomicLong turn = new AtomicLong();
    final long[] ackedAt = new long[RING];
    long beat;
    volatile long acked;
    boolean writing;
    boolean tableReady;
    final Counter primaryReads;

    Group(String dataSource, Pool primary, Counter primaryReads) {
      this.dataSource = dataSource;
      this.primary = primary;
      this.primaryReads = primaryReads;
    }

    void tick() {
      if (!tableReady) {
        if (!writing) {
          writing = true;
          primary
              .query(
                  "CREATE TABLE IF NOT EXISTS "
                      + table
                      + " (writer VARCHAR(64) NOT NULL PRIMARY KEY, beat BIGINT NOT NULL,"
                      + " updated_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)"
                      + " ON UPDATE CURRENT_TIMESTAMP(3))")
              .execute()
              .compose(
                  v ->
                      primary
                          .query(
                              "DELETE FROM " + table + " WHERE updated_at < NOW() - INTERVAL 1 DAY")
                          .execute())
              .onComplete(
                  ar -> {
                    writing = false;
                    if (ar.succeeded()) {
                      tableReady = true;
                    } else {
                      warnOnce(
                          "cannot create heartbeat table "
                              + table
                              + " on the primary of "
                              + dataSource
                              + " ("
                              + ar.cause().getMessage()
                              + "): its replicas get no reads until it can");
                    }
                  });
        }
        return;
      }
      if (!writing) {
        writing = true;
        long next = beat + 1;
        primary
            .preparedQuery(
                "INSERT INTO "
                    + table
                    + " (writer, beat) VALUES (?, ?)"
                    + " ON DUPLICATE KEY UPDATE beat = VALUES(beat)")
            .execute(Tuple.of(writer, next))
            .onComplete(
                ar -> {
                  writing = false;
                  if (ar.succeeded()) {
                    beat = next;
                    ackedAt[(int) (next % RING)] = System.nanoTime();
                    acked = next;
                  }
                });
      }
      for (Member m : members) {
        read(m);
      }
    }

    private void read(Member m) {
      long now = System.nanoTime();
      if (m.reading) {
        if (m.answeredAt != 0 && now - m.answeredAt > maxLagNanos + intervalNanos) {
          m.down =
              "its heartbeat read has not answered for " + (now - m.answeredAt) / 1_000_000 + " ms";
        }
        return;
      }
      m.reading = true;
      long ackedBefore = acked;
      m.heartbeat
          .preparedQuery("SELECT beat FROM " + table + " WHERE writer = ?")
          .execute(Tuple.of(writer))
          .onComplete(
              ar -> {
                m.reading = false;
                long at = System.nanoTime();
                if (ar.failed()) {
                  m.down = "its heartbeat read failed: " + ar.cause().getMessage();
                  m.lagNanos = -1;
                  return;
                }
                Row row = ar.result().iterator().hasNext() ? ar.result().iterator().next() : null;
                long visible = row == null ? 0 : row.getLong(0);
                m.answeredAt = at;
                if (ackedBefore == 0) {
                  m.down = "no heartbeat acknowledged by the primary yet";
                  m.lagNanos = -1;
                  return;
                }
                long lag;
                if (visible >= ackedBefore) {
                  lag = 0;
                } else {
                  long missing = Math.max(visible + 1, ackedBefore - RING + 1);
                  lag = at - ackedAt[(int) (missing % RING)];
                }
                m.lagNanos = lag;
                m.down =
                    lag > maxLagNanos
                        ? "it lags "
                            + lag / 1_000_000
                            + " ms behind its primary (maximum "
                            + maxLagNanos / 1_000_000
                            + " ms)"
                        : null;
              });
    }

    /** The members that get reads now (empty when none). */
    List<Member> healthy() {
      List<Member> healthy = null;
      long now = System.nanoTime();
      for (Member m : members) {
        if (m.down == null && now - m.answeredAt <= maxLagNanos + intervalNanos) {
          if (healthy == null) {
            healthy = new ArrayList<>(members.size());
          }
          healthy.add(m);
        }
      }
      return healthy == null ? List.of() : healthy;
    }

    /**
     * A healthy member chosen by the load balancer, or null. With {@code admits} (adaptive
     * admission), a chosen member it does not admit gives way to the next healthy member that it
     * admits, in order; when it admits none, the balancer's choice stays (the statement was let in
     * by {@link QueueDelayAdmission#check} just before).
     */
    Member pick(java.util.function.Predicate<Member> admits) {
      List<Member> healthy = healthy();
      if (healthy.isEmpty()) {
        return null;
      }
      int chosen = chosen(healthy);
      if (admits != null && !admits.test(healthy.get(chosen))) {
        for (int i = 1; i < healthy.size(); i++) {
          Member next = healthy.get((chosen + i) % healthy.size());
          if (admits.test(next)) {
            return next;
          }
        }
      }
      return healthy.get(chosen);
    }

    private int chosen(List<Member> healthy) {
      switch (options.loadBalancer()) {
        case RANDOM:
          return ThreadLocalRandom.current().nextInt(healthy.size());
        case WEIGHT:
          int total = 0;
          for (Member m : healthy) {
            total += m.weight;
          }
          int r = ThreadLocalRandom.current().nextInt(total);
          for (int i = 0; i < healthy.size(); i++) {
            r -= healthy.get(i).weight;
            if (r < 0) {
              return i;
            }
          }
          return healthy.size() - 1;
        default:
          return (int) Math.floorMod(turn.getAndIncrement(), (long) healthy.size());
      }
    }
  }

  private final Vertx vertx;
  private final ReadWriteSplittingOptions options;
  private final String table;
  private final String writer = UUID.randomUUID().toString();
  private final long maxLagNanos;
  private final long intervalNanos;
  private final Map<String, Group> groups = new LinkedHashMap<>();
  private final long timer;
  private volatile boolean warned;

  private ReadReplicas(
      Vertx vertx,
      Map<String, List<ShardedPool.Builder.Replica>> specs,
      ReadWriteSplittingOptions options,
      Function<String, Pool> primaries,
      MeterRegistry registry,
      java.util.function.UnaryOperator<io.vertx.mysqlclient.MySQLConnectOptions> connects,
      io.vertx.core.Handler<io.vertx.sqlclient.SqlConnection> connectHandler) {
    this.vertx = vertx;
    this.options = options;
    this.table = options.heartbeatTable();
    this.maxLagNanos = options.maxReplicationLag().toNanos();
    this.intervalNanos = options.heartbeatInterval().toNanos();
    for (Map.Entry<String, List<ShardedPool.Builder.Replica>> e : specs.entrySet()) {
      String ds = e.getKey();
      Group group =
          new Group(
              ds,
              primaries.apply(ds),
              Counter.builder("shardkit.router.replica.reads")
                  .description("reads a data source's replicas could serve, by where they ran")
                  .tags("shard", ds, "replica", "primary")
                  .register(registry));
      for (ShardedPool.Builder.Replica spec : e.getValue()) {
        io.vertx.mysqlclient.MySQLConnectOptions connect = connects.apply(spec.connect());
        Pool pool =
            MySQLBuilder.pool()
                .with(spec.pool())
                .connectingTo(connect)
                .withConnectHandler(connectHandler) // thread ids, for a kill past a deadline
                .using(vertx)
                .build();
        Pool heartbeat =
            MySQLBuilder.pool()
                .with(new PoolOptions().setMaxSize(1).setMaxWaitQueueSize(1))
                .connectingTo(connect)
                .using(vertx)
                .build();
        Member m =
            new Member(
                ds,
                spec.name(),
                pool,
                heartbeat,
                connect,
                spec.pool(),
                spec.weight(),
                Counter.builder("shardkit.router.replica.reads")
                    .description("reads a data source's replicas could serve, by where they ran")
                    .tags("shard", ds, "replica", spec.name())
                    .register(registry));
        Gauge.builder(
                "shardkit.router.replica.lag",
                m,
                x -> x.lagNanos < 0 ? Double.NaN : x.lagNanos / 1e9)
            .description("how far the replica is behind its primary, from the heartbeat")
            .baseUnit("seconds")
            .tags("shard", ds, "replica", spec.name())
            .register(registry);
        Gauge.builder("shardkit.router.replica.healthy", m, x -> status(group, x).healthy() ? 1 : 0)
            .description(
                "1 while the replica gets reads, 0 while it lags too far or does not answer")
            .tags("shard", ds, "replica", spec.name())
            .register(registry);
        group.members.add(m);
      }
      groups.put(ds, group);
    }
    this.timer =
        groups.isEmpty()
            ? -1
            : vertx.setPeriodic(
                0,
                Math.max(10, options.heartbeatInterval().toMillis()),
                id -> groups.values().forEach(Group::tick));
  }

  static ReadReplicas create(
      Vertx vertx,
      Map<String, List<ShardedPool.Builder.Replica>> specs,
      ReadWriteSplittingOptions options,
      Function<String, Pool> primaries,
      MeterRegistry registry,
      java.util.function.UnaryOperator<io.vertx.mysqlclient.MySQLConnectOptions> connects,
      io.vertx.core.Handler<io.vertx.sqlclient.SqlConnection> connectHandler) {
    return new ReadReplicas(vertx, specs, options, primaries, registry, connects, connectHandler);
  }

  boolean has(String dataSource) {
    return groups.containsKey(dataSource);
  }

  /**
   * A healthy replica of {@code dataSource} for a read, or null (then the read goes to the
   * primary).
   */
  Member pick(String dataSource) {
    return pick(dataSource, null);
  }

  /**
   * As {@link #pick(String)}, preferring a healthy replica that {@code admits} (adaptive admission:
   * one below its limit) to the load balancer's choice when that one is not.
   */
  Member pick(String dataSource, java.util.function.Predicate<Member> admits) {
    Group group = groups.get(dataSource);
    if (group == null) {
      return null;
    }
    Member m = group.pick(admits);
    (m == null ? group.primaryReads : m.reads).increment();
    return m;
  }

  /** The replicas of {@code dataSource} that get reads now, in their order (empty: none). */
  List<Member> healthy(String dataSource) {
    Group group = groups.get(dataSource);
    return group == null ? List.of() : group.healthy();
  }

  /** Every replica of every data source, in order. */
  List<Member> members() {
    List<Member> out = new ArrayList<>();
    for (Group g : groups.values()) {
      out.addAll(g.members);
    }
    return out;
  }

  /** The replica could not be reached: no reads until a heartbeat read succeeds again. */
  void unreachable(Member m, Throwable cause) {
    m.down = "it could not be reached: " + cause.getMessage();
    m.answeredAt = 0;
    groups.get(m.dataSource).primaryReads.increment();
  }

  Pool pool(String replica) {
    for (Group g : groups.values()) {
      for (Member m : g.members) {
        if (m.name.equals(replica)) {
          return m.pool;
        }
      }
    }
    throw new IllegalArgumentException(
        "no read replica named "
            + replica
            + " (replicas: "
            + status().stream().map(ReplicaStatus::replica).toList()
            + ")");
  }

  List<ReplicaStatus> status() {
    List<ReplicaStatus> out = new ArrayList<>();
    for (Group g : groups.values()) {
      for (Member m : g.members) {
        out.add(status(g, m));
      }
    }
    return out;
  }

  private ReplicaStatus status(Group g, Member m) {
    long now = System.nanoTime();
    String reason = m.down;
    if (reason == null && now - m.answeredAt > maxLagNanos + intervalNanos) {
      reason =
          "its heartbeat read has not answered for " + (now - m.answeredAt) / 1_000_000 + " ms";
    }
    return new ReplicaStatus(
        g.dataSource,
        m.name,
        reason == null,
        m.lagNanos < 0 ? null : Duration.ofNanos(m.lagNanos),
        reason);
  }

  private void warnOnce(String message) {
    if (!warned) {
      warned = true;
      LOG.log(System.Logger.Level.WARNING, "shardkit read/write splitting: " + message);
    }
  }

  Future<Void> close() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
    List<Future<Void>> closes = new ArrayList<>();
    for (Group g : groups.values()) {
      if (g.tableReady) {
        closes.add(
            g.primary
                .preparedQuery("DELETE FROM " + table + " WHERE writer = ?")
                .execute(Tuple.of(writer))
                .<Void>mapEmpty()
                .otherwiseEmpty());
      }
    }
    return Future.join(closes)
        .transform(
            ar -> {
              List<Future<Void>> pools = new ArrayList<>();
              for (Group g : groups.values()) {
                for (Member m : g.members) {
                  pools.add(m.pool.close());
                  pools.add(m.heartbeat.close());
                }
              }
              return Future.join(pools).mapEmpty();
            });
  }
}
