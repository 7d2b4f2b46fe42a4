package io.shardkit.benchmarks;

import io.shardkit.router.ShardedPool;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.mysqlclient.MySQLBuilder;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
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
 * A scatter {@code ORDER BY ... LIMIT} (queries per second, {@code inFlight} at a time, see {@link
 * Window}): the same query on
 *
 * <ul>
 *   <li>{@code sharded}: {@code ShardedPool} over the 4 shards (each shard reads its first {@value
 *       #LIMIT} rows through the {@code (amount, order_id)} index, the router merges 4 sorted
 *       streams and keeps {@value #LIMIT});
 *   <li>{@code single}: a plain Vert.x pool on one unsharded database holding all the orders.
 * </ul>
 *
 * Run alone: {@code java -jar benchmarks/target/benchmarks.jar ScatterBenchmark -p inFlight=16}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(1)
@Warmup(iterations = 2, time = 5)
@Measurement(iterations = 3, time = 8)
public class ScatterBenchmark {

  static final int LIMIT = 10;
  static final String SQL =
      "SELECT order_id, user_id, amount FROM t_order WHERE amount >= ?"
          + " ORDER BY amount, order_id LIMIT "
          + LIMIT;

  @Param({"1", "16", "64"})
  public int inFlight;

  private BenchEnv env;
  private Vertx vertx;
  private ShardedPool sharded;
  private Pool single;
  private Window window;

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    env = BenchEnv.open();
    vertx = Vertx.vertx();
    PoolOptions poolOptions = new PoolOptions().setMaxSize(inFlight);
    sharded =
        ShardedPool.builder(vertx)
            .rules(BenchEnv.rules())
            .dataSources(env.dataSources(), poolOptions)
            .build();
    single = MySQLBuilder.pool().with(poolOptions).connectingTo(env.single()).using(vertx).build();
  }

  @TearDown(Level.Trial)
  public void tearDown() throws Exception {
    if (window != null) {
      window.stop();
    }
    Bench.await(single.close());
    Bench.await(sharded.close());
    Bench.await(vertx.close());
    env.close();
  }

  @Benchmark
  public void sharded() throws InterruptedException {
    window("sharded", () -> check(sharded.preparedQuery(SQL).execute(params()))).take();
  }

  @Benchmark
  public void single() throws InterruptedException {
    window("single", () -> check(single.preparedQuery(SQL).execute(params()))).take();
  }

  private static Tuple params() {
    return Tuple.of(ThreadLocalRandom.current().nextInt(90_000));
  }

  private static Future<?> check(Future<RowSet<Row>> rows) {
    return rows.map(
        rs -> {
          if (rs.size() != LIMIT) {
            throw new IllegalStateException("expected " + LIMIT + " rows, got " + rs.size());
          }
          return rs;
        });
  }

  private Window window(String name, Supplier<Future<?>> op) {
    if (window == null) {
      window = new Window(name, inFlight, vertx, op).start();
    }
    return window;
  }
}
