package io.shardkit.router;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardkit.context.ScopeOptions;
import io.shardkit.context.ShardkitTimeoutException;
import io.shardkit.context.TxScope;
import io.shardkit.context.junit.LeakGuardExtension;
import io.shardkit.testkit.ShardDatabases;
import io.shardkit.testkit.Shards;
import io.shardkit.testkit.ShardsExtension;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Operations on 4 real shards: the pool's meters after a known workload, and a shard paused under
 * load opening its breaker (and only its breaker) and closing it again after resume.
 */
@Shards(4)
@ExtendWith({ShardsExtension.class, LeakGuardExtension.class})
class RouterOperationsTest {

  static final String POINT = "SELECT v FROM t_kv WHERE k = ?";

  static Vertx vertx;
  static ShardDatabases databases;
  static ShardingRules rules;

  @BeforeAll
  static void setUp(ShardDatabases dbs) throws Exception {
    databases = dbs;
    vertx = Vertx.vertx();
    rules =
        ShardingRules.builder()
            .table("t_kv", t -> t.dataNodes("ds_${0..3}.t_kv").databaseStrategy("k", "mod"))
            .build();
    dbs.executeOnAll("CREATE TABLE t_kv (k INT PRIMARY KEY, v INT NOT NULL)");
  }

  @AfterAll
  static void tearDown() throws Exception {
    await(vertx.close());
  }

  static <T> T await(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  @Test
  void metersCountStatementsPerShardFanOutAndPlanCache() throws Exception {
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    ShardedPool pool =
        ShardedPool.builder(vertx)
            .nonAtomicMultiNodeWrites(true)
            .rules(rules)
            .dataSources(databases.dataSources("ds_"), new PoolOptions().setMaxSize(3))
            .meterRegistry(meters)
            .build();
    try {
      await(pool.query("DELETE FROM t_kv").execute()); // scatter delete: 4 shards
      for (int k = 0; k < 8; k++) {
        await(pool.preparedQuery("INSERT INTO t_kv (k, v) VALUES (?, ?)").execute(Tuple.of(k, k)));
      }
      for (int k = 0; k < 4; k++) {
        await(pool.preparedQuery(POINT).execute(Tuple.of(k)));
      }
      await(pool.query("SELECT COUNT(*) FROM t_kv").execute());

      assertThat(statements(meters, "single", "insert")).isEqualTo(8);
      assertThat(statements(meters, "single", "select")).isEqualTo(4);
      assertThat(statements(meters, "scatter", "select")).isEqualTo(1);
      assertThat(statements(meters, "scatter", "delete")).isEqualTo(1);
      for (int shard = 0; shard < 4; shard++) {
        String ds = "ds_" + shard;
        assertThat(shardCount(meters, ds, "insert")).as(ds + " inserts").isEqualTo(2);
        assertThat(shardCount(meters, ds, "select")).as(ds + " point + scatter").isEqualTo(2);
        assertThat(shardCount(meters, ds, "delete")).isEqualTo(1);
        assertThat(meters.get("shardkit.pool.max").tag("shard", ds).gauge().value()).isEqualTo(3);
        assertThat(meters.get("shardkit.breaker.state").tag("shard", ds).gauge().value())
            .isEqualTo(0);
      }
      DistributionSummary selectFanout =
          meters.get("shardkit.router.fanout").tag("kind", "select").summary();
      assertThat(selectFanout.count()).isEqualTo(5);
      assertThat(selectFanout.totalAmount())
          .as("4 point reads + one read of 4 shards")
          .isEqualTo(8);
      assertThat(selectFanout.max()).isEqualTo(4);
      // 4 distinct texts parsed once each; every other lookup a hit
      assertThat(meters.get("shardkit.router.plan.cache").tag("result", "miss").functionCounter())
          .extracting(c -> c.count())
          .isEqualTo(4.0);
      assertThat(meters.get("shardkit.router.plan.cache").tag("result", "hit").functionCounter())
          .extracting(c -> c.count())
          .isEqualTo(10.0);
      assertThat(meters.get("shardkit.router.plans").gauge().value()).isEqualTo(4);
    } finally {
      await(pool.close());
    }
    // the closed pool's gauges are gone, so the next pool on this registry reports its own state
    assertThat(meters.find("shardkit.breaker.state").gauges()).isEmpty();
    assertThat(meters.find("shardkit.router.plans").gauges()).isEmpty();
    ShardedPool next =
        ShardedPool.builder(vertx)
            .nonAtomicMultiNodeWrites(true)
            .rules(rules)
            .dataSources(databases.dataSources("ds_"), new PoolOptions().setMaxSize(5))
            .meterRegistry(meters)
            .build();
    try {
      assertThat(meters.get("shardkit.pool.max").tag("shard", "ds_0").gauge().value()).isEqualTo(5);
      assertThat(meters.get("shardkit.router.plans").gauge().value()).isZero();
    } finally {
      await(next.close());
    }
  }

  static double statements(SimpleMeterRegistry meters, String route, String kind) {
    return meters
        .get("shardkit.router.statements")
        .tag("route", route)
        .tag("kind", kind)
        .counter()
        .count();
  }

  static long shardCount(SimpleMeterRegistry meters, String shard, String kind) {
    return meters
        .get("shardkit.router.shard.statements")
        .tag("shard", shard)
        .tag("kind", kind)
        .tag("outcome", "success")
        .timer()
        .count();
  }

  /** One request of the load: which shard, when it was issued and ended, how. */
  record Request(int shard, long issued, long ended, String outcome) {
    long millis() {
      return TimeUnit.NANOSECONDS.toMillis(ended - issued);
    }
  }

  @Test
  void pausedShardOpensOnlyItsBreakerFailsFastAndClosesAfterResume() throws Exception {
    Duration slowCall = Duration.ofMillis(300);
    Duration open = Duration.ofSeconds(1);
    Duration requestTimeout = Duration.ofSeconds(2);
    ShardedPool pool =
        ShardedPool.builder(vertx)
            .nonAtomicMultiNodeWrites(true)
            .rules(rules)
            .dataSources(databases.dataSources("ds_"), new PoolOptions().setMaxSize(4))
            .meterRegistry(new SimpleMeterRegistry())
            .circuitBreaker(
                CircuitBreakerOptions.builder()
                    .windowSize(20)
                    .minimumCalls(5)
                    .slowCallDuration(slowCall)
                    .slowCallRateThreshold(50)
                    .openDuration(open)
                    .build())
            .build();
    Queue<Request> done = new ConcurrentLinkedQueue<>();
    java.util.concurrent.atomic.AtomicInteger inFlight =
        new java.util.concurrent.atomic.AtomicInteger();
    // 4 point reads (one per shard) every 20 ms, each bounded by a 2 s deadline
    long load =
        vertx.setPeriodic(
            20,
            id -> {
              for (int shard = 0; shard < 4; shard++) {
                int s = shard;
                long issued = System.nanoTime();
                inFlight.incrementAndGet();
                TxScope.run(
                        vertx,
                        ScopeOptions.ofTimeout(requestTimeout),
                        () -> pool.preparedQuery(POINT).execute(Tuple.of(s)))
                    .onComplete(
                        ar -> {
                          String outcome =
                              ar.succeeded()
                                  ? "ok"
                                  : ar.cause() instanceof ShardCircuitOpenException
                                      ? "open"
                                      : ar.cause() instanceof ShardkitTimeoutException
                                          ? "timeout"
                                          : ar.cause() instanceof ShardUnavailableException
                                              ? "unavailable"
                                              : "other: " + ar.cause();
                          done.add(new Request(s, issued, System.nanoTime(), outcome));
                          inFlight.decrementAndGet();
                        });
              }
            });
    ShardCircuitBreaker breaker = pool.circuitBreaker("ds_3");
    long paused = 0;
    long opened = 0;
    long resumed = 0;
    long closed = 0;
    try {
      Thread.sleep(500);
      assertThat(breaker.state()).isEqualTo(ShardCircuitBreaker.State.CLOSED);
      databases.get(3).shard().pause();
      paused = System.nanoTime();
      opened = waitFor(breaker, ShardCircuitBreaker.State.OPEN, Duration.ofSeconds(3));
      Thread.sleep(2500); // open → half-open probe (no answer) → open again, and so on
    } finally {
      if (paused != 0) {
        databases.get(3).shard().resume();
        resumed = System.nanoTime();
      }
    }
    try {
      closed = waitFor(breaker, ShardCircuitBreaker.State.CLOSED, Duration.ofSeconds(5));
      Thread.sleep(300);
    } finally {
      vertx.cancelTimer(load);
      long end = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (inFlight.get() > 0 && System.nanoTime() < end) {
        Thread.sleep(20);
      }
      await(pool.close());
    }
    long pausedAt = paused;
    long openedAt = opened;
    long resumedAt = resumed;
    long closedAt = closed;
    long openMs = TimeUnit.NANOSECONDS.toMillis(openedAt - pausedAt);
    List<Request> all = List.copyOf(done);
    List<Request> healthyDuringPause =
        all.stream()
            .filter(r -> r.shard() != 3 && r.issued() >= pausedAt && r.issued() < resumedAt)
            .toList();
    List<Request> toPausedAfterOpen =
        all.stream()
            .filter(r -> r.shard() == 3 && r.issued() >= openedAt && r.issued() < resumedAt)
            .toList();
    long fastFailed = toPausedAfterOpen.stream().filter(r -> r.outcome().equals("open")).count();
    long maxFastFail =
        toPausedAfterOpen.stream()
            .filter(r -> r.outcome().equals("open"))
            .mapToLong(Request::millis)
            .max()
            .orElse(-1);
    long maxAfterOpen = toPausedAfterOpen.stream().mapToLong(Request::millis).max().orElse(-1);
    long probes = toPausedAfterOpen.stream().filter(r -> !r.outcome().equals("open")).count();
    long okAfterClose =
        all.stream()
            .filter(r -> r.shard() == 3 && r.issued() > closedAt && r.outcome().equals("ok"))
            .count();
    System.out.printf(
        "breaker opened %d ms after pause; healthy requests during pause: %d (%d ok);"
            + " to paused shard after open: %d (%d failed fast, max %d ms; %d probes; max any %d ms);"
            + " closed %d ms after resume; ds_3 ok after close: %d%n",
        openMs,
        healthyDuringPause.size(),
        healthyDuringPause.stream().filter(r -> r.outcome().equals("ok")).count(),
        toPausedAfterOpen.size(),
        fastFailed,
        maxFastFail,
        probes,
        maxAfterOpen,
        TimeUnit.NANOSECONDS.toMillis(closedAt - resumedAt),
        okAfterClose);

    // opened within the slow-call duration plus the time to see minimumCalls slow calls (+ slack)
    assertThat(openMs).isLessThan(slowCall.toMillis() + 1200);
    // the other three shards never noticed
    assertThat(healthyDuringPause).hasSizeGreaterThan(100);
    assertThat(healthyDuringPause).allSatisfy(r -> assertThat(r.outcome()).isEqualTo("ok"));
    // after the breaker opened nothing waited for the 2 s deadline: refusals are immediate, the
    // few half-open probes give up after the slow-call duration
    assertThat(fastFailed).isGreaterThan(50);
    // a refusal is sent no I/O and waits for nothing; what it measures above that is how late the
    // event loop ran it (112 ms once in a CI run on a machine loaded by another build), so the
    // bound is a quarter of the deadline, not a scheduling figure
    assertThat(maxFastFail).isLessThan(requestTimeout.toMillis() / 4);
    assertThat(maxAfterOpen).isLessThan(requestTimeout.toMillis() - 500);
    assertThat(probes).isBetween(1L, 5L);
    // after resume the half-open probe closed it and ds_3 answers again
    assertThat(okAfterClose).isGreaterThan(0);
  }

  static long waitFor(ShardCircuitBreaker breaker, ShardCircuitBreaker.State state, Duration max)
      throws InterruptedException {
    long end = System.nanoTime() + max.toNanos();
    while (breaker.state() != state) {
      if (System.nanoTime() > end) {
        throw new AssertionError(
            breaker + " did not become " + state + " within " + max.toMillis() + " ms");
      }
      Thread.sleep(5);
    }
    return System.nanoTime();
  }
}
