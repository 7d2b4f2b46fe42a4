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
    dbs.executeOnAll("CREATE TABLE t (id INT PRIMARY KEY, v INT)");
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

  static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }
}
