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
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The pool's limit of statements in flight ({@code maxInFlight}): a newcomer beyond it is refused
 * at once, before parsing, with {@link PoolOverloadedException}; admitted statements complete; a
 * statement counts until answered (a stream until it ends or closes); an open connection's or
 * transaction's statements are never refused by it. On real shards.
 */
@Shards(2)
@ExtendWith(ShardsExtension.class)
class StatementAdmissionTest {

  private static final String POINT = "SELECT v FROM t WHERE id = ?";

  private static ShardedPool.Builder builder(
      Vertx vertx, ShardDatabases dbs, PoolOptions pool, SimpleMeterRegistry meters) {
    return ShardedPool.builder(vertx)
        .rules(
            ShardingRules.builder()
                .table("t", t -> t.dataNodes("ds_${0..1}.t").databaseStrategy("id", "mod"))
                .build())
        .dataSources(dbs.dataSources("ds_"), pool)
        .meterRegistry(meters);
  }

  private static void table(ShardDatabases dbs) throws Exception {
    dbs.executeOnAll("CREATE TABLE IF NOT EXISTS t (id INT PRIMARY KEY, v INT)");
    dbs.executeOnAll("DELETE FROM t");
    dbs.get(0).execute("INSERT INTO t VALUES (0, 0), (2, 2), (4, 4)");
    dbs.get(1).execute("INSERT INTO t VALUES (1, 1), (3, 3), (5, 5)");
  }

  private static double inFlight(SimpleMeterRegistry meters) {
    return meters.get("shardkit.router.in_flight").gauge().value();
  }

  private static double overloaded(SimpleMeterRegistry meters) {
    return meters
        .get("shardkit.router.statements")
        .tag("route", "overloaded")
        .tag("kind", "unknown")
        .counter()
        .count();
  }

  @Test
  void aBurstFarAboveTheLimitAdmitsTheLimitAndRefusesTheRestAtOnceBeforeParsing(ShardDatabases dbs)
      throws Exception {
    table(dbs);
    Vertx vertx = Vertx.vertx();
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    ShardedPool pool =
        builder(vertx, dbs, new PoolOptions().setMaxSize(2), meters).maxInFlight(8).build();
    try {
      assertThat(pool.maxInFlight()).isEqualTo(8);
      await(pool.preparedQuery(POINT).execute(Tuple.of(0))); // schema loaded, connections warm
      int burst = 400;
      AtomicInteger succeeded = new AtomicInteger();
      List<Throwable> failures = new CopyOnWriteArrayList<>();
      AtomicLong slowestRefusalUs = new AtomicLong();
      AtomicInteger inFlightDuringBurst = new AtomicInteger();
      Promise<Void> all = Promise.promise();
      vertx.runOnContext(
          v -> {
            List<Future<?>> answers = new ArrayList<>();
            for (int i = 0; i < burst; i++) {
              long start = System.nanoTime();
              // the first 8 are admitted and hold their slots for 0.3 s (2 connections per data
              // source: half of them wait); every later one is malformed SQL, which would fail
              // with SqlParseException if it were parsed: the refusal comes before parsing
              Future<?> f =
                  i < 8
                      ? pool.preparedQuery("SELECT SLEEP(0.3), v FROM t WHERE id = ?")
                          .execute(Tuple.of(i))
                      : i % 2 == 0
                          ? pool.query("SELEC nonsense FROM").execute()
                          : pool.preparedQuery(POINT)
                              .executeBatch(List.of(Tuple.of(0), Tuple.of(1)));
              answers.add(
                  f.andThen(
                      ar -> {
                        if (ar.succeeded()) {
                          succeeded.incrementAndGet();
                        } else {
                          failures.add(ar.cause());
                          slowestRefusalUs.accumulateAndGet(
                              (System.nanoTime() - start) / 1_000, Math::max);
                        }
                      }));
            }
            inFlightDuringBurst.set((int) inFlight(meters));
            Future.join(answers).onComplete(ar -> all.complete());
          });
      await(all.future());
      System.out.printf(
          "limit 8: %d offered at once: %d succeeded, %d refused, slowest refusal %d µs%n",
          burst, succeeded.get(), failures.size(), slowestRefusalUs.get());
      assertThat(inFlightDuringBurst.get()).isEqualTo(8);
      assertThat(succeeded.get()).isEqualTo(8);
      assertThat(failures).hasSize(burst - 8);
      assertThat(failures)
          .allSatisfy(
              t -> {
                assertThat(t).isInstanceOf(PoolOverloadedException.class);
                assertThat(t).isInstanceOf(ShardOverloadedException.class); // retryable kind
                assertThat(((PoolOverloadedException) t).limit()).isEqualTo(8);
                assertThat(((PoolOverloadedException) t).dataSource()).isNull();
                assertThat(t.getStackTrace()).isEmpty();
              });
      assertThat(failures.get(0)).hasMessageContaining("maxInFlight").hasMessageContaining("8");
      assertThat(slowestRefusalUs.get()).as("refused at once, not queued").isLessThan(50_000);
      assertThat(overloaded(meters)).isEqualTo(burst - 8);
      assertThat(inFlight(meters)).isZero();
      // the slots came back: the pool serves again, and the malformed SQL now fails as such
      await(pool.preparedQuery(POINT).execute(Tuple.of(3)));
      assertThat(
              pool.query("SELEC nonsense FROM")
                  .execute()
                  .transform(ar -> Future.succeededFuture(ar.cause()))
                  .toCompletionStage()
                  .toCompletableFuture()
                  .get(10, TimeUnit.SECONDS))
          .isInstanceOf(SqlParseException.class);
      assertThat(inFlight(meters)).isZero();
    } finally {
      await(pool.close());
      await(vertx.close());
    }
  }

  @Test
  void anOpenTransactionsAndConnectionsStatementsAreNotRefusedWhileThePoolIsFull(ShardDatabases dbs)
      throws Exception {
    table(dbs);
    Vertx vertx = Vertx.vertx();
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    ShardedPool pool =
        builder(vertx, dbs, new PoolOptions().setMaxSize(4), meters).maxInFlight(2).build();
    try {
      await(pool.preparedQuery(POINT).execute(Tuple.of(0)));
      SqlConnection conn = await(pool.getConnection());
      Promise<Void> txGo = Promise.promise();
      Promise<Void> txInside = Promise.promise();
      // a transaction opened before the pool fills up; its statements come while it is full
      Future<Integer> tx =
          pool.withTransaction(
              c ->
                  c.preparedQuery(POINT)
                      .execute(Tuple.of(2))
                      .compose(
                          rs -> {
                            txInside.complete();
                            return txGo.future();
                          })
                      .compose(
                          v ->
                              c.preparedQuery("UPDATE t SET v = v + 10 WHERE id = ?")
                                  .execute(Tuple.of(2)))
                      .compose(v -> c.preparedQuery(POINT).execute(Tuple.of(2)))
                      .map(rs -> rs.iterator().next().getInteger(0)));
      await(txInside.future());
      List<Future<?>> slow = new ArrayList<>();
      slow.add(pool.preparedQuery("SELECT SLEEP(2), v FROM t WHERE id = ?").execute(Tuple.of(0)));
      slow.add(pool.preparedQuery("SELECT SLEEP(2), v FROM t WHERE id = ?").execute(Tuple.of(1)));
      Throwable refused =
          pool.preparedQuery(POINT)
              .execute(Tuple.of(4))
              .transform(ar -> Future.succeededFuture(ar.cause()))
              .toCompletionStage()
              .toCompletableFuture()
              .get(10, TimeUnit.SECONDS);
      assertThat(refused).as("the pool is full").isInstanceOf(PoolOverloadedException.class);
      // while it is full: the open connection's statements and the transaction's run
      long start = System.nanoTime();
      Row row = await(conn.preparedQuery(POINT).execute(Tuple.of(5))).iterator().next();
      assertThat(row.getInteger(0)).isEqualTo(5);
      await(
          conn.preparedQuery(POINT)
              .executeBatch(List.of(Tuple.of(4), Tuple.of(3)))); // a batch, too
      txGo.complete();
      assertThat(await(tx)).isEqualTo(12);
      long ms = (System.nanoTime() - start) / 1_000_000;
      assertThat(ms).as("not waiting for the slow ones").isLessThan(1_500);
      assertThat(slow.stream().allMatch(f -> !f.isComplete())).isTrue();
      assertThat(inFlight(meters)).as("the two slow ones").isEqualTo(2);
      await(Future.all(slow));
      await(conn.close());
      assertThat(inFlight(meters)).isZero();
      await(pool.preparedQuery(POINT).execute(Tuple.of(4)));
    } finally {
      await(pool.close());
      await(vertx.close());
    }
  }

  @Test
  void aStreamHoldsItsSlotUntilItEndsFailsOrIsClosed(ShardDatabases dbs) throws Exception {
    table(dbs);
    Vertx vertx = Vertx.vertx();
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    ShardedPool pool =
        builder(vertx, dbs, new PoolOptions().setMaxSize(2), meters).maxInFlight(1).build();
    try {
      await(pool.preparedQuery(POINT).execute(Tuple.of(0)));
      String all = "SELECT id, v FROM t ORDER BY id";
      // read to the end
      ShardedRowStream stream = await(pool.stream(all, Tuple.tuple(), 1));
      assertThat(inFlight(meters)).isEqualTo(1);
      assertThat(failure(pool.preparedQuery(POINT).execute(Tuple.of(0))))
          .isInstanceOf(PoolOverloadedException.class);
      assertThat(failure(pool.stream(all, Tuple.tuple(), 1)))
          .isInstanceOf(PoolOverloadedException.class);
      List<Integer> ids = new CopyOnWriteArrayList<>();
      Promise<Void> ended = Promise.promise();
      stream.exceptionHandler(ended::tryFail).endHandler(v -> ended.tryComplete());
      stream.handler(r -> ids.add(r.getInteger("id")));
      await(ended.future());
      assertThat(ids).containsExactly(0, 1, 2, 3, 4, 5);
      assertThat(inFlight(meters)).isZero();
      // closed before the end
      ShardedRowStream closed = await(pool.stream(all, Tuple.tuple(), 1));
      assertThat(inFlight(meters)).isEqualTo(1);
      await(closed.close());
      assertThat(inFlight(meters)).isZero();
      await(closed.close()); // a second close counts nothing out twice
      assertThat(inFlight(meters)).isZero();
      // failing mid-way: the row handler throws on the second row
      ShardedRowStream failing = await(pool.stream(all, Tuple.tuple(), 1));
      assertThat(inFlight(meters)).isEqualTo(1);
      Promise<Throwable> failed = Promise.promise();
      AtomicInteger seen = new AtomicInteger();
      failing.endHandler(v -> failed.tryFail("ended instead of failing"));
      failing.exceptionHandler(failed::tryComplete);
      failing.handler(
          r -> {
            if (seen.incrementAndGet() == 2) {
              throw new IllegalStateException("handler failed");
            }
          });
      assertThat(await(failed.future())).hasMessage("handler failed");
      assertThat(inFlight(meters)).isZero();
      // failing to open (an unknown column), or refused by the router (an aggregate to merge)
      assertThat(failure(pool.stream("SELECT nope FROM t ORDER BY id", Tuple.tuple(), 1)))
          .isNotInstanceOf(PoolOverloadedException.class);
      assertThat(inFlight(meters)).isZero();
      assertThat(failure(pool.stream("SELECT COUNT(*) FROM t", Tuple.tuple(), 1)))
          .isInstanceOf(UnsupportedSqlException.class);
      assertThat(inFlight(meters)).isZero();
      assertThat(await(pool.preparedQuery(POINT).execute(Tuple.of(1))).size()).isEqualTo(1);
      assertThat(inFlight(meters)).isZero();
    } finally {
      await(pool.close());
      await(vertx.close());
    }
  }

  @Test
  void theLimitDefaultsToWhatThePoolsHoldAndBadValuesAreTypedAndNameTheField(ShardDatabases dbs) {
    Vertx vertx = Vertx.vertx();
    try {
      SimpleMeterRegistry meters = new SimpleMeterRegistry();
      ShardedPool.Builder b =
          builder(vertx, dbs, new PoolOptions().setMaxSize(3).setMaxWaitQueueSize(5), meters);
      assertThat(b.maxInFlight()).isEqualTo(ShardedPool.Builder.DEFAULT_MAX_IN_FLIGHT);
      assertThat(b.effectiveMaxInFlight()).isEqualTo(2 * (3 + 5));
      ShardedPool.Builder defaultQueue =
          builder(vertx, dbs, new PoolOptions().setMaxSize(16), meters);
      assertThat(defaultQueue.effectiveMaxInFlight())
          .isEqualTo(2 * (16 + ShardedPool.Builder.DEFAULT_MAX_WAIT_QUEUE_SIZE));
      assertThat(
              builder(
                      vertx,
                      dbs,
                      new PoolOptions().setMaxSize(3).setMaxWaitQueueSize(Integer.MAX_VALUE),
                      meters)
                  .effectiveMaxInFlight())
          .isEqualTo(Integer.MAX_VALUE);
      assertThat(b.maxInFlight(0).effectiveMaxInFlight()).isZero();
      assertThatThrownBy(() -> b.maxInFlight(-2))
          .isInstanceOfSatisfying(
              ShardingConfigurationException.class,
              e -> assertThat(e.field()).isEqualTo("maxInFlight"))
          .hasMessageContaining("-2");
      JsonObject config =
          new JsonObject()
              .put("rules", new JsonObject().put("defaultDataSource", "ds_0"))
              .put(
                  "dataSources",
                  new JsonObject().put("ds_0", new JsonObject().put("host", "127.0.0.1")));
      for (Object bad : new Object[] {"many", 1.5, -7}) {
        assertThatThrownBy(
                () -> ShardedPool.builder(vertx).config(config.copy().put("maxInFlight", bad)))
            .as("maxInFlight %s", bad)
            .isInstanceOfSatisfying(
                ShardingConfigurationException.class,
                e -> assertThat(e.field()).isEqualTo("maxInFlight"))
            .hasMessageContaining(String.valueOf(bad));
      }
      assertThat(
              ShardedPool.builder(vertx).config(config.copy().put("maxInFlight", 64)).maxInFlight())
          .isEqualTo(64);
    } finally {
      vertx.close();
    }
  }

  private static Throwable failure(Future<?> f) throws Exception {
    return f.transform(ar -> Future.succeededFuture(ar.cause()))
        .toCompletionStage()
        .toCompletableFuture()
        .get(10, TimeUnit.SECONDS);
  }

  static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }
}
