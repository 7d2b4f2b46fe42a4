package io.shardkit.tx.tcc;

import io.shardkit.router.ShardedPool;
import io.shardkit.router.ShardingRules;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.mysqlclient.MySQLConnectOptions;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;

/** Vert.x with a short blocked-thread warning, blocking waits for the test thread, pools. */
final class TccTestSupport {

  private TccTestSupport() {}

  static Vertx vertx() {
    return Vertx.vertx(
        new VertxOptions()
            .setBlockedThreadCheckInterval(200)
            .setMaxEventLoopExecuteTime(200)
            .setMaxEventLoopExecuteTimeUnit(TimeUnit.MILLISECONDS)
            .setWarningExceptionTime(500)
            .setWarningExceptionTimeUnit(TimeUnit.MILLISECONDS));
  }

  static void close(Vertx vertx) throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
  }

  /** The {@code account} table on {@code ds_0..ds_(n-1)}, placed by {@code id mod n}. */
  static ShardingRules rules(int shards) {
    return ShardingRules.builder()
        .table(
            "account",
            t -> t.dataNodes("ds_${0.." + (shards - 1) + "}.account").databaseStrategy("id", "mod"))
        .build();
  }

  /**
   * A pool over {@code dataSources}; the bank's statements are routed once here, on the test
   * thread, so the first phase does not load the SQL parser on an event loop.
   */
  static ShardedPool pool(Vertx vertx, Map<String, MySQLConnectOptions> dataSources) {
    ShardedPool pool =
        ShardedPool.builder(vertx)
            .rules(rules(dataSources.size()))
            .dataSources(dataSources, new PoolOptions().setMaxSize(8))
            .build();
    warmUp(pool);
    return pool;
  }

  /** Routes the bank's statements once, on the calling (test) thread. */
  static void warmUp(ShardedPool pool) {
    for (String sql : Bank.STATEMENTS) {
      int params = (int) sql.chars().filter(c -> c == '?').count();
      Object[] values = new Object[params];
      java.util.Arrays.fill(values, 1L);
      pool.dataSourcesFor(sql, Tuple.from(values));
    }
  }

  /**
   * The TCC protocol of a {@link io.shardkit.tx.Transactions} created on {@code pool} with this TCC
   * section (log on the section's data source, else the pool's first), for tests that drive its
   * stop points and recovery passes.
   */
  static io.shardkit.tx.impl.tcc.TccCoordinatorImpl coordinator(
      Vertx vertx, ShardedPool pool, io.shardkit.tx.TccOptions options) {
    String log =
        options.logDataSource() != null
            ? options.logDataSource()
            : pool.dataSourceNames().iterator().next();
    io.shardkit.tx.Transactions transactions =
        io.shardkit.tx.Transactions.create(
            vertx, pool, io.shardkit.tx.TransactionsOptions.builder(log).tcc(options).build());
    return ((io.shardkit.tx.impl.TransactionsImpl) transactions).tccCoordinator();
  }

  static <T> T await(Future<T> future) throws Exception {
    return await(future, Duration.ofSeconds(30));
  }

  static <T> T await(Future<T> future, Duration timeout) throws Exception {
    try {
      return future
          .toCompletionStage()
          .toCompletableFuture()
          .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      throw new AssertionError("expected success, got " + e.getCause(), e.getCause());
    } catch (TimeoutException e) {
      throw new AssertionError("future did not complete within " + timeout, e);
    }
  }

  static Throwable awaitFailure(Future<?> future) throws Exception {
    try {
      Object value = future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
      throw new AssertionError("expected a failure, got " + value);
    } catch (ExecutionException e) {
      return e.getCause();
    } catch (TimeoutException e) {
      throw new AssertionError("future did not complete within 30 s", e);
    }
  }

  /** Polls {@code condition} on the test thread until it holds or {@code timeout} passes. */
  static boolean eventually(Duration timeout, BooleanSupplier condition) throws Exception {
    long end = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < end) {
      if (condition.getAsBoolean()) {
        return true;
      }
      Thread.sleep(50);
    }
    return condition.getAsBoolean();
  }

  /**
   * shardkit's details of a rolled-back TCC or Saga transaction: the failure itself when it is the
   * typed exception, else the one attached to the work's own failure (suppressed); null if none.
   */
  static io.shardkit.tx.TransactionRolledBackException rolledBack(Throwable failure) {
    return io.shardkit.tx.TransactionRolledBackException.of(failure).orElse(null);
  }
}
