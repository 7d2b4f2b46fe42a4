package io.shardkit.router.replica;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardkit.router.ReadWriteSplittingOptions;
import io.shardkit.router.ReplicaStatus;
import io.shardkit.router.ShardOverloadedException;
import io.shardkit.router.ShardedPool;
import io.shardkit.router.ShardedRowStream;
import io.shardkit.router.ShardingRules;
import io.shardkit.testkit.ReplicatedShards;
import io.shardkit.testkit.Shard;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Adaptive admission per read replica ({@code queueDelayTarget}) on real MariaDB replication: one
 * primary server holding the databases of ds_0 and ds_1, two replica servers following it; ds_0's
 * replica {@code ds_0_r1} is on the first (server id 2, 2 connections), ds_1's {@code ds_1_r1} on
 * the second (server id 3). A standing queue of slow reads on ds_0_r1 makes the pool's new reads
 * there (statements and streams) be refused at once, typed and naming the replica, while ds_1's
 * reads are served by ds_1_r1 and ds_0's primary serves its own work; once the queue is gone,
 * ds_0's reads are let in on ds_0_r1 again.
 */
class ReplicaAdmissionTest {

  private static final String POINT = "SELECT id, @@server_id AS sid FROM t_acct WHERE id = ?";
  private static final String SLOW =
      "SELECT SLEEP(0.02), id, @@server_id AS sid FROM t_acct WHERE id = ?";

  /** 200 ms on the first replica server (server id 2), at once on the others. */
  private static final String SLOW_ON_FIRST_REPLICA =
      "SELECT SLEEP(IF(@@server_id = 2, 0.2, 0)), id, @@server_id AS sid FROM t_acct WHERE id = ?";

  private static final String STREAM_DS0 =
      "SELECT id, @@server_id AS sid FROM t_acct WHERE id IN (0, 2) ORDER BY id";
  private static final String STREAM_DS1 = "SELECT id, @@server_id AS sid FROM t_acct WHERE id = 1";

  static ReplicatedShards servers;
  static Vertx vertx;

  @BeforeAll
  static void start() {
    servers = ReplicatedShards.start(2);
    Shard primary = servers.primary();
    for (String db : new String[] {"ra_0", "ra_1"}) {
      primary.execute(null, "CREATE DATABASE " + db);
      primary.execute(db, "CREATE TABLE t_acct (id INT PRIMARY KEY, balance INT NOT NULL)");
    }
    primary.execute("ra_0", "INSERT INTO t_acct VALUES (0, 100), (2, 200)");
    primary.execute("ra_1", "INSERT INTO t_acct VALUES (1, 100)");
    servers.awaitCaughtUp(Duration.ofSeconds(30));
    vertx = Vertx.vertx();
    io.shardkit.router.impl.parse.StatementParser.warmUp();
  }

  @AfterAll
  static void stop() throws Exception {
    if (vertx != null) {
      await(vertx.close());
    }
    if (servers != null) {
      servers.close();
    }
  }

  private static ShardedPool build(SimpleMeterRegistry meters) {
    ShardingRules rules =
        ShardingRules.builder()
            .table("t_acct", t -> t.dataNodes("ds_${0..1}.t_acct").databaseStrategy("id", "mod"))
            .build();
    PoolOptions primaries = new PoolOptions().setMaxSize(4);
    return ShardedPool.builder(vertx)
        .rules(rules)
        .dataSource("ds_0", servers.primary().connectOptions("ra_0"), primaries)
        .dataSource("ds_1", servers.primary().connectOptions("ra_1"), primaries)
        // ds_0_r1 serves about 100 slow reads a second (2 connections, 20 ms each); ds_1_r1 has
        // room to spare (8 connections for a point read every 10 ms), so that a hiccup of this
        // shared machine does not make a queue there too
        .replica(
            "ds_0",
            "ds_0_r1",
            servers.replica(0).connectOptions("ra_0"),
            new PoolOptions().setMaxSize(2))
        .replica(
            "ds_1",
            "ds_1_r1",
            servers.replica(1).connectOptions("ra_1"),
            new PoolOptions().setMaxSize(8))
        // a lag bound a loaded machine does not reach: the replicas must stay healthy
        .readWriteSplitting(
            ReadWriteSplittingOptions.defaults()
                .withHeartbeatInterval(Duration.ofMillis(50))
                .withMaxReplicationLag(Duration.ofSeconds(20)))
        .queueDelayTarget(Duration.ofMillis(10))
        .meterRegistry(meters)
        .build();
  }

  private static void awaitHealthy(ShardedPool pool) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (System.nanoTime() < deadline) {
      if (pool.replicaStatus().stream().allMatch(ReplicaStatus::healthy)) {
        return;
      }
      Thread.sleep(20);
    }
    throw new AssertionError("replicas never healthy: " + pool.replicaStatus());
  }

  private static double limit(SimpleMeterRegistry meters, String replica) {
    return meters
        .get("shardkit.pool.replica.admission.limit")
        .tag("replica", replica)
        .gauge()
        .value();
  }

  private static double refused(SimpleMeterRegistry meters, String replica) {
    return meters.get("shardkit.pool.replica.refused").tag("replica", replica).counter().count();
  }

  private static boolean refusedByR1(Throwable e) {
    return e instanceof ShardOverloadedException o
        && "ds_0".equals(o.dataSource())
        && "ds_0_r1".equals(o.replica());
  }

  private static int sid(ShardedPool pool, int id) throws Exception {
    RowSet<Row> rs = await(pool.preparedQuery(POINT).execute(Tuple.of(id)));
    return rs.iterator().next().getInteger("sid");
  }

  @Test
  void aStandingQueueOnOneReplicaRefusesItsNewReadsAtOnceWhileTheOtherDataSourcesReplicaServes()
      throws Exception {
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    ShardedPool pool = build(meters);
    try {
      awaitHealthy(pool);
      assertThat(sid(pool, 0)).as("ds_0's reads on ds_0_r1").isEqualTo(2);
      assertThat(sid(pool, 1)).as("ds_1's reads on ds_1_r1").isEqualTo(3);
      assertThat(limit(meters, "ds_0_r1")).as("2 connections + 1024 waiters").isEqualTo(1026);

      // every 2 ms a slow read on ds_0 (5 times what ds_0_r1 serves), every 10 ms a point read on
      // ds_1
      List<Future<?>> all = new CopyOnWriteArrayList<>();
      List<Throwable> r1Refusals = new CopyOnWriteArrayList<>();
      List<Throwable> otherFailures = new CopyOnWriteArrayList<>();
      List<Integer> ds1Servers = new CopyOnWriteArrayList<>();
      AtomicInteger ds1ServedAfterRefusal = new AtomicInteger();
      AtomicInteger refusedAtOnce = new AtomicInteger();
      AtomicInteger r1Served = new AtomicInteger();
      AtomicReference<Throwable> streamRefusal = new AtomicReference<>();
      Promise<Void> overloaded = Promise.promise();
      AtomicLong timer = new AtomicLong();
      AtomicInteger tick = new AtomicInteger();
      vertx.runOnContext(
          v ->
              timer.set(
                  vertx.setPeriodic(
                      2,
                      t -> {
                        Future<?> slow = pool.preparedQuery(SLOW).execute(Tuple.of(0));
                        if (slow.failed()) {
                          refusedAtOnce.incrementAndGet();
                        }
                        all.add(
                            slow.onSuccess(rs -> r1Served.incrementAndGet())
                                .onFailure(
                                    e -> (refusedByR1(e) ? r1Refusals : otherFailures).add(e)));
                        if (tick.incrementAndGet() % 5 != 0) {
                          return;
                        }
                        all.add(
                            pool.preparedQuery(POINT)
                                .execute(Tuple.of(1))
                                .onSuccess(
                                    rs -> {
                                      ds1Servers.add(rs.iterator().next().getInteger("sid"));
                                      if (!r1Refusals.isEmpty()
                                          && ds1ServedAfterRefusal.incrementAndGet() >= 40
                                          && r1Refusals.size() >= 200) {
                                        overloaded.tryComplete();
                                      }
                                    })
                                .onFailure(otherFailures::add));
                      })));
      try {
        await(overloaded.future());
        // a new stream on ds_0 is refused the same way, before it takes a connection of ds_0_r1
        // (tried while the queue stands until one is; a stream let in reads its rows there), and
        // a stream on ds_1 is served by ds_1_r1
        for (int i = 0; i < 200 && streamRefusal.get() == null; i++) {
          Future<List<Integer>> read = streamed(pool, STREAM_DS0);
          Throwable failed = failureOrNull(read);
          if (failed == null) {
            assertThat(read.result()).containsExactly(2, 2);
          } else {
            streamRefusal.set(failed);
          }
        }
        assertThat(streamRefusal.get())
            .as("a stream on ds_0 refused while ds_0_r1's queue stands")
            .matches(ReplicaAdmissionTest::refusedByR1, "refused by ds_0_r1's admission")
            .hasMessageContaining("read replica ds_0_r1 of data source ds_0")
            .hasMessageContaining("queueDelayTarget");
        assertThat(await(streamed(pool, STREAM_DS1))).containsExactly(3);
        // ds_0's primary has no queue: its own work (a transaction's read) is served there
        Row inTx =
            await(pool.withTransaction(c -> c.preparedQuery(POINT).execute(Tuple.of(2))))
                .iterator()
                .next();
        assertThat(inTx.getInteger("sid")).isEqualTo(1);
      } finally {
        Promise<Void> stopped = Promise.promise();
        vertx.runOnContext(
            v -> {
              vertx.cancelTimer(timer.get());
              stopped.complete();
            });
        await(stopped.future());
      }
      await(Future.join(new ArrayList<>(all)).otherwiseEmpty());
      System.out.printf(
          "standing queue on ds_0_r1: %d reads refused (%d before execute returned), %d served;"
              + " ds_1_r1 served %d; ds_0_r1 limit now %.0f%n",
          r1Refusals.size(),
          refusedAtOnce.get(),
          r1Served.get(),
          ds1Servers.size(),
          limit(meters, "ds_0_r1"));
      assertThat(otherFailures).as("nothing else failed, ds_1 refused nothing").isEmpty();
      assertThat(ds1Servers).as("ds_1's reads all on its replica").containsOnly(3);
      assertThat(r1Refusals)
          .allSatisfy(
              e -> {
                assertThat(e.getStackTrace()).isEmpty();
                assertThat(e)
                    .hasMessageContaining("read replica ds_0_r1 of data source ds_0")
                    .hasMessageContaining("not moved to the primary")
                    .hasMessageContaining("retry later");
              });
      assertThat(r1Refusals.get(0)).hasMessageContaining("queueDelayTarget");
      assertThat(refusedAtOnce.get())
          .as("refused before execute returned, never queued")
          .isEqualTo(r1Refusals.size());
      // the meters: each refusal counted once, on ds_0_r1; the primaries and ds_1_r1 refused none
      assertThat(refused(meters, "ds_0_r1")).isEqualTo(r1Refusals.size() + 1);
      assertThat(refused(meters, "ds_1_r1")).isZero();
      assertThat(meters.get("shardkit.pool.refused").tag("shard", "ds_0").counter().count())
          .isZero();
      assertThat(meters.get("shardkit.pool.replica.wait").tag("replica", "ds_0_r1").timer().count())
          .as("every admitted read's wait for its connection is timed")
          .isGreaterThanOrEqualTo(r1Served.get());
      assertThat(meters.get("shardkit.router.in_flight").gauge().value()).isZero();

      // the queue is gone: the limit grows back to the pool's own bound, reads and streams on ds_0
      // are let in on ds_0_r1 again
      awaitLimit(meters, "ds_0_r1", 1026);
      assertThat(sid(pool, 0)).isEqualTo(2);
      assertThat(await(streamed(pool, STREAM_DS0))).containsExactly(2, 2);
      assertThat(refused(meters, "ds_0_r1")).isEqualTo(r1Refusals.size() + 1);
      assertThat(pool.replicaStatus()).allMatch(ReplicaStatus::healthy);
    } finally {
      await(pool.close());
    }
  }

  @Test
  void aReplicaAtItsLimitGivesWayToAnotherHealthyReplicaOfItsDataSourceInsteadOfRefusing()
      throws Exception {
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    // ds_0 with two replicas: ds_0_r1 of 1 connection on which the read takes 200 ms (5 a second),
    // ds_0_r2 of 16 on which it takes no time; round robin offers each half of 200 a second: a
    // standing queue on ds_0_r1 (whatever this shared machine's load), none on ds_0_r2
    ShardedPool pool =
        ShardedPool.builder(vertx)
            .rules(
                ShardingRules.builder()
                    .table(
                        "t_acct",
                        t -> t.dataNodes("ds_${0..1}.t_acct").databaseStrategy("id", "mod"))
                    .build())
            .dataSource(
                "ds_0", servers.primary().connectOptions("ra_0"), new PoolOptions().setMaxSize(4))
            .dataSource(
                "ds_1", servers.primary().connectOptions("ra_1"), new PoolOptions().setMaxSize(4))
            .replica(
                "ds_0",
                "ds_0_r1",
                servers.replica(0).connectOptions("ra_0"),
                new PoolOptions().setMaxSize(1))
            .replica(
                "ds_0",
                "ds_0_r2",
                servers.replica(1).connectOptions("ra_0"),
                new PoolOptions().setMaxSize(16))
            .readWriteSplitting(
                ReadWriteSplittingOptions.defaults()
                    .withHeartbeatInterval(Duration.ofMillis(50))
                    .withMaxReplicationLag(Duration.ofSeconds(20)))
            .queueDelayTarget(Duration.ofMillis(10))
            .meterRegistry(meters)
            .build();
    try {
      awaitHealthy(pool);
      // ds_0_r2's connections opened beforehand (on this busy machine opening 16 under load made
      // its first reads wait a whole interval: a queue of connects, not of reads)
      List<Future<?>> warm = new ArrayList<>();
      for (int i = 0; i < 16; i++) {
        warm.add(pool.replicaPool("ds_0_r2").query("SELECT SLEEP(0.05)").execute());
      }
      await(Future.all(warm));
      List<Future<?>> all = new CopyOnWriteArrayList<>();
      List<Throwable> failures = new CopyOnWriteArrayList<>();
      List<Integer> servedBy = new CopyOnWriteArrayList<>();
      AtomicInteger lowestR1Limit = new AtomicInteger(Integer.MAX_VALUE);
      AtomicInteger offered = new AtomicInteger();
      Promise<Void> done = Promise.promise();
      vertx.runOnContext(
          v ->
              vertx.setPeriodic(
                  5,
                  t -> {
                    if (offered.incrementAndGet() > 300) {
                      vertx.cancelTimer(t);
                      done.complete();
                      return;
                    }
                    lowestR1Limit.accumulateAndGet((int) limit(meters, "ds_0_r1"), Math::min);
                    all.add(
                        pool.preparedQuery(SLOW_ON_FIRST_REPLICA)
                            .execute(Tuple.of(0))
                            .onSuccess(rs -> servedBy.add(rs.iterator().next().getInteger("sid")))
                            .onFailure(failures::add));
                  }));
      await(done.future());
      await(Future.join(new ArrayList<>(all)).otherwiseEmpty());
      long r1 = servedBy.stream().filter(sid -> sid == 2).count();
      long r2 = servedBy.stream().filter(sid -> sid == 3).count();
      System.out.printf(
          "two replicas, ds_0_r1 overloaded: %d reads on ds_0_r1, %d on ds_0_r2, %d failed;"
              + " lowest ds_0_r1 limit %d%n",
          r1, r2, failures.size(), lowestR1Limit.get());
      // none refused while ds_0_r2 has room (a stall of this shared machine longer than an
      // interval may queue on both: a few typed refusals are let pass)
      assertThat(failures)
          .hasSizeLessThanOrEqualTo(15)
          .allSatisfy(e -> assertThat(e).isInstanceOf(ShardOverloadedException.class));
      assertThat(servedBy).hasSize(300 - failures.size()).containsOnly(2, 3);
      assertThat(lowestR1Limit.get()).as("a standing queue on ds_0_r1").isLessThan(1025);
      assertThat(r2)
          .as("ds_0_r1's share of the round robin beyond its limit read on ds_0_r2")
          .isGreaterThan(4 * r1);
      assertThat(refused(meters, "ds_0_r1") + refused(meters, "ds_0_r2"))
          .isEqualTo(failures.size());
    } finally {
      await(pool.close());
    }
  }

  /**
   * A replica whose queue of user reads stands longer than the lag bound is overloaded, not behind
   * its primary: it stays healthy (its heartbeat read has a connection of its own). The heartbeat
   * read used to wait in that queue (or be refused by its full wait queue), the replica was then
   * marked down and its reads went to the primary.
   */
  @Test
  void aReplicaWhoseReadsQueueStaysHealthy() throws Exception {
    ShardingRules rules =
        ShardingRules.builder()
            .table("t_acct", t -> t.dataNodes("ds_${0..1}.t_acct").databaseStrategy("id", "mod"))
            .build();
    ShardedPool pool =
        ShardedPool.builder(vertx)
            .rules(rules)
            .dataSource("ds_0", servers.primary().connectOptions("ra_0"), new PoolOptions())
            .dataSource("ds_1", servers.primary().connectOptions("ra_1"), new PoolOptions())
            // one connection and 6 waiters: slow reads of 200 ms keep it full
            .replica(
                "ds_0",
                "ds_0_r1",
                servers.replica(0).connectOptions("ra_0"),
                new PoolOptions().setMaxSize(1).setMaxWaitQueueSize(6))
            .readWriteSplitting(
                ReadWriteSplittingOptions.defaults()
                    .withHeartbeatInterval(Duration.ofMillis(50))
                    .withMaxReplicationLag(Duration.ofMillis(400)))
            .queueDelayTarget(Duration.ZERO)
            .build();
    try {
      awaitHealthy(pool);
      AtomicInteger onReplica = new AtomicInteger();
      AtomicInteger refused = new AtomicInteger();
      List<String> unhealthy = new CopyOnWriteArrayList<>();
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
      // 7 slow reads always in flight: the pool's connection and its 6 waiters
      List<Future<?>> loops = new ArrayList<>();
      for (int i = 0; i < 7; i++) {
        loops.add(slowReads(pool, end, onReplica, refused));
      }
      while (System.nanoTime() < end) {
        pool.replicaStatus().stream()
            .filter(r -> !r.healthy())
            .forEach(r -> unhealthy.add(r.toString()));
        Thread.sleep(25);
      }
      for (Future<?> f : loops) {
        await(f);
      }
      assertThat(onReplica.get()).as("slow reads served by ds_0_r1").isGreaterThanOrEqualTo(8);
      assertThat(unhealthy).as("the replica's health while its reads queued").isEmpty();
    } finally {
      await(pool.close());
    }
  }

  /** Slow reads of ds_0 one after the other until {@code endNanos}; refusals are counted. */
  private static Future<Void> slowReads(
      ShardedPool pool, long endNanos, AtomicInteger onReplica, AtomicInteger refused) {
    if (System.nanoTime() >= endNanos) {
      return Future.succeededFuture();
    }
    return pool.preparedQuery(SLOW_ON_FIRST_REPLICA)
        .execute(Tuple.of(0))
        .transform(
            ar -> {
              if (ar.succeeded() && ar.result().iterator().next().getInteger("sid") == 2) {
                onReplica.incrementAndGet();
              } else if (ar.failed()) {
                // refused at once by the full queue: back off a millisecond (an immediate retry
                // recursed until the stack overflowed)
                refused.incrementAndGet();
                Promise<Void> later = Promise.promise();
                vertx.setTimer(1, t -> later.complete());
                return later.future().compose(v -> slowReads(pool, endNanos, onReplica, refused));
              }
              return slowReads(pool, endNanos, onReplica, refused);
            });
  }

  /** Polls the gauge (no load is faked) until the limit is back at {@code expected}. */
  private static void awaitLimit(SimpleMeterRegistry meters, String replica, int expected)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (limit(meters, replica) < expected && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(limit(meters, replica)).isEqualTo(expected);
  }

  /** Streams {@code sql} one row at a time to its end; the server id of each row. */
  private static Future<List<Integer>> streamed(ShardedPool pool, String sql) {
    return pool.stream(sql, Tuple.tuple(), 1).compose(ReplicaAdmissionTest::servers);
  }

  private static Future<List<Integer>> servers(ShardedRowStream stream) {
    Promise<List<Integer>> done = Promise.promise();
    List<Integer> sids = new CopyOnWriteArrayList<>();
    stream
        .exceptionHandler(done::tryFail)
        .endHandler(v -> done.tryComplete(sids))
        .handler(row -> sids.add(row.getInteger("sid")));
    return done.future();
  }

  private static Throwable failureOrNull(Future<?> f) throws Exception {
    return await(f.transform(ar -> Future.succeededFuture(ar.cause())));
  }

  static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }
}
