package io.shardkit.router;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardkit.testkit.ShardDatabases;
import io.shardkit.testkit.Shards;
import io.shardkit.testkit.ShardsExtension;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Adaptive admission per data source ({@code queueDelayTarget}, on by default): a burst that the
 * pools' wait queues absorb is not refused; a standing queue on one data source (slow statements
 * pinned to it) makes the pool's new statements to that data source be refused at once, typed and
 * unsent, while the other data source serves and open connections' and transactions' statements
 * run; once the queue is gone admission is back to the pool's own bound. On real shards.
 */
@Shards(2)
@ExtendWith(ShardsExtension.class)
class QueueDelayAdmissionTest {

  private static final String POINT = "SELECT v FROM t WHERE id = ?";
  private static final String SLOW = "SELECT SLEEP(0.02), v FROM t WHERE id = ?";
  private static final String INSERT = "INSERT INTO t (id, v) VALUES (?, ?)";
  private static final String STREAM_DS0 = "SELECT v FROM t WHERE id IN (0, 2, 4) ORDER BY v";
  private static final String STREAM_DS1 = "SELECT v FROM t WHERE id IN (1, 3, 5) ORDER BY v";

  private static ShardedPool.Builder builder(
      Vertx vertx, ShardDatabases dbs, SimpleMeterRegistry meters) {
    return ShardedPool.builder(vertx)
        .rules(
            ShardingRules.builder()
                .table("t", t -> t.dataNodes("ds_${0..1}.t").databaseStrategy("id", "mod"))
                .build())
        .dataSources(dbs.dataSources("ds_"), new PoolOptions().setMaxSize(2))
        .meterRegistry(meters);
  }

  private static ShardedPool pool(Vertx vertx, ShardDatabases dbs, SimpleMeterRegistry meters) {
    return builder(vertx, dbs, meters).build();
  }

  private static void table(ShardDatabases dbs) {
    dbs.executeOnAll("CREATE TABLE IF NOT EXISTS t (id INT PRIMARY KEY, v INT)");
    dbs.executeOnAll("DELETE FROM t");
    dbs.get(0).execute("INSERT INTO t VALUES (0, 0), (2, 2), (4, 4)");
    dbs.get(1).execute("INSERT INTO t VALUES (1, 1), (3, 3), (5, 5)");
  }

  private static double limit(SimpleMeterRegistry meters, String ds) {
    return meters.get("shardkit.pool.admission.limit").tag("shard", ds).gauge().value();
  }

  private static double refused(SimpleMeterRegistry meters, String ds) {
    return meters.get("shardkit.pool.refused").tag("shard", ds).counter().count();
  }

  /** Offers {@code count} statements to the data source of {@code id} at once; their failures. */
  private static List<Throwable> burst(Vertx vertx, ShardedPool pool, int count, int id)
      throws Exception {
    List<Throwable> failures = new CopyOnWriteArrayList<>();
    Promise<Void> all = Promise.promise();
    vertx.runOnContext(
        v -> {
          List<Future<?>> answers = new ArrayList<>();
          for (int i = 0; i < count; i++) {
            answers.add(pool.preparedQuery(POINT).execute(Tuple.of(id)).onFailure(failures::add));
          }
          Future.join(answers).onComplete(ar -> all.complete());
        });
    await(all.future());
    return failures;
  }

  @Test
  void aConnectionsSetUpIsNoQueue(ShardDatabases dbs) throws Exception {
    table(dbs);
    Vertx vertx = Vertx.vertx();
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    // 3 connections, two of them held by transactions below
    ShardedPool pool =
        builder(vertx, dbs, meters)
            .dataSources(dbs.dataSources("ds_"), new PoolOptions().setMaxSize(3))
            .build();
    var shard = dbs.get(0).shard();
    List<io.vertx.sqlclient.SqlConnection> held = new ArrayList<>();
    try {
      // two transactions hold two of ds_0's three connections (whatever the pool set up before)
      for (int i = 0; i < 2; i++) {
        io.vertx.sqlclient.SqlConnection c = await(pool.getConnection());
        held.add(c);
        await(c.begin());
        await(c.preparedQuery(POINT).execute(Tuple.of(0)));
      }
      await(pool.preparedQuery(POINT).execute(Tuple.of(1)));
      Thread.sleep(250); // the intervals that saw those end
      assertThat(limit(meters, "ds_0")).isEqualTo(1027);
      // the next statement on ds_0 waits 300 ms for a third connection to be set up (the server
      // is paused meanwhile): a wait far above the target, but nobody queued behind anyone
      assertThat(pool.pool("ds_0").size()).as("room for a third connection").isEqualTo(2);
      shard.pause();
      Future<?> first;
      try {
        first = pool.preparedQuery(POINT).execute(Tuple.of(0));
        Thread.sleep(300);
      } finally {
        shard.resume();
      }
      await(first);
      assertThat(
              meters
                  .get("shardkit.pool.wait")
                  .tag("shard", "ds_0")
                  .timer()
                  .max(TimeUnit.MILLISECONDS))
          .as("it waited for the set-up")
          .isGreaterThan(200);
      // looked at every 20 ms through the end of the interval that saw the wait and the next
      double lowest = Double.MAX_VALUE;
      for (int i = 0; i < 15; i++) {
        lowest = Math.min(lowest, limit(meters, "ds_0"));
        Thread.sleep(20);
      }
      assertThat(lowest)
          .as("no standing queue: the limit stays at connections + waiters")
          .isEqualTo(1027);
    } finally {
      shard.resume();
      for (io.vertx.sqlclient.SqlConnection c : held) {
        await(c.close());
      }
      await(pool.close());
      await(vertx.close());
    }
  }

  @Test
  void aBurstTheWaitQueueAbsorbsIsServedWhole(ShardDatabases dbs) throws Exception {
    table(dbs);
    Vertx vertx = Vertx.vertx();
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    ShardedPool pool = pool(vertx, dbs, meters);
    try {
      await(pool.preparedQuery(POINT).execute(Tuple.of(0)));
      assertThat(limit(meters, "ds_0")).as("2 connections + 1024 waiters").isEqualTo(1026);
      // 1000 statements at once on one data source of 2 connections: 998 wait in its queue, as
      // they would without adaptive admission (a fixed limit of a few times the connections would
      // refuse most of them)
      assertThat(burst(vertx, pool, 1000, 0)).isEmpty();
      // once its queue has drained (a queue that outlasts an interval counts as standing, and the
      // limit may have been lowered while it drained), another burst is absorbed too
      awaitLimit(meters, "ds_0", 1026);
      assertThat(burst(vertx, pool, 500, 2)).isEmpty();
      assertThat(burst(vertx, pool, 500, 3)).isEmpty();
      assertThat(refused(meters, "ds_0")).isZero();
      assertThat(refused(meters, "ds_1")).isZero();
      assertThat(meters.get("shardkit.pool.wait").tag("shard", "ds_0").timer().count())
          .as("every statement's wait for its connection is timed")
          .isGreaterThanOrEqualTo(1500);
    } finally {
      await(pool.close());
      vertx.close();
    }
  }

  @Test
  void aStandingQueueOnOneDataSourceRefusesItsNewStatementsAtOnceWhileTheOtherServes(
      ShardDatabases dbs) throws Exception {
    table(dbs);
    Vertx vertx = Vertx.vertx();
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    // ds_1 with room to spare (8 connections for a point select every 10 ms), so that a hiccup of
    // this shared machine does not make a queue there too
    ShardedPool pool =
        builder(vertx, dbs, meters)
            .dataSource("ds_1", dbs.dataSources("ds_").get("ds_1"), new PoolOptions().setMaxSize(8))
            .build();
    try {
      await(pool.preparedQuery(POINT).execute(Tuple.of(0)));
      await(pool.preparedQuery(POINT).execute(Tuple.of(1)));
      // ds_0 serves about 100 slow statements a second (2 connections, 20 ms each); every 2 ms
      // one more is offered (5 times that), plus an insert there, and every 10 ms a point select
      // on ds_1
      List<Future<?>> all = new CopyOnWriteArrayList<>();
      List<Throwable> ds0Refusals = new CopyOnWriteArrayList<>();
      List<Throwable> otherFailures = new CopyOnWriteArrayList<>();
      AtomicInteger ds1Served = new AtomicInteger();
      AtomicInteger ds1ServedAfterRefusal = new AtomicInteger();
      AtomicInteger refusedAtOnce = new AtomicInteger();
      AtomicInteger scatterRefused = new AtomicInteger();
      java.util.concurrent.atomic.AtomicReference<Throwable> streamRefusal =
          new java.util.concurrent.atomic.AtomicReference<>();
      Set<Integer> inserted = java.util.concurrent.ConcurrentHashMap.newKeySet();
      Set<Integer> insertsRefused = java.util.concurrent.ConcurrentHashMap.newKeySet();
      AtomicInteger nextId = new AtomicInteger(1000);
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
                        int id = nextId.getAndAdd(2); // even: ds_0
                        Future<?> insert = pool.preparedQuery(INSERT).execute(Tuple.of(id, id));
                        for (Future<?> f : List.of(slow, insert)) {
                          if (f.failed()) {
                            refusedAtOnce.incrementAndGet();
                          }
                          all.add(
                              f.onFailure(
                                  e -> {
                                    if (e instanceof ShardOverloadedException o
                                        && "ds_0".equals(o.dataSource())) {
                                      ds0Refusals.add(e);
                                    } else {
                                      otherFailures.add(e);
                                    }
                                  }));
                        }
                        insert.onComplete(
                            ar -> (ar.succeeded() ? inserted : insertsRefused).add(id));
                        if (tick.incrementAndGet() % 5 != 0) {
                          return;
                        }
                        all.add(
                            pool.preparedQuery(POINT)
                                .execute(Tuple.of(1))
                                .onSuccess(
                                    rs -> {
                                      ds1Served.incrementAndGet();
                                      if (!ds0Refusals.isEmpty()
                                          && ds1ServedAfterRefusal.incrementAndGet() >= 40
                                          && ds0Refusals.size() >= 200) {
                                        overloaded.tryComplete();
                                      }
                                    })
                                .onFailure(otherFailures::add));
                      })));
      try {
        await(overloaded.future());
        // during the overload: an open transaction's and an open connection's statements on ds_0
        // wait their turn and run; they are never refused
        io.vertx.sqlclient.RowSet<io.vertx.sqlclient.Row> inTransaction =
            await(pool.withTransaction(c -> c.preparedQuery(POINT).execute(Tuple.of(2))));
        assertThat(inTransaction.size()).isEqualTo(1);
        io.vertx.sqlclient.RowSet<io.vertx.sqlclient.Row> onConnection =
            await(pool.withConnection(c -> c.preparedQuery(POINT).execute(Tuple.of(4))));
        assertThat(onConnection.size()).isEqualTo(1);
        // a scatter statement needing ds_0 is refused like the others or served, nothing else
        Throwable scatter = failureOrNull(pool.query("SELECT COUNT(*) FROM t").execute());
        if (scatter != null) {
          assertThat(scatter).isInstanceOf(ShardOverloadedException.class);
          scatterRefused.incrementAndGet();
        }
        // a new stream needing ds_0 is refused the same way, before it takes a connection there
        // (tried while the queue stands until one is; a stream let in reads its rows), and a
        // stream on ds_1 only is served
        for (int i = 0; i < 200 && streamRefusal.get() == null; i++) {
          Future<Integer> read = streamed(pool, STREAM_DS0);
          Throwable failed = failureOrNull(read);
          if (failed == null) {
            assertThat(read.result()).isEqualTo(3);
          } else {
            streamRefusal.set(failed);
          }
        }
        assertThat(streamRefusal.get())
            .as("a stream on ds_0 refused while its queue stands")
            .isInstanceOf(ShardOverloadedException.class)
            .hasMessageContaining("ds_0")
            .hasMessageContaining("queueDelayTarget");
        int ds1Rows = await(streamed(pool, STREAM_DS1));
        assertThat(ds1Rows).isEqualTo(3);
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
          "standing queue on ds_0: %d refused (%d failed before execute returned), ds_1 served"
              + " %d; %d inserts ran, %d refused; ds_0 limit now %.0f%n",
          ds0Refusals.size(),
          refusedAtOnce.get(),
          ds1Served.get(),
          inserted.size(),
          insertsRefused.size(),
          limit(meters, "ds_0"));
      assertThat(otherFailures).as("nothing else failed, ds_1 refused nothing").isEmpty();
      assertThat(ds0Refusals)
          .allSatisfy(
              e -> {
                assertThat(e.getStackTrace()).isEmpty();
                assertThat(e).isNotInstanceOf(PoolOverloadedException.class);
              });
      assertThat(ds0Refusals.get(0))
          .hasMessageContaining("ds_0")
          .hasMessageContaining("queueDelayTarget");
      assertThat(refusedAtOnce.get())
          .as("refused before execute returned, never queued")
          .isEqualTo(ds0Refusals.size());
      // nothing was sent for a refused statement: exactly the admitted inserts are rows
      Set<Integer> rows = new HashSet<>();
      for (JsonObject row : dbs.get(0).query("SELECT id FROM t WHERE id >= 1000")) {
        rows.add(row.getInteger("id"));
      }
      assertThat(rows).isEqualTo(inserted);
      assertThat(insertsRefused).isNotEmpty().doesNotContainAnyElementsOf(rows);
      // the meters: each refusal counted once, on its data source; nothing in flight any more
      assertThat(refused(meters, "ds_0")).isEqualTo(ds0Refusals.size() + scatterRefused.get() + 1);
      assertThat(refused(meters, "ds_1")).isZero();
      assertThat(meters.get("shardkit.router.in_flight").gauge().value()).isZero();
      assertThat(
              meters.get("shardkit.router.statements").tag("route", "overloaded").counter().count())
          .as("no pool-wide refusal")
          .isZero();
      assertThat(meters.get("shardkit.pool.waiting").tag("shard", "ds_0").gauge().value()).isZero();
      assertThat(meters.get("shardkit.pool.in.use").tag("shard", "ds_0").gauge().value()).isZero();
      // the queue is gone: the limit grows back to the pool's own bound and a burst is absorbed
      awaitLimit(meters, "ds_0", 1026);
      assertThat(burst(vertx, pool, 1000, 0)).isEmpty();
      assertThat(refused(meters, "ds_0")).isEqualTo(ds0Refusals.size() + scatterRefused.get() + 1);
      // streams are let in again, and their connections counted out when they end
      int ds0Rows = await(streamed(pool, STREAM_DS0));
      assertThat(ds0Rows).isEqualTo(3);
      assertThat(meters.get("shardkit.pool.in.use").tag("shard", "ds_0").gauge().value()).isZero();
    } finally {
      await(pool.close());
      vertx.close();
    }
  }

  @Test
  void turnedOffItRefusesNothingAndItsOptionsAreChecked(ShardDatabases dbs) throws Exception {
    Vertx vertx = Vertx.vertx();
    try {
      ShardedPool.Builder b = ShardedPool.builder(vertx);
      assertThat(b.queueDelayTarget()).isEqualTo(Duration.ofMillis(10));
      assertThat(b.queueDelayInterval()).isEqualTo(Duration.ofMillis(100));
      assertThatThrownBy(() -> b.queueDelayTarget(Duration.ofMillis(-1)))
          .isInstanceOfSatisfying(
              ShardingConfigurationException.class,
              e -> assertThat(e.field()).isEqualTo("queueDelayTarget"));
      assertThatThrownBy(() -> b.queueDelayInterval(Duration.ZERO))
          .isInstanceOfSatisfying(
              ShardingConfigurationException.class,
              e -> assertThat(e.field()).isEqualTo("queueDelayInterval"));
      JsonObject config =
          new JsonObject()
              .put("rules", new JsonObject().put("defaultDataSource", "ds_0"))
              .put(
                  "dataSources",
                  new JsonObject().put("ds_0", new JsonObject().put("host", "127.0.0.1")));
      ShardedPool.Builder fromJson =
          ShardedPool.builder(vertx)
              .config(config.copy().put("queueDelayTargetMs", 0).put("queueDelayIntervalMs", 250));
      assertThat(fromJson.queueDelayTarget()).isZero();
      assertThat(fromJson.queueDelayInterval()).isEqualTo(Duration.ofMillis(250));
      for (Object bad : new Object[] {"soon", 1.5, -1}) {
        assertThatThrownBy(
                () ->
                    ShardedPool.builder(vertx).config(config.copy().put("queueDelayTargetMs", bad)))
            .isInstanceOfSatisfying(
                ShardingConfigurationException.class,
                e -> assertThat(e.field()).isEqualTo("queueDelayTargetMs"));
      }
      assertThatThrownBy(
              () -> ShardedPool.builder(vertx).config(config.copy().put("queueDelayIntervalMs", 0)))
          .isInstanceOfSatisfying(
              ShardingConfigurationException.class,
              e -> assertThat(e.field()).isEqualTo("queueDelayIntervalMs"));

      // off: statements run on the pools as before, no gauge of a limit
      table(dbs);
      SimpleMeterRegistry meters = new SimpleMeterRegistry();
      ShardedPool pool =
          ShardedPool.builder(vertx)
              .rules(
                  ShardingRules.builder()
                      .table("t", t -> t.dataNodes("ds_${0..1}.t").databaseStrategy("id", "mod"))
                      .build())
              .dataSources(dbs.dataSources("ds_"), new PoolOptions().setMaxSize(2))
              .meterRegistry(meters)
              .queueDelayTarget(Duration.ZERO)
              .build();
      try {
        assertThat(burst(vertx, pool, 200, 0)).isEmpty();
        assertThat(meters.find("shardkit.pool.admission.limit").gauge()).isNull();
      } finally {
        await(pool.close());
      }
    } finally {
      vertx.close();
    }
  }

  /** Polls the gauge (no load is faked) until the limit is back at {@code expected}. */
  private static void awaitLimit(SimpleMeterRegistry meters, String ds, int expected)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (limit(meters, ds) < expected && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(limit(meters, ds)).isEqualTo(expected);
  }

  /** Streams {@code sql} one row at a time to its end; the number of rows. */
  private static Future<Integer> streamed(ShardedPool pool, String sql) {
    return pool.stream(sql, Tuple.tuple(), 1).compose(QueueDelayAdmissionTest::rows);
  }

  private static Future<Integer> rows(ShardedRowStream stream) {
    Promise<Integer> done = Promise.promise();
    AtomicInteger count = new AtomicInteger();
    stream
        .exceptionHandler(done::tryFail)
        .endHandler(v -> done.tryComplete(count.get()))
        .handler(row -> count.incrementAndGet());
    return done.future();
  }

  private static Throwable failureOrNull(Future<?> f) throws Exception {
    return await(f.transform(ar -> Future.succeededFuture(ar.cause())));
  }

  static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }
}
