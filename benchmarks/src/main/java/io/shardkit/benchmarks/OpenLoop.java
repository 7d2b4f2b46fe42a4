package io.shardkit.benchmarks;

import io.shardkit.router.ShardedPool;
import io.shardkit.tx.PostgresSourceOptions;
import io.shardkit.tx.TransactionOptions;
import io.shardkit.tx.Transactions;
import io.shardkit.tx.TransactionsOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.mysqlclient.MySQLBuilder;
import io.vertx.pgclient.PgBuilder;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Tuple;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.HdrHistogram.Histogram;

/**
 * Open-loop latency: requests offered at a fixed rate, each one's latency counted from its
 * <i>intended</i> start (no coordinated omission: a slow answer does not delay the next request's
 * clock), shardkit side by side with its plain-Vert.x baseline on the same servers in the same run.
 *
 * <p>For each pair: the baseline's closed-loop maximum (64 in flight), then each contender at 25,
 * 50 and 75 % of that maximum (interleaved: baseline, shardkit, at each rate), then each at twice
 * its own maximum. Pairs: point select, scatter (also streamed), a routed one-shard transfer, XA
 * and TCC transfers (vs a local one-shard transfer) and the XA transfer across a MySQL shard and
 * PostgreSQL (vs a local PostgreSQL transfer; {@link PgTransferBenchmark}'s pair, on a testkit
 * PostgreSQL started only when that pair is selected) (overload: what completes, what is refused,
 * how fast). Writes {@code benchmarks/results/openloop-<date>.json} and prints a table. Run: {@code
 * benchmarks/run.sh --open-loop} (or {@code java -cp benchmarks/target/benchmarks.jar
 * io.shardkit.benchmarks.OpenLoop [--seconds 8] [--only REGEX] [--wait-queue N] [--max-in-flight N]
 * [--queue-delay-target MS] [--tx-queue-delay-target MS] [--overload-only]}).
 */
public final class OpenLoop {

  private static final long MAX_IN_FLIGHT = 20_000;

  /** The multi-source pair's name; PostgreSQL is started only when {@code --only} selects it. */
  static final String PG_PAIR = "XA transfer MySQL + PostgreSQL";

  /** One contender: a name and the operation it offers. */
  record Op(String name, Supplier<Future<?>> call) {}

  /** A contender and its baseline. */
  record Pair(String name, Op baseline, Op contender) {}

  /** What one open-loop level gave. */
  record Level(
      String op,
      double offered,
      double completed,
      long failed,
      long refused,
      long late,
      double p50,
      double p99,
      double p999,
      double max,
      double dispatchLagP50,
      double dispatchLagP99) {
    JsonObject toJson() {
      return new JsonObject()
          .put("op", op)
          .put("offeredPerSecond", round(offered))
          .put("completedPerSecond", round(completed))
          .put("failed", failed)
          .put("refused", refused)
          .put("notStartedInTime", late)
          .put("p50Ms", round(p50))
          .put("p99Ms", round(p99))
          .put("p999Ms", round(p999))
          .put("maxMs", round(max))
          .put("dispatchLagP50Ms", round(dispatchLagP50))
          .put("dispatchLagP99Ms", round(dispatchLagP99));
    }
  }

  private final Vertx vertx;
  private final Duration run;

  /** Only the maxima and the levels at twice them (no latency levels below capacity). */
  private final boolean overloadOnly;

  private OpenLoop(Vertx vertx, Duration run, boolean overloadOnly) {
    this.vertx = vertx;
    this.run = run;
    this.overloadOnly = overloadOnly;
  }

  public static void main(String[] args) throws Exception {
    int seconds = 8;
    String only = ".*";
    int waitQueue = -1;
    int maxInFlight = ShardedPool.Builder.DEFAULT_MAX_IN_FLIGHT;
    long queueDelayTargetMs = ShardedPool.Builder.DEFAULT_QUEUE_DELAY_TARGET.toMillis();
    long txQueueDelayTargetMs = TransactionsOptions.DEFAULT_QUEUE_DELAY_TARGET.toMillis();
    boolean overloadOnly = false;
    Path out = Path.of("benchmarks", "results");
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--seconds" -> seconds = Integer.parseInt(args[++i]);
        case "--only" -> only = args[++i];
        case "--out" -> out = Path.of(args[++i]);
        case "--wait-queue" -> waitQueue = Integer.parseInt(args[++i]);
        case "--overload-only" -> overloadOnly = true;
        case "--max-in-flight" -> maxInFlight = Integer.parseInt(args[++i]);
        case "--queue-delay-target" -> queueDelayTargetMs = Long.parseLong(args[++i]);
        case "--tx-queue-delay-target" -> txQueueDelayTargetMs = Long.parseLong(args[++i]);
        default -> throw new IllegalArgumentException("unknown argument " + args[i]);
      }
    }
    try (BenchEnv env = BenchEnv.create(PG_PAIR.matches(only))) {
      Vertx vertx = Vertx.vertx();
      try {
        JsonObject result =
            new OpenLoop(vertx, Duration.ofSeconds(seconds), overloadOnly)
                .runAll(
                    env,
                    only,
                    waitQueue,
                    maxInFlight,
                    Duration.ofMillis(queueDelayTargetMs),
                    Duration.ofMillis(txQueueDelayTargetMs));
        Files.createDirectories(out);
        Path file = out.resolve("openloop-" + LocalDate.now() + ".json");
        Files.writeString(file, result.encodePrettily() + "\n", StandardCharsets.UTF_8);
        System.out.println("written: " + file);
      } finally {
        Bench.await(vertx.close());
      }
    }
    System.exit(0);
  }

  private JsonObject runAll(
      BenchEnv env,
      String only,
      int waitQueue,
      int maxInFlight,
      Duration queueDelayTarget,
      Duration txQueueDelayTarget)
      throws Exception {
    // every pool, baseline and shardkit alike; -1 (Vert.x's default) queues without bound
    PoolOptions poolOptions = new PoolOptions().setMaxSize(16).setMaxWaitQueueSize(waitQueue);
    boolean withPg = PG_PAIR.matches(only);
    // the transaction managers' admission on queueing delay (XA and TCC alike; 0: the count alone)
    TransactionsOptions.Builder txOptions =
        TransactionsOptions.builder("ds_0")
            .queueDelayTarget(txQueueDelayTarget)
            .tcc(
                io.shardkit.tx.TccOptions.builder()
                    .logDataSource("ds_0")
                    .queueDelayTarget(txQueueDelayTarget)
                    .build());
    if (withPg) {
      txOptions.postgres(
          PgTransferBenchmark.PG_SOURCE,
          new PostgresSourceOptions(env.postgres()).poolOptions(new PoolOptions(poolOptions)));
    }
    ShardedPool sharded =
        ShardedPool.builder(vertx)
            .rules(BenchEnv.rules())
            .dataSources(env.dataSources(), poolOptions)
            .maxInFlight(maxInFlight)
            .queueDelayTarget(queueDelayTarget)
            .transactionManager(p -> Transactions.create(vertx, p, txOptions.build()))
            .build();
    Transactions transactions = Transactions.of(sharded);
    // the same shards, each XA branch's start pipelined with its first statement (pools with a
    // pipelining limit of 2), for the latency of the XA pairs below
    ShardedPool pipelined =
        ShardedPool.builder(vertx)
            .rules(BenchEnv.rules())
            .dataSources(env.pipelinedDataSources(), poolOptions)
            .maxInFlight(maxInFlight)
            .queueDelayTarget(queueDelayTarget)
            .transactionManager(
                p ->
                    Transactions.create(
                        vertx,
                        p,
                        TransactionsOptions.builder("ds_0")
                            .pipelineBranchStart(true)
                            .queueDelayTarget(txQueueDelayTarget)
                            .build()))
            .build();
    Transactions pipelinedTransactions = Transactions.of(pipelined);
    Bench.await(pipelinedTransactions.installSchema());
    var debit = TransferBenchmark.debitAction();
    var credit = TransferBenchmark.creditAction();
    var sagaDebit = sagaDebit();
    var sagaCredit = sagaCredit();
    transactions.register(debit).register(credit).register(sagaDebit).register(sagaCredit);
    Bench.await(transactions.installSchema());
    Pool shard0 =
        MySQLBuilder.pool()
            .with(poolOptions)
            .connectingTo(env.dataSources().get("ds_0"))
            .using(vertx)
            .build();
    Pool single =
        MySQLBuilder.pool().with(poolOptions).connectingTo(env.single()).using(vertx).build();
    String point = "SELECT order_id, user_id, amount FROM t_order WHERE order_id = ?";
    TransactionOptions tenSeconds = TransactionOptions.ofTimeout(Duration.ofSeconds(10));
    Op local =
        new Op(
            "local one shard",
            () ->
                shard0.withTransaction(
                    c ->
                        transfer(
                            c, TransferBenchmark.account(0), c, TransferBenchmark.account(0))));
    List<Pair> pairs =
        new ArrayList<>(
            List.of(
                new Pair(
                    "point select",
                    new Op(
                        "plain pool",
                        () -> {
                          long id = ThreadLocalRandom.current().nextLong(BenchEnv.ORDERS);
                          return sharded
                              .pool("ds_" + BenchEnv.shardOf(id))
                              .preparedQuery(point)
                              .execute(Tuple.of(id));
                        }),
                    new Op(
                        "routed",
                        () ->
                            sharded
                                .preparedQuery(point)
                                .execute(
                                    Tuple.of(
                                        ThreadLocalRandom.current().nextLong(BenchEnv.ORDERS))))),
                new Pair(
                    "scatter ORDER BY LIMIT 10",
                    new Op(
                        "one server",
                        () ->
                            single
                                .preparedQuery(ScatterBenchmark.SQL)
                                .execute(Tuple.of(ThreadLocalRandom.current().nextInt(90_000)))),
                    new Op(
                        "4 shards",
                        () ->
                            sharded
                                .preparedQuery(ScatterBenchmark.SQL)
                                .execute(Tuple.of(ThreadLocalRandom.current().nextInt(90_000))))),
                new Pair(
                    "IN list over 2 shards",
                    new Op(
                        "one server",
                        () -> {
                          long id = ThreadLocalRandom.current().nextLong(BenchEnv.ORDERS - 1);
                          return single.preparedQuery(IN_LIST).execute(Tuple.of(id, id + 1));
                        }),
                    new Op(
                        "2 shards",
                        () -> {
                          // adjacent ids live on adjacent shards (order_id mod 4)
                          long id = ThreadLocalRandom.current().nextLong(BenchEnv.ORDERS - 1);
                          return sharded.preparedQuery(IN_LIST).execute(Tuple.of(id, id + 1));
                        })),
                new Pair(
                    "GROUP BY aggregate over 4 shards",
                    new Op(
                        "one server",
                        () -> {
                          int from = ThreadLocalRandom.current().nextInt(99_000);
                          return single
                              .preparedQuery(GROUP_BY)
                              .execute(Tuple.of(from, from + 1_000));
                        }),
                    new Op(
                        "4 shards",
                        () -> {
                          int from = ThreadLocalRandom.current().nextInt(99_000);
                          return sharded
                              .preparedQuery(GROUP_BY)
                              .execute(Tuple.of(from, from + 1_000));
                        })),
                new Pair(
                    "scatter stream ORDER BY LIMIT 10",
                    new Op(
                        "one server stream",
                        () ->
                            single.withConnection(
                                c ->
                                    c.prepare(ScatterBenchmark.SQL)
                                        .compose(
                                            ps ->
                                                drain(
                                                        ps.createStream(
                                                            10,
                                                            Tuple.of(
                                                                ThreadLocalRandom.current()
                                                                    .nextInt(90_000))))
                                                    .eventually(ps::close)))),
                    new Op(
                        "4 shards stream",
                        () ->
                            sharded.stream(
                                    ScatterBenchmark.SQL,
                                    Tuple.of(ThreadLocalRandom.current().nextInt(90_000)),
                                    10)
                                .compose(OpenLoop::drain))),
                new Pair(
                    "routed local transfer",
                    local,
                    new Op(
                        "ShardedPool one shard",
                        () ->
                            sharded.withTransaction(
                                tenSeconds.timeout(),
                                c ->
                                    transfer(
                                        c,
                                        TransferBenchmark.account(0),
                                        c,
                                        TransferBenchmark.account(0))))),
                new Pair(
                    "XA transfer",
                    local,
                    new Op(
                        "XA two shards",
                        () ->
                            sharded.withTransaction(
                                tenSeconds.timeout(),
                                c ->
                                    transfer(
                                        c,
                                        TransferBenchmark.account(0),
                                        c,
                                        TransferBenchmark.account(1))))),
                new Pair(
                    "XA transfer, async second phase",
                    local,
                    asyncXa("XA two shards, async", transactions, tenSeconds)),
                new Pair(
                    "XA transfer, pipelined start and async second phase",
                    local,
                    asyncXa("XA two shards, pipelined, async", pipelinedTransactions, tenSeconds)),
                new Pair(
                    "TCC transfer",
                    local,
                    new Op(
                        "TCC two shards",
                        () -> {
                          TransferBenchmark.Move[] move = moves();
                          return transactions.tcc(
                              tenSeconds,
                              tx ->
                                  Future.all(tx.enlist(debit, move[0]), tx.enlist(credit, move[1]))
                                      .mapEmpty());
                        })),
                new Pair(
                    "Saga transfer",
                    local,
                    new Op(
                        "Saga two shards",
                        () -> {
                          TransferBenchmark.Move[] move = moves();
                          return transactions.saga(
                              tenSeconds,
                              saga ->
                                  saga.step(sagaDebit, move[0])
                                      .compose(v -> saga.step(sagaCredit, move[1]))
                                      .mapEmpty());
                        }))));
    Pool localPg =
        withPg
            ? PgBuilder.pool().with(poolOptions).connectingTo(env.postgres()).using(vertx).build()
            : null;
    if (withPg) {
      Bench.await(transactions.warmUp());
      pairs.add(
          new Pair(
              PG_PAIR,
              new Op(
                  "local PostgreSQL",
                  () ->
                      localPg.withTransaction(
                          c ->
                              PgTransferBenchmark.pgUpdate(c, -1, PgTransferBenchmark.pgAccount())
                                  .compose(
                                      v ->
                                          PgTransferBenchmark.pgUpdate(
                                              c, 1, PgTransferBenchmark.pgAccount())))),
              new Op(
                  "XA MySQL + PostgreSQL",
                  () ->
                      sharded.withTransaction(
                          tenSeconds.timeout(),
                          c ->
                              c.preparedQuery(TransferBenchmark.UPDATE)
                                  .execute(Tuple.of(-1, TransferBenchmark.account(0)))
                                  .compose(
                                      rows -> transactions.postgres(PgTransferBenchmark.PG_SOURCE))
                                  .compose(
                                      pg ->
                                          PgTransferBenchmark.pgUpdate(
                                              pg, 1, PgTransferBenchmark.pgAccount()))))));
    }
    JsonArray results = new JsonArray();
    try {
      for (Pair pair : pairs) {
        if (!pair.name().matches(only)) {
          continue;
        }
        results.add(runPair(pair));
      }
    } finally {
      Bench.await(transactions.close());
      Bench.await(sharded.close());
      Bench.await(pipelinedTransactions.close());
      Bench.await(pipelined.close());
      Bench.await(shard0.close());
      Bench.await(single.close());
      if (localPg != null) {
        Bench.await(localPg.close());
      }
    }
    return new JsonObject()
        .put("generated", java.time.Instant.now().toString())
        .put("machine", System.getenv().getOrDefault("HOSTNAME", "local"))
        .put("cores", Runtime.getRuntime().availableProcessors())
        .put("secondsPerLevel", run.toSeconds())
        .put("poolMaxSizePerDataSource", 16)
        .put("poolMaxWaitQueueSize", poolOptions.getMaxWaitQueueSize())
        .put("routerMaxInFlight", sharded.maxInFlight())
        .put("routerQueueDelayTargetMs", queueDelayTarget.toMillis())
        .put("txQueueDelayTargetMs", txQueueDelayTarget.toMillis())
        .put("pairs", results);
  }

  /** Two orders by id: a two-shard read on the shards. */
  static final String IN_LIST =
      "SELECT order_id, user_id, amount FROM t_order WHERE order_id IN (?, ?) ORDER BY order_id";

  /** Counts and sums by status over an amount range (about 400 rows): a merged aggregate. */
  static final String GROUP_BY =
      "SELECT status, COUNT(*) AS n, SUM(amount) AS total FROM t_order"
          + " WHERE amount >= ? AND amount < ? GROUP BY status ORDER BY status";

  /**
   * The two-shard XA transfer through {@code transactions}, answered once the decision is durable.
   */
  private static Op asyncXa(String name, Transactions transactions, TransactionOptions timeout) {
    return new Op(
        name,
        () ->
            transactions.xaResult(
                timeout.withAsyncSecondPhase(true),
                c -> transfer(c, TransferBenchmark.account(0), c, TransferBenchmark.account(1))));
  }

  /** A random amount out of an account on ds_0 and into one on ds_1: {out, in}. */
  static TransferBenchmark.Move[] moves() {
    long amount = 1 + ThreadLocalRandom.current().nextInt(100);
    return new TransferBenchmark.Move[] {
      new TransferBenchmark.Move(TransferBenchmark.account(0), amount),
      new TransferBenchmark.Move(TransferBenchmark.account(1), amount)
    };
  }

  /** The Saga transfer's debit: compensatable (the compensation gives the amount back). */
  static io.shardkit.tx.SagaStep<TransferBenchmark.Move, Void> sagaDebit() {
    return io.shardkit.tx.SagaStep.builder("saga.debit", TransferBenchmark.Move.CODEC)
        .shardedBy("account", TransferBenchmark.Move::account)
        .<Void>action(
            (ctx, m) ->
                ctx.connection()
                    .preparedQuery(
                        "UPDATE account SET balance = balance - ? WHERE id = ? AND balance >= ?")
                    .execute(Tuple.of(m.amount(), m.account(), m.amount()))
                    .compose(
                        rows ->
                            rows.rowCount() == 1
                                ? Future.<Void>succeededFuture()
                                : Future.failedFuture(
                                    new io.shardkit.context.ShardkitException("funds"))))
        .compensation(
            (ctx, m) ->
                ctx.connection()
                    .preparedQuery("UPDATE account SET balance = balance + ? WHERE id = ?")
                    .execute(Tuple.of(m.amount(), m.account()))
                    .<Void>mapEmpty())
        .build();
  }

  /** The Saga transfer's credit: retry-only (the pivot's other side cannot fail for funds). */
  static io.shardkit.tx.SagaStep<TransferBenchmark.Move, Void> sagaCredit() {
    return io.shardkit.tx.SagaStep.builder("saga.credit", TransferBenchmark.Move.CODEC)
        .shardedBy("account", TransferBenchmark.Move::account)
        .retryOnly()
        .<Void>action(
            (ctx, m) ->
                ctx.connection()
                    .preparedQuery("UPDATE account SET balance = balance + ? WHERE id = ?")
                    .execute(Tuple.of(m.amount(), m.account()))
                    .<Void>mapEmpty())
        .build();
  }

  /** Reads a stream to its end, dropping its rows. */
  private static Future<Void> drain(io.vertx.core.streams.ReadStream<?> stream) {
    io.vertx.core.Promise<Void> done = io.vertx.core.Promise.promise();
    stream.exceptionHandler(done::tryFail).endHandler(v -> done.tryComplete()).handler(row -> {});
    return done.future();
  }

  private static Future<Void> transfer(
      io.vertx.sqlclient.SqlClient a, long from, io.vertx.sqlclient.SqlClient b, long to) {
    return a.preparedQuery(TransferBenchmark.UPDATE)
        .execute(Tuple.of(-1, from))
        .compose(v -> b.preparedQuery(TransferBenchmark.UPDATE).execute(Tuple.of(1, to)))
        .mapEmpty();
  }

  private JsonObject runPair(Pair pair) throws Exception {
    System.out.printf(
        "%n== %s: %s vs %s%n", pair.name(), pair.contender().name(), pair.baseline().name());
    double baseMax = closedLoop(pair.baseline(), 64, run);
    double ownMax = closedLoop(pair.contender(), 64, run);
    System.out.printf(
        Locale.ROOT,
        "  closed loop (64 in flight): %s %.0f/s, %s %.0f/s%n",
        pair.baseline().name(),
        baseMax,
        pair.contender().name(),
        ownMax);
    JsonArray levels = new JsonArray();
    for (double share : overloadOnly ? new double[0] : new double[] {0.25, 0.50, 0.75}) {
      double rate = baseMax * share;
      Level b = openLoop(pair.baseline(), rate, run);
      Level c = openLoop(pair.contender(), rate, run);
      print(share, b, c);
      levels.add(
          new JsonObject()
              .put("shareOfBaselineMax", share)
              .put("baseline", b.toJson())
              .put("contender", c.toJson())
              .put("p99Ratio", round(c.p99() / Math.max(0.001, b.p99())))
              .put("p50Ratio", round(c.p50() / Math.max(0.001, b.p50()))));
    }
    // both at a quarter and at half the contender's own maximum: latency where the contender is
    // not saturated (the shares above exceed its capacity when it is much slower than its baseline)
    for (double own :
        overloadOnly || ownMax >= baseMax * 0.75 ? new double[0] : new double[] {0.25, 0.5}) {
      double rate = ownMax * own;
      Level b = openLoop(pair.baseline(), rate, run);
      Level c = openLoop(pair.contender(), rate, run);
      System.out.print(
          own == 0.5
              ? "  (half of the contender's own max)"
              : "  (a quarter of the contender's own max)");
      print(rate / baseMax, b, c);
      levels.add(
          new JsonObject()
              .put("shareOfBaselineMax", round(rate / baseMax))
              .put("shareOfContenderMax", own)
              .put("halfOfContenderMax", own == 0.5)
              .put("baseline", b.toJson())
              .put("contender", c.toJson())
              .put("p99Ratio", round(c.p99() / Math.max(0.001, b.p99())))
              .put("p50Ratio", round(c.p50() / Math.max(0.001, b.p50()))));
    }
    Level overBase = openLoop(pair.baseline(), baseMax * 2, run);
    Level overOwn = openLoop(pair.contender(), ownMax * 2, run);
    System.out.printf(
        Locale.ROOT,
        "  2x own max: %s completed %.0f/s (%.0f%% of its max), %s completed %.0f/s (%.0f%% of its"
            + " max; %d refused, %d failed; p50 %.2f ms, p99 %.2f ms; pacer lag p50 %.2f ms)%n",
        pair.baseline().name(),
        overBase.completed(),
        100 * overBase.completed() / baseMax,
        pair.contender().name(),
        overOwn.completed(),
        100 * overOwn.completed() / ownMax,
        overOwn.refused(),
        overOwn.failed(),
        overOwn.p50(),
        overOwn.p99(),
        overOwn.dispatchLagP50());
    return new JsonObject()
        .put("pair", pair.name())
        .put("baseline", pair.baseline().name())
        .put("contender", pair.contender().name())
        .put("baselineClosedLoopMax", round(baseMax))
        .put("contenderClosedLoopMax", round(ownMax))
        .put("levels", levels)
        .put(
            "overload",
            new JsonObject()
                .put("baseline", overBase.toJson())
                .put("contender", overOwn.toJson())
                .put("baselineShareOfMax", round(overBase.completed() / baseMax))
                .put("contenderShareOfMax", round(overOwn.completed() / ownMax)));
  }

  private static void print(double share, Level b, Level c) {
    System.out.printf(
        Locale.ROOT,
        "  %3.0f%% (%6.0f/s)  p50 %7.2f / %7.2f ms  p99 %8.2f / %8.2f ms (x%.2f)  p99.9 %8.2f / %8.2f"
            + "  max %8.1f / %8.1f%n",
        share * 100,
        b.offered(),
        b.p50(),
        c.p50(),
        b.p99(),
        c.p99(),
        c.p99() / Math.max(0.001, b.p99()),
        b.p999(),
        c.p999(),
        b.max(),
        c.max());
  }

  /** Completions per second with {@code inFlight} always outstanding. */
  private double closedLoop(Op op, int inFlight, Duration time) throws Exception {
    AtomicLong done = new AtomicLong();
    long end = System.nanoTime() + time.toNanos();
    long warm = System.nanoTime() + time.toNanos() / 4;
    AtomicLong counted = new AtomicLong();
    io.vertx.core.Promise<Void> finished = io.vertx.core.Promise.promise();
    AtomicLong outstanding = new AtomicLong(inFlight);
    vertx.runOnContext(
        v -> {
          for (int i = 0; i < inFlight; i++) {
            loop(op, end, warm, done, counted, outstanding, finished);
          }
        });
    Bench.await(finished.future());
    if (done.get() > counted.get() * 2) {
      System.out.printf(
          "  %s: closed loop answered %d, %d of them successes after the warm-up%n",
          op.name(), done.get(), counted.get());
    }
    return counted.get() / ((time.toNanos() - time.toNanos() / 4) / 1e9);
  }

  private void loop(
      Op op,
      long end,
      long warm,
      AtomicLong done,
      AtomicLong counted,
      AtomicLong outstanding,
      io.vertx.core.Promise<Void> finished) {
    if (System.nanoTime() >= end) {
      if (outstanding.decrementAndGet() == 0) {
        finished.complete();
      }
      return;
    }
    op.call()
        .get()
        .onComplete(
            ar -> {
              done.incrementAndGet();
              if (System.nanoTime() >= warm && System.nanoTime() < end && ar.succeeded()) {
                counted.incrementAndGet();
              }
              if (ar.failed() && !isRefusal(ar.cause()) && done.get() == 1) {
                System.out.printf("  %s: first failure (closed loop): %s%n", op.name(), ar.cause());
              }
              if (ar.failed()) {
                // a refusal (typed overload, open breaker) comes at once, often before op returns:
                // back off a millisecond as a client would, instead of recursing on this stack
                vertx.setTimer(1, t -> loop(op, end, warm, done, counted, outstanding, finished));
              } else {
                loop(op, end, warm, done, counted, outstanding, finished);
              }
            });
  }

  /**
   * Offers {@code rate} requests per second for the run time (after a quarter of it as warm-up at
   * the same rate); latency from each request's intended start.
   */
  private Level openLoop(Op op, double rate, Duration time) throws Exception {
    if (!(rate > 0)) {
      throw new IllegalStateException(
          op.name() + ": no rate to offer (" + rate + "/s): its closed-loop maximum was 0");
    }
    Histogram histogram = new Histogram(60_000_000_000L, 3);
    // how late the pacer issued each request (its event loop busy): the part of a latency that
    // is the load generator's own, not the system's under test
    Histogram dispatchLag = new Histogram(60_000_000_000L, 3);
    AtomicLong failed = new AtomicLong();
    AtomicLong refused = new AtomicLong();
    AtomicLong late = new AtomicLong();
    AtomicLong completed = new AtomicLong();
    AtomicLong inFlight = new AtomicLong();
    long warmNanos = time.toNanos() / 4;
    long start = System.nanoTime();
    long measureFrom = start + warmNanos;
    long end = measureFrom + time.toNanos();
    double intervalNanos = 1e9 / rate;
    io.vertx.core.Promise<Void> finished = io.vertx.core.Promise.promise();
    long[] next = {0};
    vertx.runOnContext(
        v -> {
          long timer =
              vertx.setPeriodic(
                  1,
                  id -> {
                    long now = System.nanoTime();
                    while (true) {
                      long intended = start + (long) (next[0] * intervalNanos);
                      if (intended > now || intended >= end) {
                        break;
                      }
                      next[0]++;
                      if (inFlight.get() >= MAX_IN_FLIGHT) {
                        if (intended >= measureFrom) {
                          late.incrementAndGet();
                        }
                        continue;
                      }
                      inFlight.incrementAndGet();
                      if (intended >= measureFrom) {
                        synchronized (dispatchLag) {
                          dispatchLag.recordValue(
                              Math.min(Math.max(0, now - intended), 60_000_000_000L));
                        }
                      }
                      Future<?> f;
                      try {
                        f = op.call().get();
                      } catch (RuntimeException e) {
                        f = Future.failedFuture(e);
                      }
                      f.onComplete(
                          ar -> {
                            inFlight.decrementAndGet();
                            if (intended < measureFrom) {
                              return;
                            }
                            long doneAt = System.nanoTime();
                            long latency = doneAt - intended;
                            if (ar.succeeded()) {
                              // throughput: answers inside the window only (what the drain
                              // finishes afterwards was not served at the offered rate)
                              if (doneAt < end) {
                                completed.incrementAndGet();
                              }
                              synchronized (histogram) {
                                histogram.recordValue(Math.min(latency, 60_000_000_000L));
                              }
                            } else if (isRefusal(ar.cause())) {
                              refused.incrementAndGet();
                            } else if (failed.incrementAndGet() == 1) {
                              System.out.printf(
                                  "  %s: first failure at %.0f/s: %s%n",
                                  op.name(), rate, ar.cause());
                            }
                          });
                    }
                    if (now >= end) {
                      vertx.cancelTimer(id);
                      finished.complete();
                    }
                  });
        });
    Bench.await(finished.future());
    // let what is in flight finish (bounded), so the next level starts clean
    long drain = System.nanoTime() + 30_000_000_000L;
    while (inFlight.get() > 0 && System.nanoTime() < drain) {
      Thread.sleep(10);
    }
    double seconds = time.toNanos() / 1e9;
    synchronized (histogram) {
      return new Level(
          op.name(),
          rate,
          completed.get() / seconds,
          failed.get(),
          refused.get(),
          late.get(),
          histogram.getValueAtPercentile(50) / 1e6,
          histogram.getValueAtPercentile(99) / 1e6,
          histogram.getValueAtPercentile(99.9) / 1e6,
          histogram.getMaxValue() / 1e6,
          dispatchLag.getValueAtPercentile(50) / 1e6,
          dispatchLag.getValueAtPercentile(99) / 1e6);
    }
  }

  /** A typed, retryable refusal (overload, open breaker), as opposed to a failure. */
  private static boolean isRefusal(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      String name = c.getClass().getSimpleName();
      if (name.contains("Overload")
          || name.contains("CircuitOpen")
          || name.contains("Refused")
          || name.contains("TooBusy")) {
        return true;
      }
      if (c.getCause() == c) {
        break;
      }
    }
    return false;
  }

  private static double round(double v) {
    return Math.round(v * 100) / 100.0;
  }
}
