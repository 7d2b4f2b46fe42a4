package io.shardkit.benchmarks;

import io.shardkit.context.ShardkitException;
import io.shardkit.router.ShardedPool;
import io.shardkit.router.ShardingRules;
import io.shardkit.testkit.ShardDatabases;
import io.shardkit.testkit.TestShards;
import io.shardkit.tx.TccAction;
import io.shardkit.tx.TccCodec;
import io.shardkit.tx.TccCoordinator;
import io.shardkit.tx.TccOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.mysqlclient.MySQLConnectOptions;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Money transfers per second with 32 in flight, on testkit shards (embedded MariaDB 11.4 with
 * durable commits unless endpoints are configured):
 *
 * <ul>
 *   <li>{@code localTransfer}: the baseline, a one-shard local transaction ({@code
 *       Pool.withTransaction}: two UPDATEs, one commit);
 *   <li>{@code tccTransfer}: a TCC transfer across two shards: debit (freeze on try, apply on
 *       confirm) on shard 0 and credit on shard 1, tries in parallel, through {@code
 *       TccCoordinator} with its log on shard 0. Per transfer: one log write (both branches), two
 *       fenced tries, the COMMIT decision, two fenced confirms, and a batched "finished" mark.
 * </ul>
 *
 * Each invocation waits for one transfer to finish and starts the next, so 32 are always in flight;
 * the score is transfers per second. Failures (none expected) are counted and printed.
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar TccBenchmark -f 1 -wi 2 -i 3 -w 5s -r
 * 10s} (each benchmark forks its own JVM and starts its own two shards).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 5)
@Measurement(iterations = 3, time = 10)
@Fork(1)
public class TccBenchmark {

  static final int IN_FLIGHT = 32;
  static final int ACCOUNTS = 10_000;

  record Move(long account, long amount) {
    static final TccCodec<Move> CODEC =
        TccCodec.of(
            m -> new JsonObject().put("account", m.account()).put("amount", m.amount()),
            j -> new Move(j.getLong("account"), j.getLong("amount")));
  }

  private TestShards shards;
  private ShardDatabases databases;
  private Vertx vertx;
  private ShardedPool pool;
  private TccCoordinator coordinator;
  private TccAction<Move> debit;
  private TccAction<Move> credit;
  private Window window;

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    shards = TestShards.start(2);
    databases = shards.createDatabases("tcc_bench", 2);
    for (int s = 0; s < 2; s++) {
      databases
          .get(s)
          .execute(
              "CREATE TABLE account (id BIGINT PRIMARY KEY, balance BIGINT NOT NULL,"
                  + " frozen BIGINT NOT NULL DEFAULT 0, incoming BIGINT NOT NULL DEFAULT 0)");
      StringBuilder insert = new StringBuilder("INSERT INTO account (id, balance) VALUES ");
      for (int id = s; id < 2 * ACCOUNTS; id += 2) {
        insert.append(id == s ? "" : ", ").append('(').append(id).append(", 1000000000)");
      }
      databases.get(s).execute(insert.toString());
    }
    vertx = Vertx.vertx();
    Map<String, MySQLConnectOptions> sources = new LinkedHashMap<>();
    for (Map.Entry<String, MySQLConnectOptions> e : databases.dataSources("ds_").entrySet()) {
      sources.put(e.getKey(), e.getValue().setCachePreparedStatements(true));
    }
    pool =
        ShardedPool.builder(vertx)
            .rules(
                ShardingRules.builder()
                    .table(
                        "account",
                        t -> t.dataNodes("ds_${0..1}.account").databaseStrategy("id", "mod"))
                    .build())
            .dataSources(sources, new PoolOptions().setMaxSize(IN_FLIGHT))
            .build();
    debit =
        TccAction.builder("debit", Move.CODEC)
            .shardedBy("account", Move::account)
            .onTry(
                (ctx, m) ->
                    ctx.connection()
                        .preparedQuery(
                            "UPDATE account SET balance = balance - ?, frozen = frozen + ?"
                                + " WHERE id = ? AND balance >= ?")
                        .execute(Tuple.of(m.amount(), m.amount(), m.account(), m.amount()))
                        .compose(
                            rows ->
                                rows.rowCount() == 1
                                    ? Future.<Void>succeededFuture()
                                    : Future.failedFuture(new ShardkitException("funds"))))
            .onConfirm(
                (ctx, m) ->
                    ctx.connection()
                        .preparedQuery("UPDATE account SET frozen = frozen - ? WHERE id = ?")
                        .execute(Tuple.of(m.amount(), m.account()))
                        .<Void>mapEmpty())
            .onCancel(
                (ctx, m) ->
                    ctx.connection()
                        .preparedQuery(
                            "UPDATE account SET balance = balance + ?, frozen = frozen - ?"
                                + " WHERE id = ?")
                        .execute(Tuple.of(m.amount(), m.amount(), m.account()))
                        .<Void>mapEmpty())
            .build();
    credit =
        TccAction.builder("credit", Move.CODEC)
            .shardedBy("account", Move::account)
            .onTry(
                (ctx, m) ->
                    ctx.connection()
                        .preparedQuery("UPDATE account SET incoming = incoming + ? WHERE id = ?")
                        .execute(Tuple.of(m.amount(), m.account()))
                        .<Void>mapEmpty())
            .onConfirm(
                (ctx, m) ->
                    ctx.connection()
                        .preparedQuery(
                            "UPDATE account SET incoming = incoming - ?, balance = balance + ?"
                                + " WHERE id = ?")
                        .execute(Tuple.of(m.amount(), m.amount(), m.account()))
                        .<Void>mapEmpty())
            .onCancel(
                (ctx, m) ->
                    ctx.connection()
                        .preparedQuery("UPDATE account SET incoming = incoming - ? WHERE id = ?")
                        .execute(Tuple.of(m.amount(), m.account()))
                        .<Void>mapEmpty())
            .build();
    coordinator =
        TccCoordinator.create(vertx, pool, TccOptions.defaults()).register(debit).register(credit);
    coordinator.setup().toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }

  @TearDown(Level.Trial)
  public void tearDown() throws Exception {
    if (window != null) {
      window.stop();
      System.out.printf(
          "%n%s: %d transfers, %d failed (last: %s)%n",
          window.name, window.completed.get(), window.failed.get(), window.lastFailure);
    }
    pool.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    databases.close();
    shards.close();
  }

  /** Even ids live on ds_0, odd ids on ds_1. */
  private static long onShard(int shard) {
    return 2L * ThreadLocalRandom.current().nextInt(ACCOUNTS) + shard;
  }

  private Future<?> localTransferOnce() {
    long from = onShard(0);
    long to = onShard(0);
    long amount = 1 + ThreadLocalRandom.current().nextInt(100);
    return pool.pool("ds_0")
        .withTransaction(
            conn ->
                conn.preparedQuery("UPDATE account SET balance = balance - ? WHERE id = ?")
                    .execute(Tuple.of(amount, from))
                    .compose(
                        v ->
                            conn.preparedQuery(
                                    "UPDATE account SET balance = balance + ? WHERE id = ?")
                                .execute(Tuple.of(amount, to))));
  }

  private Future<?> tccTransferOnce() {
    Move out = new Move(onShard(0), 1 + ThreadLocalRandom.current().nextInt(100));
    Move in = new Move(onShard(1), out.amount());
    return coordinator.execute(
        Duration.ofSeconds(10),
        tx -> Future.all(tx.enlist(debit, out), tx.enlist(credit, in)).mapEmpty());
  }

  @Benchmark
  public boolean localTransfer() throws InterruptedException {
    return window("localTransfer", this::localTransferOnce).next();
  }

  @Benchmark
  public boolean tccTransfer() throws InterruptedException {
    return window("tccTransfer", this::tccTransferOnce).next();
  }

  private Window window(String name, Supplier<Future<?>> transfer) {
    if (window == null) {
      window = new Window(name, transfer);
      window.start();
    }
    return window;
  }

  /** Keeps {@link #IN_FLIGHT} transfers running; {@link #next()} waits for one to finish. */
  static final class Window {
    final String name;
    final Supplier<Future<?>> transfer;
    final BlockingQueue<Boolean> finished = new ArrayBlockingQueue<>(16 * IN_FLIGHT);
    final AtomicBoolean running = new AtomicBoolean(true);
    final AtomicInteger inFlight = new AtomicInteger();
    final AtomicLong completed = new AtomicLong();
    final AtomicLong failed = new AtomicLong();
    volatile Throwable lastFailure;

    Window(String name, Supplier<Future<?>> transfer) {
      this.name = name;
      this.transfer = transfer;
    }

    void start() {
      for (int i = 0; i < IN_FLIGHT; i++) {
        launch();
      }
    }

    private void launch() {
      if (!running.get()) {
        return;
      }
      inFlight.incrementAndGet();
      transfer
          .get()
          .onComplete(
              ar -> {
                inFlight.decrementAndGet();
                completed.incrementAndGet();
                if (ar.failed()) {
                  failed.incrementAndGet();
                  lastFailure = ar.cause();
                }
                finished.offer(ar.succeeded());
              });
    }

    boolean next() throws InterruptedException {
      Boolean ok = finished.poll(30, TimeUnit.SECONDS);
      if (ok == null) {
        throw new IllegalStateException(name + ": no transfer finished within 30 s");
      }
      launch();
      return ok;
    }

    void stop() throws InterruptedException {
      running.set(false);
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (inFlight.get() > 0 && System.nanoTime() < end) {
        finished.poll(100, TimeUnit.MILLISECONDS);
      }
    }
  }
}
