package io.shardkit.benchmarks;

import io.shardkit.router.ShardedPool;
import io.shardkit.router.ShardingRules;
import io.shardkit.testkit.ShardDatabases;
import io.shardkit.testkit.TestShards;
import io.shardkit.tx.TransactionOptions;
import io.shardkit.tx.Transactions;
import io.shardkit.tx.TransactionsOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongFunction;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Money transfers per second with 32 in flight, on real MariaDB shards started by the testkit:
 *
 * <ul>
 *   <li>{@code localOneShard} (a): {@code Pool.withTransaction} on one shard, both accounts there;
 *   <li>{@code xaTwoShards} (b): a shardkit transaction debiting shard 0 and crediting shard 1 (XA
 *       two-phase commit with the decision in the coordinator log);
 *   <li>{@code nonAtomicTwoShards} (c): two local transactions in sequence, one per shard (what
 *       people do without shardkit: not atomic).
 * </ul>
 *
 * The budget is b/a ≥ 0.6. Run: {@code java -jar benchmarks/target/benchmarks.jar TransferBenchmark
 * -f 1 -wi 2 -i 3 -w 5s -r 10s}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(1)
@Warmup(iterations = 2, time = 5)
@Measurement(iterations = 3, time = 10)
public class TransferBenchmark {

  static final int IN_FLIGHT = 32;
  static final int PER_INVOCATION = 512;
  static final int ACCOUNTS_PER_SHARD = 10_000;

  private TestShards shards;
  private ShardDatabases dbs;
  private Vertx vertx;
  private ShardedPool sharded;
  private Transactions transactions;
  private Pool shard0;
  private Pool shard1;
  private final SplittableRandom random = new SplittableRandom(7);
  private final TransactionOptions timeout = TransactionOptions.ofTimeout(Duration.ofSeconds(10));

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    shards = TestShards.start(2);
    dbs = shards.createDatabases("bench", 2);
    for (int s = 0; s < 2; s++) {
      dbs.get(s)
          .execute(
              "CREATE TABLE account (id BIGINT PRIMARY KEY, balance BIGINT NOT NULL) ENGINE=InnoDB");
      StringBuilder insert = new StringBuilder("INSERT INTO account VALUES ");
      for (int i = 0; i < ACCOUNTS_PER_SHARD; i++) {
        long id = 2L * i + s; // id mod 2 = shard
        insert.append(i == 0 ? "" : ", ").append('(').append(id).append(", 1000000)");
      }
      dbs.get(s).execute(insert.toString());
    }
    vertx = Vertx.vertx();
    ShardingRules rules =
        ShardingRules.builder()
            .table("account", t -> t.dataNodes("ds_${0..1}.account").databaseStrategy("id", "mod"))
            .build();
    PoolOptions poolOptions = new PoolOptions().setMaxSize(IN_FLIGHT);
    sharded =
        ShardedPool.builder(vertx)
            .rules(rules)
            .dataSources(dbs.dataSources("ds_"), poolOptions)
            .build();
    transactions = Transactions.create(vertx, sharded, TransactionsOptions.of("ds_0"));
    await(transactions.installSchema());
    shard0 = sharded.pool("ds_0");
    shard1 = sharded.pool("ds_1");
  }

  @TearDown(Level.Trial)
  public void tearDown() throws Exception {
    await(transactions.close());
    await(sharded.close());
    await(vertx.close());
    dbs.close();
    shards.close();
  }

  /** (a) One shard, one local transaction. */
  @Benchmark
  @OperationsPerInvocation(PER_INVOCATION)
  public void localOneShard() throws Exception {
    run(
        n ->
            shard0.withTransaction(
                conn -> debitCredit(conn, account(0), account(0), conn).mapEmpty()));
  }

  /** (b) Two shards, one shardkit XA transaction. */
  @Benchmark
  @OperationsPerInvocation(PER_INVOCATION)
  public void xaTwoShards() throws Exception {
    run(
        n ->
            transactions.withTransaction(
                timeout, sql -> debitCredit(sql, account(0), account(1), sql)));
  }

  /** (c) Two shards, two local transactions in sequence (not atomic). */
  @Benchmark
  @OperationsPerInvocation(PER_INVOCATION)
  public void nonAtomicTwoShards() throws Exception {
    run(
        n -> {
          long from = account(0);
          long to = account(1);
          return shard0
              .withTransaction(conn -> update(conn, -1, from))
              .compose(v -> shard1.withTransaction(conn -> update(conn, 1, to)))
              .mapEmpty();
        });
  }

  private static Future<Void> debitCredit(SqlClient a, long from, long to, SqlClient b) {
    return update(a, -1, from).compose(v -> update(b, 1, to));
  }

  private static Future<Void> update(SqlClient client, long delta, long id) {
    return client
        .preparedQuery("UPDATE account SET balance = balance + ? WHERE id = ?")
        .execute(Tuple.of(delta, id))
        .mapEmpty();
  }

  private synchronized long account(int shard) {
    return 2L * random.nextInt(ACCOUNTS_PER_SHARD) + shard;
  }

  /** Runs {@link #PER_INVOCATION} transfers, {@link #IN_FLIGHT} at a time, and waits for them. */
  private void run(LongFunction<Future<?>> transfer) throws Exception {
    Promise<Void> done = Promise.promise();
    AtomicInteger started = new AtomicInteger();
    AtomicInteger finished = new AtomicInteger();
    for (int i = 0; i < IN_FLIGHT; i++) {
      vertx.runOnContext(v -> next(transfer, started, finished, done));
    }
    await(done.future());
  }

  private void next(
      LongFunction<Future<?>> transfer,
      AtomicInteger started,
      AtomicInteger finished,
      Promise<Void> done) {
    int n = started.getAndIncrement();
    if (n >= PER_INVOCATION) {
      return;
    }
    transfer
        .apply(n)
        .onComplete(
            ar -> {
              if (ar.failed()) {
                done.tryFail(ar.cause());
                return;
              }
              if (finished.incrementAndGet() == PER_INVOCATION) {
                done.tryComplete();
              } else {
                next(transfer, started, finished, done);
              }
            });
  }

  private static <T> T await(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(120, TimeUnit.SECONDS);
  }
}
