package io.shardkit.router;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardkit.testkit.ShardDatabases;
import io.shardkit.testkit.Shards;
import io.shardkit.testkit.ShardsExtension;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A saturated data source refuses fast with a typed, retryable error when its wait queue is
 * bounded, and its circuit breaker stays closed: overload is not an outage.
 */
@Shards(2)
@ExtendWith(ShardsExtension.class)
class OverloadTest {

  @Test
  void aFullWaitQueueRefusesAtOnceWithShardOverloadedAndLeavesTheBreakerClosed(ShardDatabases dbs)
      throws Exception {
    dbs.executeOnAll("CREATE TABLE IF NOT EXISTS t (id INT PRIMARY KEY, v INT)");
    dbs.executeOnAll("DELETE FROM t");
    dbs.get(0).execute("INSERT INTO t VALUES (0, 0), (2, 2)");
    Vertx vertx = Vertx.vertx();
    ShardedPool pool =
        ShardedPool.builder(vertx)
            .rules(
                ShardingRules.builder()
                    .table("t", t -> t.dataNodes("ds_${0..1}.t").databaseStrategy("id", "mod"))
                    .build())
            .dataSources(
                dbs.dataSources("ds_"), new PoolOptions().setMaxSize(2).setMaxWaitQueueSize(2))
            .build();
    try {
      // warm the pool: two connections open
      await(
          Future.all(
              pool.preparedQuery("SELECT v FROM t WHERE id = ?").execute(Tuple.of(0)),
              pool.preparedQuery("SELECT v FROM t WHERE id = ?").execute(Tuple.of(2))));
      List<Future<?>> slow = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        // 2 run, 2 wait for a connection
        slow.add(pool.preparedQuery("SELECT SLEEP(1), v FROM t WHERE id = ?").execute(Tuple.of(0)));
      }
      List<Long> refusedAfterMs = new ArrayList<>();
      List<Throwable> refusals = new ArrayList<>();
      for (int i = 0; i < 10; i++) {
        long start = System.nanoTime();
        Throwable t =
            pool.preparedQuery("SELECT v FROM t WHERE id = ?")
                .execute(Tuple.of(2))
                .transform(ar -> Future.succeededFuture(ar.failed() ? ar.cause() : null))
                .toCompletionStage()
                .toCompletableFuture()
                .get(10, TimeUnit.SECONDS);
        refusedAfterMs.add((System.nanoTime() - start) / 1_000_000);
        refusals.add(t);
      }
      assertThat(refusals)
          .allSatisfy(t -> assertThat(t).isInstanceOf(ShardOverloadedException.class));
      assertThat(((ShardOverloadedException) refusals.get(0)).dataSource()).isEqualTo("ds_0");
      assertThat(refusals.get(0)).hasMessageContaining("maxWaitQueueSize");
      assertThat(refusedAfterMs).allSatisfy(ms -> assertThat(ms).isLessThan(500));
      // the queued ones still complete: nothing queued was lost
      await(Future.all(slow));
      assertThat(pool.circuitBreaker("ds_0").state()).isEqualTo(ShardCircuitBreaker.State.CLOSED);
      // and ds_1 was never affected
      await(pool.preparedQuery("SELECT v FROM t WHERE id = ?").execute(Tuple.of(1)));
    } finally {
      await(pool.close());
      await(vertx.close());
    }
  }

  @Test
  void theWaitQueueIsBoundedByDefaultAndAFloodBeyondItIsRefusedTyped(ShardDatabases dbs)
      throws Exception {
    dbs.executeOnAll("CREATE TABLE IF NOT EXISTS t (id INT PRIMARY KEY, v INT)");
    dbs.executeOnAll("DELETE FROM t");
    dbs.get(0).execute("INSERT INTO t VALUES (0, 0), (2, 2)");
    Vertx vertx = Vertx.vertx();
    ShardedPool.Builder builder =
        ShardedPool.builder(vertx)
            .rules(
                ShardingRules.builder()
                    .table("t", t -> t.dataNodes("ds_${0..1}.t").databaseStrategy("id", "mod"))
                    .build())
            .dataSources(dbs.dataSources("ds_"), new PoolOptions().setMaxSize(1)); // queue: default
    int expectedQueue = ShardedPool.Builder.DEFAULT_MAX_WAIT_QUEUE_SIZE;
    assertThat(builder.poolOptions().get("ds_0").getMaxWaitQueueSize()).isEqualTo(expectedQueue);
    ShardedPool pool = builder.build();
    try {
      await(pool.preparedQuery("SELECT v FROM t WHERE id = ?").execute(Tuple.of(0))); // warm
      int flood = expectedQueue + 300;
      List<Throwable> refusals = new java.util.concurrent.CopyOnWriteArrayList<>();
      java.util.concurrent.atomic.AtomicInteger succeeded =
          new java.util.concurrent.atomic.AtomicInteger();
      java.util.concurrent.atomic.AtomicLong slowestRefusalUs =
          new java.util.concurrent.atomic.AtomicLong();
      io.vertx.core.Promise<Void> all = io.vertx.core.Promise.promise();
      vertx.runOnContext(
          v -> {
            List<Future<?>> answers = new ArrayList<>();
            // the one connection is busy for 0.5 s: the flood waits behind it or is refused
            answers.add(
                pool.preparedQuery("SELECT SLEEP(0.5), v FROM t WHERE id = ?")
                    .execute(Tuple.of(0)));
            for (int i = 0; i < flood; i++) {
              long start = System.nanoTime();
              answers.add(
                  pool.preparedQuery("SELECT v FROM t WHERE id = ?")
                      .execute(Tuple.of(2))
                      .andThen(
                          ar -> {
                            if (ar.succeeded()) {
                              succeeded.incrementAndGet();
                            } else {
                              refusals.add(ar.cause());
                              slowestRefusalUs.accumulateAndGet(
                                  (System.nanoTime() - start) / 1_000, Math::max);
                            }
                          }));
            }
            Future.join(answers).onComplete(ar -> all.complete());
          });
      await(all.future());
      System.out.printf(
          "default wait queue %d, pool of 1: %d offered behind a busy connection: %d succeeded,"
              + " %d refused (slowest refusal %d µs)%n",
          expectedQueue, flood, succeeded.get(), refusals.size(), slowestRefusalUs.get());
      assertThat(refusals)
          .as("beyond the default bound")
          .isNotEmpty()
          .allSatisfy(
              t ->
                  assertThat(t)
                      .isInstanceOfSatisfying(
                          ShardOverloadedException.class,
                          o -> assertThat(o.dataSource()).isEqualTo("ds_0")));
      assertThat(succeeded.get() + refusals.size()).isEqualTo(flood);
      assertThat(succeeded.get())
          .as("the queue's worth waited and was served")
          .isBetween(expectedQueue - 1, expectedQueue + 1);
      assertThat(slowestRefusalUs.get())
          .as("refused at once, not after the busy connection's 0.5 s")
          .isLessThan(400_000);
      assertThat(pool.circuitBreaker("ds_0").state()).isEqualTo(ShardCircuitBreaker.State.CLOSED);
    } finally {
      await(pool.close());
      await(vertx.close());
    }
  }

  @Test
  void anExplicitWaitQueueBoundIsKept() {
    Vertx vertx = Vertx.vertx();
    try {
      ShardedPool.Builder builder =
          ShardedPool.builder(vertx)
              .dataSource(
                  "ds_0",
                  new io.vertx.mysqlclient.MySQLConnectOptions(),
                  new PoolOptions().setMaxWaitQueueSize(7))
              .dataSource("ds_1", new io.vertx.mysqlclient.MySQLConnectOptions(), null)
              .replica(
                  "ds_1",
                  "r",
                  new io.vertx.mysqlclient.MySQLConnectOptions(),
                  new PoolOptions().setMaxWaitQueueSize(Integer.MAX_VALUE));
      assertThat(builder.poolOptions().get("ds_0").getMaxWaitQueueSize()).isEqualTo(7);
      assertThat(builder.poolOptions().get("ds_1").getMaxWaitQueueSize())
          .isEqualTo(ShardedPool.Builder.DEFAULT_MAX_WAIT_QUEUE_SIZE);
      assertThat(builder.replicas().get("ds_1").get(0).pool().getMaxWaitQueueSize())
          .isEqualTo(Integer.MAX_VALUE);
    } finally {
      vertx.close();
    }
  }

  static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }
}
