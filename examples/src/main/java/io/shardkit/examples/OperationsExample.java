package io.shardkit.examples;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.shardkit.context.ShardkitException;
import io.shardkit.context.TxScope;
import io.shardkit.router.CircuitBreakerOptions;
import io.shardkit.router.ShardedPool;
import io.shardkit.router.ShardingRules;
import io.shardkit.testkit.Shard;
import io.shardkit.testkit.ShardDatabases;
import io.shardkit.testkit.TestShards;
import io.shardkit.tx.TccAction;
import io.shardkit.tx.TccCodec;
import io.shardkit.tx.TransactionOptions;
import io.shardkit.tx.Transactions;
import io.shardkit.tx.TransactionsOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * The operations view: 4 testkit shards, a steady mixed workload (routed point reads and scatter
 * reads, XA transfers, TCC transfers) and the {@code shardkit_*} meters in the Prometheus text
 * format on {@code http://localhost:9400/metrics}, for {@code
 * examples/grafana/shardkit-dashboard.json}. With {@code --chaos}, shard {@code ds_3} is paused
 * (SIGSTOP) for 8 s, 15 s after the start, so the dashboard shows its breaker opening, the other
 * shards carrying on, and the breaker closing.
 *
 * <p>Arguments: {@code [seconds] [--chaos] [--port=N]}; 0 or no seconds runs until stopped. {@code
 * mvn -B -ntp -q -pl examples -am compile exec:java
 * -Dexec.mainClass=io.shardkit.examples.OperationsExample -Dexec.args="120 --chaos"}
 */
public final class OperationsExample {

  static final int SHARDS = 4;
  static final int ACCOUNTS = 400;
  static final int MAX_IN_FLIGHT = 48;

  static final String RULES =
      """
      {"tables": {"account": {
         "dataNodes": "ds_${0..3}.account",
         "databaseStrategy": {"column": "id", "algorithm": {"type": "mod"}}}}}
      """;
  static final String DDL =
      "CREATE TABLE account (id BIGINT PRIMARY KEY, balance BIGINT NOT NULL,"
          + " frozen BIGINT NOT NULL DEFAULT 0, incoming BIGINT NOT NULL DEFAULT 0)";

  /** A TCC transfer leg: an amount on an account. */
  record Move(long account, long amount) {
    JsonObject toJson() {
      return new JsonObject().put("account", account).put("amount", amount);
    }

    static Move fromJson(JsonObject json) {
      return new Move(json.getLong("account"), json.getLong("amount"));
    }
  }

  static final TccCodec<Move> CODEC = TccCodec.of(Move::toJson, Move::fromJson);

  private final Map<String, LongAdder> outcomes = new ConcurrentHashMap<>();
  private final AtomicInteger inFlight = new AtomicInteger();

  OperationsExample() {}

  public static void main(String[] args) throws Exception {
    long seconds = 0;
    boolean chaos = false;
    int port = 9400;
    for (String arg : args) {
      if (arg.equals("--chaos")) {
        chaos = true;
      } else if (arg.startsWith("--port=")) {
        port = Integer.parseInt(arg.substring(7));
      } else {
        seconds = Long.parseLong(arg);
      }
    }
    // Private shards, closed at the end with everything else: the program then ends by itself.
    try (TestShards shards = TestShards.start(SHARDS)) {
      new OperationsExample().run(shards, seconds, chaos, port);
    }
    System.out.println("operations example: done");
  }

  /** Runs on the JVM-wide shards (the examples' test). */
  void run(long seconds, boolean chaos, int port) throws Exception {
    run(TestShards.get(SHARDS), seconds, chaos, port);
  }

  void run(TestShards shards, long seconds, boolean chaos, int port) throws Exception {
    PrometheusMeterRegistry prometheus = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    Vertx vertx = Vertx.vertx();
    ShardDatabases databases = shards.createDatabases("ops_example", SHARDS);
    databases.executeOnAll(DDL);
    for (int s = 0; s < SHARDS; s++) {
      StringBuilder insert = new StringBuilder("INSERT INTO account (id, balance) VALUES ");
      for (int id = s; id < ACCOUNTS; id += SHARDS) {
        insert.append(id == s ? "" : ", ").append('(').append(id).append(", 1000)");
      }
      databases.get(s).execute(insert.toString());
    }
    ShardedPool pool =
        ShardedPool.builder(vertx)
            .rules(ShardingRules.fromJson(new JsonObject(RULES)))
            .dataSources(databases.dataSources("ds_"), new PoolOptions().setMaxSize(8))
            .meterRegistry(prometheus)
            .circuitBreaker(
                CircuitBreakerOptions.builder()
                    .slowCallDuration(Duration.ofMillis(500))
                    .openDuration(Duration.ofSeconds(2))
                    .build())
            .transactionManager(
                p ->
                    Transactions.create(
                        vertx,
                        p,
                        TransactionsOptions.builder("ds_0").meterRegistry(prometheus).build()))
            .build();
    Transactions xa = Transactions.of(pool);
    xa.register(DEBIT).register(CREDIT);
    await(xa.installSchema());
    await(xa.startRecovery());
    HttpServer http =
        await(
            vertx
                .createHttpServer()
                .requestHandler(
                    request -> {
                      if (request.path().equals("/metrics")) {
                        request
                            .response()
                            .putHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
                            .end(prometheus.scrape());
                      } else {
                        request.response().setStatusCode(404).end("try /metrics\n");
                      }
                    })
                .listen(port));
    System.out.printf(
        "%d %s shards; Prometheus metrics on http://localhost:%d/metrics%s%n",
        SHARDS,
        shards.provider(),
        http.actualPort(),
        seconds > 0 ? "; stopping after " + seconds + " s" : "; Ctrl-C stops");

    // the consistency checker every 10 s, beside the workload (shardkit.check.* meters)
    io.shardkit.tx.check.ConsistencyChecker checker =
        io.shardkit.tx.check.ConsistencyChecker.create(
            vertx,
            pool,
            io.shardkit.tx.check.CheckOptions.defaults(TransactionsOptions.builder("ds_0").build()),
            prometheus);
    java.util.concurrent.atomic.AtomicBoolean checking =
        new java.util.concurrent.atomic.AtomicBoolean();
    Runnable check =
        () -> {
          if (checking.compareAndSet(false, true)) {
            checker
                .check()
                .onComplete(
                    ar -> {
                      checking.set(false);
                      System.out.println(
                          "consistency check: "
                              + (ar.succeeded()
                                  ? ar.result().summary().lines().findFirst().orElse("")
                                  : "failed: " + ar.cause().getMessage()));
                    });
          }
        };
    check.run();
    long checks = vertx.setPeriodic(10_000, id -> check.run());
    AtomicInteger tick = new AtomicInteger();
    long load = vertx.setPeriodic(20, id -> tick(pool, xa, tick.incrementAndGet()));
    long report = vertx.setPeriodic(5000, id -> System.out.println("outcomes: " + outcomes));
    Shard victim = shards.shard(3);
    long start = System.nanoTime();
    try {
      if (chaos && victim.controlsProcess()) {
        Thread.sleep(15_000);
        System.out.println("pausing ds_3 (SIGSTOP) for 8 s");
        victim.pause();
        try {
          Thread.sleep(8_000);
        } finally {
          victim.resume();
          System.out.println("resumed ds_3");
        }
      }
      long left =
          seconds > 0 ? seconds * 1000 - (System.nanoTime() - start) / 1_000_000 : Long.MAX_VALUE;
      if (left > 0) {
        Thread.sleep(left);
      }
    } finally {
      vertx.cancelTimer(load);
      vertx.cancelTimer(report);
      vertx.cancelTimer(checks);
      long checked = System.nanoTime() + 30_000_000_000L;
      while (checking.get() && System.nanoTime() < checked) {
        Thread.sleep(20);
      }
      long end = System.nanoTime() + 10_000_000_000L;
      while (inFlight.get() > 0 && System.nanoTime() < end) {
        Thread.sleep(20);
      }
      System.out.println("final outcomes: " + outcomes);
      // A caller hears a TCC outcome once it is decided; its confirms and cancels (and a recovery
      // pass) may still run in scopes of their own: let them end before the shards go away.
      await(xa.stopRecovery());
      long quiet = System.nanoTime() + 10_000_000_000L;
      while ((TxScope.registry().openScopes() > 0 || TxScope.registry().pinnedResources() > 0)
          && System.nanoTime() < quiet) {
        Thread.sleep(20);
      }
      try {
        await(http.close());
        await(xa.close());
        await(pool.close());
      } finally {
        try {
          await(vertx.close()); // every connection closed before the databases are dropped
        } finally {
          databases.close();
        }
      }
    }
  }

  /** One tick (every 20 ms): two point reads, an XA transfer, every other tick a TCC transfer. */
  private void tick(ShardedPool pool, Transactions xa, int tick) {
    if (inFlight.get() > MAX_IN_FLIGHT) {
      count("skipped (too many in flight)");
      return;
    }
    ThreadLocalRandom random = ThreadLocalRandom.current();
    for (int i = 0; i < 2; i++) {
      track(
          "read",
          pool.preparedQuery("SELECT balance FROM account WHERE id = ?")
              .execute(Tuple.of((long) random.nextInt(ACCOUNTS))));
    }
    if (tick % 25 == 0) {
      track("scatter", pool.query("SELECT COUNT(*), SUM(balance) FROM account").execute());
    }
    long from = random.nextInt(ACCOUNTS);
    long to = random.nextInt(ACCOUNTS);
    if (from != to) {
      track("xa", pool.withTransaction(Duration.ofSeconds(2), conn -> transfer(conn, from, to)));
    }
    if (tick % 2 == 0 && from != to) {
      track(
          "tcc",
          xa.tcc(
              TransactionOptions.ofTimeout(Duration.ofSeconds(2)),
              tx ->
                  Future.all(
                          tx.enlist(DEBIT, new Move(from, 1)), tx.enlist(CREDIT, new Move(to, 1)))
                      .mapEmpty()));
    }
  }

  private static Future<Void> transfer(SqlClient sql, long from, long to) {
    return sql.preparedQuery("UPDATE account SET balance = balance - 1 WHERE id = ?")
        .execute(Tuple.of(from))
        .compose(
            rs ->
                sql.preparedQuery("UPDATE account SET balance = balance + 1 WHERE id = ?")
                    .execute(Tuple.of(to)))
        .mapEmpty();
  }

  private void track(String kind, Future<?> work) {
    inFlight.incrementAndGet();
    work.onComplete(
        ar -> {
          inFlight.decrementAndGet();
          count(kind + (ar.succeeded() ? " ok" : " " + ar.cause().getClass().getSimpleName()));
        });
  }

  private void count(String key) {
    outcomes.computeIfAbsent(key, k -> new LongAdder()).increment();
  }

  /** Try freezes the amount, confirm drops the frozen part, cancel gives it back. */
  static final TccAction<Move> DEBIT =
      TccAction.builder("ops.debit", CODEC)
          .shardedBy("account", Move::account)
          .onTry(
              (ctx, m) ->
                  ctx.client()
                      .preparedQuery(
                          "UPDATE account SET balance = balance - ?, frozen = frozen + ?"
                              + " WHERE id = ? AND balance >= ?")
                      .execute(Tuple.of(m.amount(), m.amount(), m.account(), m.amount()))
                      .compose(
                          rs ->
                              rs.rowCount() == 1
                                  ? Future.<Void>succeededFuture()
                                  : Future.failedFuture(
                                      new ShardkitException("insufficient funds"))))
          .onConfirm(
              (ctx, m) ->
                  ctx.client()
                      .preparedQuery("UPDATE account SET frozen = frozen - ? WHERE id = ?")
                      .execute(Tuple.of(m.amount(), m.account()))
                      .mapEmpty())
          .onCancel(
              (ctx, m) ->
                  ctx.client()
                      .preparedQuery(
                          "UPDATE account SET balance = balance + ?, frozen = frozen - ?"
                              + " WHERE id = ?")
                      .execute(Tuple.of(m.amount(), m.amount(), m.account()))
                      .mapEmpty())
          .build();

  /** Try announces the incoming amount, confirm books it, cancel withdraws the announcement. */
  static final TccAction<Move> CREDIT =
      TccAction.builder("ops.credit", CODEC)
          .shardedBy("account", Move::account)
          .onTry(
              (ctx, m) ->
                  ctx.client()
                      .preparedQuery("UPDATE account SET incoming = incoming + ? WHERE id = ?")
                      .execute(Tuple.of(m.amount(), m.account()))
                      .mapEmpty())
          .onConfirm(
              (ctx, m) ->
                  ctx.client()
                      .preparedQuery(
                          "UPDATE account SET incoming = incoming - ?, balance = balance + ?"
                              + " WHERE id = ?")
                      .execute(Tuple.of(m.amount(), m.amount(), m.account()))
                      .mapEmpty())
          .onCancel(
              (ctx, m) ->
                  ctx.client()
                      .preparedQuery("UPDATE account SET incoming = incoming - ? WHERE id = ?")
                      .execute(Tuple.of(m.amount(), m.account()))
                      .mapEmpty())
          .build();

  private static <T> T await(Future<T> future) throws Exception {
    return future
        .toCompletionStage()
        .toCompletableFuture()
        .get(60, java.util.concurrent.TimeUnit.SECONDS);
  }
}
