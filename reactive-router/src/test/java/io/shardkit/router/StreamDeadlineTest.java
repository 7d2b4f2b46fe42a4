package io.shardkit.router;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardkit.context.ScopeOptions;
import io.shardkit.context.ShardkitTimeoutException;
import io.shardkit.context.TxScope;
import io.shardkit.context.junit.LeakGuardExtension;
import io.shardkit.testkit.ShardDatabases;
import io.shardkit.testkit.Shards;
import io.shardkit.testkit.ShardsExtension;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A stream opened inside a transaction scope lives no longer than the scope: at the deadline it
 * fails with {@link ShardkitTimeoutException} and gives its connections back, whether its reader
 * paused it or it was still opening; one read to its end before the deadline is not touched.
 */
@Shards(2)
@ExtendWith({ShardsExtension.class, LeakGuardExtension.class})
class StreamDeadlineTest {

  static Vertx vertx;
  static ShardedPool pool;

  @BeforeAll
  static void setUp(ShardDatabases dbs) throws Exception {
    vertx = Vertx.vertx();
    pool =
        ShardedPool.builder(vertx)
            .nonAtomicMultiNodeWrites(true)
            .rules(
                ShardingRules.builder()
                    .table(
                        "t_sd", t -> t.dataNodes("ds_${0..1}.t_sd").databaseStrategy("id", "mod"))
                    .build())
            .dataSources(dbs.dataSources("ds_"), new PoolOptions().setMaxSize(1))
            .build();
    await(pool.query("CREATE TABLE t_sd (id INT PRIMARY KEY, v INT)").execute());
    await(pool.query("INSERT INTO t_sd (id, v) VALUES (1, 1), (2, 2), (3, 3), (4, 4)").execute());
  }

  @AfterAll
  static void tearDown() throws Exception {
    await(pool.close());
    await(vertx.close());
  }

  static <T> T await(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  @Test
  void aPausedStreamFailsAtItsScopesDeadlineAndGivesItsConnectionsBack() throws Exception {
    Promise<Throwable> failed = Promise.promise(); // the stream's exception handler
    Promise<Throwable> scope = Promise.promise(); // the scope's caller
    AtomicInteger rows = new AtomicInteger();
    long t0 = System.nanoTime();
    TxScope.run(
            vertx,
            ScopeOptions.ofTimeout(Duration.ofMillis(400)),
            () ->
                pool.stream("SELECT id, v FROM t_sd ORDER BY id", Tuple.tuple(), 1)
                    .compose(
                        s -> {
                          s.exceptionHandler(failed::tryComplete);
                          s.endHandler(v -> failed.tryFail("the stream ended"));
                          s.handler(
                              r -> {
                                rows.incrementAndGet();
                                s.pause(); // the reader stops after one row and never resumes
                              });
                          return failed.future(); // the scope waits for the stream
                        }))
        .onFailure(scope::tryComplete);
    assertThat(await(scope.future())).isInstanceOf(ShardkitTimeoutException.class);
    Throwable cause = await(failed.future());
    long millis = (System.nanoTime() - t0) / 1_000_000;
    assertThat(cause).isInstanceOf(ShardkitTimeoutException.class).hasMessageContaining("stream");
    assertThat(rows.get()).isOne();
    assertThat(millis).isBetween(350L, 3_000L);
    // both data sources' one connection is free again
    long t1 = System.nanoTime();
    assertThat(
            await(pool.query("SELECT COUNT(*) FROM t_sd").execute()).iterator().next().getLong(0))
        .isEqualTo(4);
    assertThat((System.nanoTime() - t1) / 1_000_000).isLessThan(1_000);
  }

  @Test
  void aStreamLeftOpenWhenItsScopeEndsIsClosedWithIt() throws Exception {
    Promise<Throwable> failed = Promise.promise();
    await(
        TxScope.run(
            vertx,
            ScopeOptions.ofTimeout(Duration.ofSeconds(5)),
            () ->
                pool.stream("SELECT id, v FROM t_sd ORDER BY id", Tuple.tuple(), 1)
                    .map(
                        s -> {
                          s.pause(); // opened, not read: the scope's body returns at once
                          s.exceptionHandler(failed::tryComplete);
                          s.endHandler(v -> failed.tryFail("the stream ended"));
                          s.handler(r -> {});
                          return null;
                        })));
    Throwable cause = await(failed.future());
    assertThat(cause)
        .isNotInstanceOf(ShardkitTimeoutException.class)
        .hasMessageContaining("scope ended while a stream it opened was still open");
    long t1 = System.nanoTime();
    await(pool.query("SELECT COUNT(*) FROM t_sd").execute());
    assertThat((System.nanoTime() - t1) / 1_000_000).isLessThan(1_000);
  }

  @Test
  void aStreamReadToItsEndInsideTheScopeEndsNormally() throws Exception {
    Promise<Integer> ended = Promise.promise();
    AtomicInteger rows = new AtomicInteger();
    await(
        TxScope.run(
            vertx,
            ScopeOptions.ofTimeout(Duration.ofSeconds(5)),
            () ->
                pool.stream("SELECT id, v FROM t_sd ORDER BY id", Tuple.tuple(), 1)
                    .compose(
                        s -> {
                          s.exceptionHandler(ended::tryFail);
                          s.endHandler(v -> ended.tryComplete(rows.get()));
                          s.handler(r -> rows.incrementAndGet());
                          return ended.future();
                        })));
    assertThat(await(ended.future())).isEqualTo(4);
  }
}
