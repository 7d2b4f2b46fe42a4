package io.shardkit.benchmarks;

import io.shardkit.router.ShardedPool;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Point select by key (selects per second, {@code inFlight} at a time on one event loop, see {@link
 * Window}):
 *
 * <ul>
 *   <li>{@code direct}: the caller knows the owning shard ({@code order_id mod 4}) and uses that
 *       shard's Vert.x pool;
 *   <li>{@code routed}: the same statement through {@code ShardedPool} (plan cache, route, rewrite,
 *       execute on the same per-shard pool).
 * </ul>
 *
 * Budget (DESIGN.md): routed ≥ 95% of direct. Run alone: {@code java -jar
 * benchmarks/target/benchmarks.jar PointSelectBenchmark -p inFlight=16}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(1)
@Warmup(iterations = 2, time = 5)
@Measurement(iterations = 3, time = 8)
public class PointSelectBenchmark {

  static final String SQL =
      "SELECT order_id, user_id, amount, status FROM t_order WHERE order_id = ?";

  @Param({"1", "16", "64"})
  public int inFlight;

  /**
   * The router's adaptive admission target in ms ({@code ShardedPool.Builder.queueDelayTarget}; 0:
   * off, statements run on the pools directly). Its cost on the routed path: {@code -p
   * queueDelayTargetMs=10,0}.
   */
  @Param({"10"})
  public long queueDelayTargetMs;

  private BenchEnv env;
  private Vertx vertx;
  private ShardedPool sharded;
  private Window window;

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    env = BenchEnv.open();
    vertx = Vertx.vertx();
    sharded =
        ShardedPool.builder(vertx)
            .rules(BenchEnv.rules())
            .dataSources(env.dataSources(), new PoolOptions().setMaxSize(inFlight))
            .queueDelayTarget(java.time.Duration.ofMillis(queueDelayTargetMs))
            .build();
  }

  @TearDown(Level.Trial)
  public void tearDown() throws Exception {
    if (window != null) {
      window.stop();
    }
    Bench.await(sharded.close());
    Bench.await(vertx.close());
    env.close();
  }

  @Benchmark
  public void direct() throws InterruptedException {
    window("direct", this::directOnce).take();
  }

  @Benchmark
  public void routed() throws InterruptedException {
    window("routed", this::routedOnce).take();
  }

  /**
   * The routed point select inside a transaction scope (a 5 s deadline per statement, as a caller
   * with a deadline runs it): what the scope and the watch that stops a statement past its deadline
   * cost ({@code StatementCancel}).
   */
  @Benchmark
  public void routedScoped() throws InterruptedException {
    window("routedScoped", this::routedScopedOnce).take();
  }

  private Future<?> routedScopedOnce() {
    return io.shardkit.context.TxScope.run(
        vertx,
        io.shardkit.context.ScopeOptions.ofTimeout(java.time.Duration.ofSeconds(5)),
        this::routedOnce);
  }

  private Future<?> directOnce() {
    long id = ThreadLocalRandom.current().nextLong(BenchEnv.ORDERS);
    return check(
        sharded.pool("ds_" + BenchEnv.shardOf(id)).preparedQuery(SQL).execute(Tuple.of(id)));
  }

  private Future<?> routedOnce() {
    long id = ThreadLocalRandom.current().nextLong(BenchEnv.ORDERS);
    return check(sharded.preparedQuery(SQL).execute(Tuple.of(id)));
  }

  private static Future<?> check(Future<RowSet<Row>> rows) {
    return rows.map(
        rs -> {
          if (rs.size() != 1) {
            throw new IllegalStateException("expected one row, got " + rs.size());
          }
          return rs;
        });
  }

  private Window window(String name, java.util.function.Supplier<Future<?>> op) {
    if (window == null) {
      window = new Window(name, inFlight, vertx, op).start();
    }
    return window;
  }
}
