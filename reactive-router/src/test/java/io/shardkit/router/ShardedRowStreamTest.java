package io.shardkit.router;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardkit.context.junit.LeakGuardExtension;
import io.shardkit.testkit.ShardDatabases;
import io.shardkit.testkit.Shards;
import io.shardkit.testkit.ShardsExtension;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Streaming ORDER BY over 4 shards of 200k rows each, with back-pressure and bounded memory. */
@Shards(4)
@ExtendWith({ShardsExtension.class, LeakGuardExtension.class})
class ShardedRowStreamTest {

  static final int ROWS_PER_SHARD = 200_000;
  static final int FETCH = 500;

  static Vertx vertx;
  static ShardedPool pool;

  @BeforeAll
  static void load(ShardDatabases dbs) throws Exception {
    vertx = Vertx.vertx();
    ShardingRules rules =
        ShardingRules.builder()
            .table("t_big", t -> t.dataNodes("ds_${0..3}.t_big").databaseStrategy("id", "mod"))
            .build();
    pool =
        ShardedPool.builder(vertx)
            .nonAtomicMultiNodeWrites(true)
            .rules(rules)
            .dataSources(dbs.dataSources("ds_"), new PoolOptions().setMaxSize(2))
            .build();
    await(
        pool.query(
                "CREATE TABLE t_big (id BIGINT NOT NULL PRIMARY KEY, v INT NOT NULL, pad VARCHAR(16))")
            .execute());
    for (int shard = 0; shard < 4; shard++) {
      // MariaDB's sequence engine: one INSERT ... SELECT per shard; id % 4 == shard as the rule
      // says.
      dbs.get(shard)
          .execute(
              "INSERT INTO t_big (id, v, pad) SELECT seq * 4 + "
                  + shard
                  + ", (seq * 7919 + "
                  + shard
                  + " * 13) % 1000003, 'x' FROM seq_0_to_"
                  + (ROWS_PER_SHARD - 1));
    }
  }

  @AfterAll
  static void close() throws Exception {
    await(pool.close());
    await(vertx.close());
  }

  static <T> T await(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(120, TimeUnit.SECONDS);
  }

  @Test
  void streamsAllRowsInOrderHoldingAtMostShardsTimesFetchSize() throws Exception {
    Context context = vertx.getOrCreateContext();
    AtomicLong count = new AtomicLong();
    long[] previous = {Long.MIN_VALUE, Long.MIN_VALUE};
    AtomicLong outOfOrder = new AtomicLong();
    Promise<ShardedRowStream> finished = Promise.promise();
    context.runOnContext(
        v ->
            pool.stream("SELECT id, v FROM t_big ORDER BY v, id", Tuple.tuple(), FETCH)
                .onComplete(
                    ar -> {
                      if (ar.failed()) {
                        finished.fail(ar.cause());
                        return;
                      }
                      ShardedRowStream stream = ar.result();
                      stream.exceptionHandler(finished::fail);
                      stream.endHandler(x -> finished.complete(stream));
                      stream.pause();
                      stream.handler(
                          row -> {
                            long v2 = row.getInteger("v");
                            long id = row.getLong("id");
                            if (v2 < previous[0] || v2 == previous[0] && id <= previous[1]) {
                              outOfOrder.incrementAndGet();
                            }
                            previous[0] = v2;
                            previous[1] = id;
                            if (count.incrementAndGet() % 1000 == 0) {
                              // a slow consumer: ask for the next thousand rows later
                              vertx.setTimer(1, t -> stream.fetch(1000));
                            }
                          });
                      stream.fetch(1000);
                    }));
    ShardedRowStream stream = await(finished.future());
    assertThat(count.get()).isEqualTo(4L * ROWS_PER_SHARD);
    assertThat(outOfOrder.get()).isZero();
    assertThat(stream.bufferedRowsHighWaterMark()).isLessThanOrEqualTo(4 * FETCH).isGreaterThan(0);
  }

  @Test
  void limitAppliesAcrossShardsAndAggregatesAreRefused() throws Exception {
    Promise<Long> firstIds = Promise.promise();
    AtomicLong sum = new AtomicLong();
    AtomicLong count = new AtomicLong();
    pool.stream("SELECT id FROM t_big ORDER BY id LIMIT 10, 5", null, 3)
        .onComplete(
            ar -> {
              ShardedRowStream s = ar.result();
              // End and exception handlers first: setting the row handler emits at once, and
              // when the first batches already hold the whole LIMIT the stream ends right there.
              s.endHandler(v -> firstIds.complete(count.get()));
              s.exceptionHandler(firstIds::fail);
              s.handler(
                  (Row r) -> {
                    sum.addAndGet(r.getLong(0));
                    count.incrementAndGet();
                  });
            });
    assertThat(await(firstIds.future())).isEqualTo(5L);
    assertThat(sum.get()).isEqualTo(10 + 11 + 12 + 13 + 14);
    assertThatThrownBy(() -> await(pool.stream("SELECT COUNT(*) FROM t_big", null, 10)))
        .hasCauseInstanceOf(UnsupportedSqlException.class);
  }
}
