package io.shardkit.benchmarks;

import io.shardkit.context.ShardkitException;
import io.shardkit.router.ShardedPool;
import io.shardkit.tx.TccAction;
import io.shardkit.tx.TccCodec;
import io.shardkit.tx.TransactionOptions;
import io.shardkit.tx.Transactions;
import io.shardkit.tx.TransactionsOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
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
 * Money transfers per second, {@code inFlight} at a time on one event loop (see {@link Window}), on
 * the {@link BenchEnv} shards (durable commits: {@code innodb_flush_log_at_trx_commit=1}):
 *
 * <ul>
 *   <li>{@code localOneShard}: the baseline, {@code Pool.withTransaction} on shard 0 with both
 *       accounts there (two UPDATEs, one commit);
 *   <li>{@code xaTwoShards}: a shardkit XA transaction debiting an account on shard 0 and crediting
 *       one on shard 1: shard 0, first touched, keeps the decision (a local transaction committed
 *       with the COMMIT row once shard 1's branch is prepared), then shard 1's XA COMMIT;
 *   <li>{@code xaTwoShardsLogDecision}: the same with both branches prepared and the decision in
 *       the coordinator log on ds_0 ({@code decisionOnParticipant(false)}), for comparison;
 *   <li>{@code xaTwoShardsAsync}: the same with the asynchronous second phase (answered once the
 *       decision is durable, shard 1's XA COMMIT in the background);
 *   <li>{@code tccTwoShards}: the same transfer as TCC through {@code Transactions.tcc} (log on
 *       ds_0): debit freezes on try and applies on confirm on shard 0, credit reserves on try and
 *       applies on confirm on shard 1, tries in parallel. Per transfer: one log write (both
 *       branches), two fenced tries, the COMMIT decision, two fenced confirms, and a batched
 *       "finished" mark;
 *   <li>{@code tccTwoShardsAsync}: the same with the asynchronous confirm (answered once the COMMIT
 *       decision is durable, both confirms in the background);
 *   <li>{@code nonAtomicTwoShards}: two local transactions in sequence, one per shard (what people
 *       do without shardkit: not atomic). Not in the runner's suite; for reference;
 *   <li>{@code routedOneShard}: {@code localOneShard}'s transaction through {@code
 *       ShardedPool.withTransaction} with the transaction manager on (one shard: no XA, the same
 *       server commands). Not in the runner's suite; for reference;
 *   <li>{@code xaTwoShardsPipelined}: {@code xaTwoShards} with {@code pipelineBranchStart(true)} on
 *       pools with a pipelining limit of 2 (each branch's start in the round trip of its first
 *       statement). Not in the runner's suite; for reference (benchmarks/README.md, CPU per
 *       transfer).
 * </ul>
 *
 * Budget (DESIGN.md): xa / local ≥ 0.6. Run alone: {@code java -jar
 * benchmarks/target/benchmarks.jar TransferBenchmark -p inFlight=16}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(1)
@Warmup(iterations = 2, time = 5)
@Measurement(iterations = 3, time = 8)
public class TransferBenchmark {

  static final String UPDATE = "UPDATE account SET balance = balance + ? WHERE id = ?";

  @Param({"1", "16", "64"})
  public int inFlight;

  record Move(long account, long amount) {
    static final TccCodec<Move> CODEC =
        TccCodec.of(
            m -> new JsonObject().put("account", m.account()).put("amount", m.amount()),
            j -> new Move(j.getLong("account"), j.getLong("amount")));
  }

  private BenchEnv env;
  private Vertx vertx;

  /** The work's UPDATE times (one JVM per step: the step's own). */
  static final io.micrometer.core.instrument.simple.SimpleMeterRegistry UPDATE_TIMES =
      new io.micrometer.core.instrument.simple.SimpleMeterRegistry();

  private ShardedPool sharded;
  private ShardedPool shardedLogDecision;
  private ShardedPool shardedPipelined;
  private final io.micrometer.core.instrument.simple.SimpleMeterRegistry phasesLogDecision =
      new io.micrometer.core.instrument.simple.SimpleMeterRegistry();
  private Transactions transactions;
  private TccAction<Move> debit;
  private TccAction<Move> credit;
  private Pool shard0;
  private Pool shard1;
  private Window window;
  private final TransactionOptions timeout = TransactionOptions.ofTimeout(Duration.ofSeconds(10));

  /**
   * The XA coordinator's phase timers: printed at the end of a trial (into JMH's log) to show where
   * a transfer's time goes; recording them costs well under a microsecond per phase.
   */
  private final io.micrometer.core.instrument.simple.SimpleMeterRegistry phases =
      new io.micrometer.core.instrument.simple.SimpleMeterRegistry();

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    env = BenchEnv.open();
    vertx = Vertx.vertx();
    // + 4: the XA coordinator keeps 2 log connections, the TCC coordinator writes its log through
    // the pool of ds_0 while inFlight branches hold connections there.
    sharded =
        ShardedPool.builder(vertx)
            .rules(BenchEnv.rules())
            .dataSources(env.dataSources(), new PoolOptions().setMaxSize(inFlight + 4))
            .transactionManager(
                p ->
                    Transactions.create(
                        vertx,
                        p,
                        TransactionsOptions.builder("ds_0").meterRegistry(phases).build()))
            .build();
    // the same shards, every branch prepared and the decision in the coordinator log (the path
    // before decisions on participants; measured beside it in the same run)
    shardedLogDecision =
        ShardedPool.builder(vertx)
            .rules(BenchEnv.rules())
            .dataSources(env.dataSources(), new PoolOptions().setMaxSize(inFlight + 4))
            .transactionManager(
                p ->
                    Transactions.create(
                        vertx,
                        p,
                        TransactionsOptions.builder("ds_0")
                            .meterRegistry(phasesLogDecision)
                            .decisionOnParticipant(false)
                            .build()))
            .build();
    // the same shards, each branch's start pipelined with its first statement (pools with a
    // pipelining limit of 2)
    shardedPipelined =
        ShardedPool.builder(vertx)
            .rules(BenchEnv.rules())
            .dataSources(env.pipelinedDataSources(), new PoolOptions().setMaxSize(inFlight + 4))
            .transactionManager(
                p ->
                    Transactions.create(
                        vertx,
                        p,
                        TransactionsOptions.builder("ds_0").pipelineBranchStart(true).build()))
            .build();
    transactions = Transactions.of(sharded);
    debit = debitAction();
    credit = creditAction();
    transactions.register(debit).register(credit);
    Bench.await(transactions.installSchema());
    Bench.await(Transactions.of(shardedLogDecision).installSchema());
    Bench.await(Transactions.of(shardedPipelined).installSchema());
    shard0 = sharded.pool("ds_0");
    shard1 = sharded.pool("ds_1");
  }

  @TearDown(Level.Trial)
  public void tearDown() throws Exception {
    if (window != null) {
      window.stop();
    }
    printPhases(phases, inFlight);
    printPhases(phasesLogDecision, inFlight);
    printPhases(UPDATE_TIMES, inFlight);
    Bench.await(transactions.close());
    Bench.await(Transactions.of(shardedLogDecision).close());
    Bench.await(sharded.close());
    Bench.await(shardedLogDecision.close());
    Bench.await(Transactions.of(shardedPipelined).close());
    Bench.await(shardedPipelined.close());
    Bench.await(vertx.close());
    env.close();
  }

  /** Prints the coordinator's phase timers recorded in {@code phases} (into JMH's log). */
  static void printPhases(
      io.micrometer.core.instrument.simple.SimpleMeterRegistry phases, int inFlight) {
    StringBuilder out = new StringBuilder();
    for (io.micrometer.core.instrument.Timer t : phases.find("shardkit.tx.phase").timers()) {
      if (t.count() > 0) {
        out.append(
            String.format(
                java.util.Locale.ROOT,
                "%n  %s %-9s %-5s n=%d mean=%.3f ms",
                t.getId().getTag("mode"),
                t.getId().getTag("phase"),
                t.getId().getTag("result"),
                t.count(),
                t.mean(TimeUnit.MILLISECONDS)));
      }
    }
    if (out.length() > 0) {
      System.out.println("phase latencies at " + inFlight + " in flight:" + out);
    }
  }

  /** One shard, one local transaction. */
  @Benchmark
  public void localOneShard() throws InterruptedException {
    window(
            "localOneShard",
            () ->
                shard0.withTransaction(
                    conn -> debitCredit(conn, account(0), account(0), conn).mapEmpty()))
        .take();
  }

  /**
   * One shard through {@code ShardedPool.withTransaction} (transaction manager on): both accounts
   * on shard 0, the same statements as {@link #localOneShard}, routed, in the manager's scope.
   */
  @Benchmark
  public void routedOneShard() throws InterruptedException {
    window(
            "routedOneShard",
            () ->
                sharded.withTransaction(
                    timeout.timeout(), conn -> debitCredit(conn, account(0), account(0), conn)))
        .take();
  }

  /** Two shards, one shardkit XA transaction. */
  @Benchmark
  public void xaTwoShards() throws InterruptedException {
    window(
            "xaTwoShards",
            () ->
                sharded.withTransaction(
                    timeout.timeout(), conn -> debitCredit(conn, account(0), account(1), conn)))
        .take();
  }

  /**
   * Two shards, one shardkit XA transaction, each branch's start pipelined with its first
   * statement.
   */
  @Benchmark
  public void xaTwoShardsPipelined() throws InterruptedException {
    window(
            "xaTwoShardsPipelined",
            () ->
                shardedPipelined.withTransaction(
                    timeout.timeout(), conn -> debitCredit(conn, account(0), account(1), conn)))
        .take();
  }

  /** Two shards, one shardkit XA transaction decided in the coordinator log (both prepared). */
  @Benchmark
  public void xaTwoShardsLogDecision() throws InterruptedException {
    window(
            "xaTwoShardsLogDecision",
            () ->
                shardedLogDecision.withTransaction(
                    timeout.timeout(), conn -> debitCredit(conn, account(0), account(1), conn)))
        .take();
  }

  /**
   * Two shards, one shardkit XA transaction with the asynchronous second phase: answered once the
   * decision is durable, the other branch's commit runs in the background.
   */
  @Benchmark
  public void xaTwoShardsAsync() throws InterruptedException {
    window(
            "xaTwoShardsAsync",
            () ->
                transactions.xaResult(
                    TransactionOptions.ofTimeout(timeout.timeout()).withAsyncSecondPhase(true),
                    conn -> debitCredit(conn, account(0), account(1), conn)))
        .take();
  }

  /** Two shards, one shardkit TCC transaction. */
  @Benchmark
  public void tccTwoShards() throws InterruptedException {
    window("tccTwoShards", () -> tccOnce(false)).take();
  }

  /**
   * Two shards, one shardkit TCC transaction with the asynchronous confirm: answered once the
   * COMMIT decision is durable, the confirms run in the background.
   */
  @Benchmark
  public void tccTwoShardsAsync() throws InterruptedException {
    window("tccTwoShardsAsync", () -> tccOnce(true)).take();
  }

  /** Two shards, two local transactions in sequence (not atomic). */
  @Benchmark
  public void nonAtomicTwoShards() throws InterruptedException {
    window(
            "nonAtomicTwoShards",
            () -> {
              long from = account(0);
              long to = account(1);
              return shard0
                  .withTransaction(conn -> update(conn, -1, from))
                  .compose(v -> shard1.withTransaction(conn -> update(conn, 1, to)))
                  .mapEmpty();
            })
        .take();
  }

  private Future<?> tccOnce(boolean asyncConfirm) {
    Move out = new Move(account(0), 1 + ThreadLocalRandom.current().nextInt(100));
    Move in = new Move(account(1), out.amount());
    return transactions.tcc(
        TransactionOptions.ofTimeout(Duration.ofSeconds(10)).withAsyncSecondPhase(asyncConfirm),
        tx -> Future.all(tx.enlist(debit, out), tx.enlist(credit, in)).mapEmpty());
  }

  /** Time of each UPDATE of a transfer, as its work sees it (connection and start included). */
  private static final io.micrometer.core.instrument.Timer UPDATES =
      io.micrometer.core.instrument.Timer.builder("shardkit.tx.phase")
          .tag("mode", "work")
          .tag("phase", "update")
          .tag("result", "ok")
          .register(UPDATE_TIMES);

  private static Future<Void> debitCredit(SqlClient a, long from, long to, SqlClient b) {
    long t0 = System.nanoTime();
    return update(a, -1, from)
        .compose(
            v -> {
              long t1 = System.nanoTime();
              UPDATES.record(t1 - t0, TimeUnit.NANOSECONDS);
              return update(b, 1, to)
                  .onSuccess(w -> UPDATES.record(System.nanoTime() - t1, TimeUnit.NANOSECONDS));
            });
  }

  private static Future<Void> update(SqlClient client, long delta, long id) {
    return client.preparedQuery(UPDATE).execute(Tuple.of(delta, id)).mapEmpty();
  }

  /** A random account on {@code shard}. */
  static long account(int shard) {
    return BenchEnv.account(
        shard, ThreadLocalRandom.current().nextInt(BenchEnv.ACCOUNTS_PER_SHARD));
  }

  private Window window(String name, Supplier<Future<?>> op) {
    if (window == null) {
      window = new Window(name, inFlight, vertx, op).start();
    }
    return window;
  }

  static TccAction<Move> debitAction() {
    return TccAction.builder("debit", Move.CODEC)
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
                        "UPDATE account SET balance = balance + ?, frozen = frozen - ? WHERE id = ?")
                    .execute(Tuple.of(m.amount(), m.amount(), m.account()))
                    .<Void>mapEmpty())
        .build();
  }

  static TccAction<Move> creditAction() {
    return TccAction.builder("credit", Move.CODEC)
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
  }
}
