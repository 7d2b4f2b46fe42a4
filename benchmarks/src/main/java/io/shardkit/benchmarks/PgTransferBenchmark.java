package io.shardkit.benchmarks;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardkit.router.ShardedPool;
import io.shardkit.tx.PostgresSourceOptions;
import io.shardkit.tx.TransactionOptions;
import io.shardkit.tx.Transactions;
import io.shardkit.tx.TransactionsOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import java.math.BigDecimal;
import java.time.Duration;
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
 * Multi-source transfers per second, {@code inFlight} at a time on one event loop (see {@link
 * Window}), on the {@link BenchEnv} shards and its PostgreSQL 14 server (testkit, durable commits
 * on both: {@code innodb_flush_log_at_trx_commit=1}, PostgreSQL {@code fsync=on,
 * synchronous_commit=on}):
 *
 * <ul>
 *   <li>{@code localPg}: the baseline, {@code Pool.withTransaction} on a Vert.x PostgreSQL pool,
 *       debit and credit (two UPDATEs) in one local PostgreSQL transaction, one commit;
 *   <li>{@code xaMysqlPg}: a shardkit XA transaction through {@code ShardedPool.withTransaction}
 *       debiting an account on MySQL shard 0 (the routed connection) and crediting one on
 *       PostgreSQL through {@code transactions.postgres("pg")}: two-phase commit with one XA branch
 *       ({@code XA PREPARE}) and one PostgreSQL branch ({@code PREPARE TRANSACTION}), the decision
 *       in the coordinator log on ds_0, then {@code XA COMMIT} and {@code COMMIT PREPARED}.
 * </ul>
 *
 * Pools: {@code inFlight} connections for the local pool, {@code inFlight + 4} per MySQL data
 * source and for the PostgreSQL source in the XA case (as {@link TransferBenchmark}). At the end of
 * an XA trial the log prints whether the money moved is conserved (shard 0's balances plus
 * PostgreSQL's) and how many PostgreSQL transactions are left prepared. Run alone: {@code java -jar
 * benchmarks/target/benchmarks.jar PgTransferBenchmark -p inFlight=16} (starts its own shards and
 * PostgreSQL).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(1)
@Warmup(iterations = 2, time = 5)
@Measurement(iterations = 3, time = 8)
public class PgTransferBenchmark {

  static final String PG_SOURCE = "pg";
  static final String PG_UPDATE = "UPDATE account SET balance = balance + $1 WHERE id = $2";

  @Param({"1", "16", "64"})
  public int inFlight;

  /**
   * The XA PostgreSQL source's pool size; 0 (the runner's default): {@code inFlight + 4}. For
   * experiments outside the plan: {@code -p pgPoolSize=8,16}.
   */
  @Param({"0"})
  public int pgPoolSize;

  private BenchEnv env;
  private Vertx vertx;
  private ShardedPool sharded;
  private Transactions transactions;
  private Pool localPg;
  private Pool shard0;
  private Window window;
  private BigDecimal moneyBefore;
  private final TransactionOptions timeout = TransactionOptions.ofTimeout(Duration.ofSeconds(10));
  private final SimpleMeterRegistry phases = new SimpleMeterRegistry();

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    env = BenchEnv.open(true);
    vertx = Vertx.vertx();
    sharded =
        ShardedPool.builder(vertx)
            .rules(BenchEnv.rules())
            .dataSources(env.dataSources(), new PoolOptions().setMaxSize(inFlight + 4))
            .transactionManager(
                p ->
                    Transactions.create(
                        vertx,
                        p,
                        TransactionsOptions.builder("ds_0")
                            .meterRegistry(phases)
                            .postgres(
                                PG_SOURCE,
                                new PostgresSourceOptions(env.postgres())
                                    .poolOptions(
                                        new PoolOptions()
                                            .setMaxSize(
                                                pgPoolSize > 0 ? pgPoolSize : inFlight + 4)))
                            .build()))
            .build();
    transactions = Transactions.of(sharded);
    Bench.await(transactions.installSchema());
    // refuses a server with max_prepared_transactions = 0 before anything is measured
    Bench.await(transactions.warmUp());
    shard0 = sharded.pool("ds_0");
    localPg =
        PgBuilder.pool()
            .with(new PoolOptions().setMaxSize(inFlight))
            .connectingTo(env.postgres())
            .using(vertx)
            .build();
    moneyBefore = money();
  }

  @TearDown(Level.Trial)
  public void tearDown() throws Exception {
    if (window != null) {
      window.stop();
    }
    TransferBenchmark.printPhases(phases, inFlight);
    BigDecimal moneyAfter = money();
    long prepared =
        Bench.await(localPg.query("SELECT count(*) FROM pg_prepared_xacts").execute())
            .iterator()
            .next()
            .getLong(0);
    System.out.printf(
        "money on shard 0 + PostgreSQL: before %s, after %s (%s); PostgreSQL transactions left"
            + " prepared: %d%n",
        moneyBefore,
        moneyAfter,
        moneyBefore.equals(moneyAfter) ? "conserved" : "NOT CONSERVED",
        prepared);
    Bench.await(localPg.close());
    Bench.await(transactions.close());
    Bench.await(sharded.close());
    Bench.await(vertx.close());
    env.close();
  }

  /** One local PostgreSQL transaction: both UPDATEs, one commit. */
  @Benchmark
  public void localPg() throws InterruptedException {
    window(
            "localPg",
            () ->
                localPg.withTransaction(
                    conn ->
                        pgUpdate(conn, -1, pgAccount())
                            .compose(v -> pgUpdate(conn, 1, pgAccount()))))
        .take();
  }

  /** One shardkit XA transaction: debit on MySQL shard 0, credit on PostgreSQL. */
  @Benchmark
  public void xaMysqlPg() throws InterruptedException {
    window(
            "xaMysqlPg",
            () ->
                sharded.withTransaction(
                    timeout.timeout(),
                    conn ->
                        conn.preparedQuery(TransferBenchmark.UPDATE)
                            .execute(Tuple.of(-1, TransferBenchmark.account(0)))
                            .compose(rows -> transactions.postgres(PG_SOURCE))
                            .compose(pg -> pgUpdate(pg, 1, pgAccount()))))
        .take();
  }

  static Future<Void> pgUpdate(SqlClient client, long delta, long id) {
    return client.preparedQuery(PG_UPDATE).execute(Tuple.of(delta, id)).mapEmpty();
  }

  /** A random PostgreSQL account. */
  static long pgAccount() {
    return ThreadLocalRandom.current().nextInt(BenchEnv.ACCOUNTS_PER_SHARD);
  }

  /** Shard 0's balances plus PostgreSQL's: an XA transfer moves money between them. */
  private BigDecimal money() throws Exception {
    Object mysql =
        Bench.await(shard0.query("SELECT SUM(balance) FROM account").execute())
            .iterator()
            .next()
            .getValue(0);
    Object pg =
        Bench.await(localPg.query("SELECT SUM(balance) FROM account").execute())
            .iterator()
            .next()
            .getValue(0);
    return new BigDecimal(mysql.toString()).add(new BigDecimal(pg.toString()));
  }

  private Window window(String name, Supplier<Future<?>> op) {
    if (window == null) {
      window = new Window(name, inFlight, vertx, op).start();
    }
    return window;
  }
}
