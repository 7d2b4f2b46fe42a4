package io.shardkit.router;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardkit.context.junit.LeakGuardExtension;
import io.shardkit.testkit.ShardDatabases;
import io.shardkit.testkit.Shards;
import io.shardkit.testkit.ShardsExtension;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Tuple;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A streamed merge that fails on the data (two strings it must order without their collation's sort
 * keys, reached through {@code *}) ends the stream through its exception handler with the typed
 * refusal, and gives its connections back. The comparison ran inside a cursor read's callback,
 * where the exception escaped into the context: the stream neither ended nor failed, and its
 * connections stayed taken.
 */
@Shards(2)
@ExtendWith({ShardsExtension.class, LeakGuardExtension.class})
class StreamMergeFailureTest {

  static Vertx vertx;
  static ShardedPool pool;

  @BeforeAll
  static void setUp(ShardDatabases dbs) throws Exception {
    vertx = Vertx.vertx();
    ShardingRules rules =
        ShardingRules.builder()
            .table("t_s", t -> t.dataNodes("ds_${0..1}.t_s").databaseStrategy("id", "mod"))
            .build();
    pool =
        ShardedPool.builder(vertx)
            .nonAtomicMultiNodeWrites(true)
            .rules(rules)
            .dataSources(dbs.dataSources("ds_"), new PoolOptions().setMaxSize(1))
            .build();
    await(pool.query("CREATE TABLE t_s (id INT PRIMARY KEY, name VARCHAR(20))").execute());
    await(pool.query("INSERT INTO t_s (id, name) VALUES (1, 'b'), (2, 'a'), (3, 'c')").execute());
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
  void aMergeThatFailsOnTheDataEndsTheStreamTypedAndReleasesItsConnections() throws Exception {
    Promise<Throwable> failed = Promise.promise();
    AtomicInteger rows = new AtomicInteger();
    pool.stream("SELECT * FROM t_s ORDER BY 2", Tuple.tuple(), 10)
        .onComplete(
            ar -> {
              if (ar.failed()) {
                failed.complete(ar.cause());
                return;
              }
              ShardedRowStream s = ar.result();
              s.endHandler(v -> failed.fail("the stream ended without the merge's failure"));
              s.exceptionHandler(failed::complete);
              s.handler(r -> rows.incrementAndGet());
            });
    Throwable cause = await(failed.future());
    assertThat(cause)
        .isInstanceOf(UnsupportedSqlException.class)
        .hasMessageContaining("cannot compare the strings");
    // one connection per data source: both were given back (the next statement gets them)
    assertThat(
            await(pool.query("SELECT id FROM t_s ORDER BY id").execute())
                .iterator()
                .next()
                .getInteger(0))
        .isEqualTo(1);
  }
}
