package io.shardkit.tx.redis;

import static io.shardkit.tx.redis.RedisTestSupport.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.shardkit.context.ShardkitException;
import io.shardkit.router.CircuitBreakerOptions;
import io.shardkit.router.ShardedPool;
import io.shardkit.router.ShardingRules;
import io.shardkit.testkit.ShardDatabases;
import io.shardkit.testkit.Shards;
import io.shardkit.testkit.TestRedis;
import io.shardkit.tx.SagaStep;
import io.shardkit.tx.TccCodec;
import io.shardkit.tx.TccOptions;
import io.shardkit.tx.TccTransaction;
import io.shardkit.tx.TransactionOptions;
import io.shardkit.tx.TransactionRolledBackException;
import io.shardkit.tx.Transactions;
import io.shardkit.tx.TransactionsOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Stock reservation across MySQL and Redis: each order is a saga (or a TCC transaction) with an
 * order row on a real MariaDB shard and a stock reservation in a real Redis, run concurrently while
 * Redis is paused (SIGSTOP: commands time out and run late, after their compensation was decided)
 * and killed -9 and restarted (append-only, fsync always), and while the path from the coordinator
 * to Redis loses replies, delivers phases twice and holds tries back until after their compensation
 * ({@link ReorderingParticipant}). A fence without the empty-rollback marker fails this test
 * (checked by mutation: reservations of rolled-back orders stay). Checked from the data at the end,
 * key by key: stock never below zero, no order reserved twice, every order either placed with its
 * reservation held or absent with its stock given back, and stock + reserved = what there was.
 */
@Shards(2)
class RedisStockTest {

  static final List<String> SKUS = List.of("apple", "pear", "plum");

  /** apple runs out during the run (the guard at zero), pear and plum keep orders committing. */
  static final Map<String, Long> INITIAL = Map.of("apple", 60L, "pear", 2000L, "plum", 2000L);

  static final TccOptions TCC =
      TccOptions.builder()
          .tablePrefix("redis_stock")
          .phaseTimeout(Duration.ofMillis(800))
          .completionTimeout(Duration.ofSeconds(2))
          .recoveryInterval(Duration.ofMillis(300))
          .recoveryGrace(Duration.ofMillis(300))
          .recoveryLease(Duration.ofSeconds(2))
          .retryInitialDelay(Duration.ofMillis(20))
          .retryMaxDelay(Duration.ofMillis(200))
          .build();

  /** An order: its id (also the saga's business key), sku and quantity. */
  record Order(long id, String sku, long quantity) {
    JsonObject toJson() {
      return new JsonObject().put("id", id).put("sku", sku).put("quantity", quantity);
    }

    static Order fromJson(JsonObject json) {
      return new Order(json.getLong("id"), json.getString("sku"), json.getLong("quantity"));
    }
  }

  static final TccCodec<Order> CODEC = TccCodec.of(Order::toJson, Order::fromJson);

  /**
   * Reserves: never below zero; the reservation is recorded per order ({@code reservations:<sku>}
   * hash), and a second reservation of one order is counted as an anomaly (the fence must prevent
   * it).
   */
  static final String RESERVE =
      String.join(
          "\n",
          "local left = tonumber(redis.call('GET', KEYS[1]) or '0')",
          "local want = tonumber(ARGV[1])",
          "if left < want then return redis.error_reply('out of stock: ' .. left .. ' left') end",
          "if redis.call('HEXISTS', KEYS[2], ARGV[2]) == 1 then",
          "  redis.call('INCR', 'anomaly:double-reservation')",
          "end",
          "redis.call('DECRBY', KEYS[1], want)",
          "redis.call('HINCRBY', KEYS[2], ARGV[2], want)");

  /** Gives back exactly what this order reserved; releasing nothing is counted as an anomaly. */
  static final String RELEASE =
      String.join(
          "\n",
          "local held = redis.call('HGET', KEYS[2], ARGV[2])",
          "if not held then",
          "  redis.call('INCR', 'anomaly:release-without-reservation')",
          "  return nil",
          "end",
          "redis.call('INCRBY', KEYS[1], held)",
          "redis.call('HDEL', KEYS[2], ARGV[2])");

  static final RedisStep<Order> RESERVE_STEP =
      RedisStep.builder("stock.reserve", CODEC)
          .source("stock")
          .keys(o -> List.of("stock:" + o.sku(), "reservations:" + o.sku()))
          .args(o -> List.of(Long.toString(o.quantity()), Long.toString(o.id())))
          .action(RESERVE)
          .compensation(RELEASE)
          .build();

  static final SagaStep<Order, Void> PLACE =
      SagaStep.builder("order.place", CODEC)
          .shardedBy("orders", Order::id)
          .action(
              (ctx, o) ->
                  ctx.connection()
                      .preparedQuery("INSERT INTO orders (id, sku, quantity) VALUES (?, ?, ?)")
                      .execute(Tuple.of(o.id(), o.sku(), o.quantity()))
                      .<Void>mapEmpty())
          .compensation(
              (ctx, o) ->
                  ctx.connection()
                      .preparedQuery("DELETE FROM orders WHERE id = ?")
                      .execute(Tuple.of(o.id()))
                      .mapEmpty())
          .build();

  static final io.shardkit.tx.TccAction<Order> PLACE_TCC =
      io.shardkit.tx.TccAction.builder("order.place.tcc", CODEC)
          .shardedBy("orders", Order::id)
          .onTry(
              (ctx, o) ->
                  ctx.connection()
                      .preparedQuery(
                          "INSERT INTO orders (id, sku, quantity, status) VALUES (?, ?, ?, 'held')")
                      .execute(Tuple.of(o.id(), o.sku(), o.quantity()))
                      .mapEmpty())
          .onConfirm(
              (ctx, o) ->
                  ctx.connection()
                      .preparedQuery("UPDATE orders SET status = 'placed' WHERE id = ?")
                      .execute(Tuple.of(o.id()))
                      .mapEmpty())
          .onCancel(
              (ctx, o) ->
                  ctx.connection()
                      .preparedQuery("DELETE FROM orders WHERE id = ?")
                      .execute(Tuple.of(o.id()))
                      .mapEmpty())
          .build();

  ShardDatabases databases;
  SimpleMeterRegistry meters = new SimpleMeterRegistry();
  TestRedis redis;
  Vertx vertx;
  ShardedPool pool;
  RedisSources sources;
  Transactions transactions;
  ReorderingParticipant network;

  @BeforeEach
  void start(ShardDatabases dbs) throws Exception {
    databases = dbs;
    databases.executeOnAll(
        "DROP TABLE IF EXISTS orders",
        "CREATE TABLE orders (id BIGINT PRIMARY KEY, sku VARCHAR(16) NOT NULL,"
            + " quantity BIGINT NOT NULL, status VARCHAR(8) NOT NULL DEFAULT 'placed')"
            + " ENGINE=InnoDB");
    for (String table : List.of(TCC.txTable(), TCC.fenceTable())) {
      databases.executeOnAll("DROP TABLE IF EXISTS " + table);
    }
    redis = TestRedis.startDurable();
    for (String sku : SKUS) {
      redis.command("SET", "stock:" + sku, Long.toString(INITIAL.get(sku)));
    }
    vertx = RedisTestSupport.vertx();
  }

  void manager(io.opentelemetry.api.OpenTelemetry otel) throws Exception {
    manager(otel, otel == null);
  }

  void manager(io.opentelemetry.api.OpenTelemetry otel, boolean reorder) throws Exception {
    manager(otel, reorder, Duration.ofMillis(500));
  }

  /** {@code commandTimeout}: short where a test pauses Redis, longer where it must not expire. */
  void manager(io.opentelemetry.api.OpenTelemetry otel, boolean reorder, Duration commandTimeout)
      throws Exception {
    pool =
        ShardedPool.builder(vertx)
            .rules(
                ShardingRules.builder()
                    .table(
                        "orders",
                        t -> t.dataNodes("ds_${0..1}.orders").databaseStrategy("id", "mod"))
                    .build())
            .dataSources(databases.dataSources("ds_"), new PoolOptions().setMaxSize(8))
            .build();
    pool.dataSourcesFor(
        "INSERT INTO orders (id, sku, quantity) VALUES (?, ?, ?)", Tuple.of(1L, "a", 1L));
    TccOptions tcc = otel == null ? TCC : TCC.toBuilder().openTelemetry(otel).build();
    RedisTxOptions.Builder redisOptions =
        RedisTxOptions.builder()
            .meterRegistry(meters)
            .commandTimeout(commandTimeout)
            .circuitBreaker(
                CircuitBreakerOptions.builder()
                    .consecutiveFailures(5)
                    .openDuration(Duration.ofMillis(300))
                    .build());
    if (otel != null) {
      redisOptions.openTelemetry(otel);
    }
    sources =
        RedisSources.builder(vertx, redisOptions.build())
            .source("stock", RedisTestSupport.clientOptions(redis))
            .build();
    transactions =
        Transactions.create(vertx, pool, TransactionsOptions.builder("ds_0").tcc(tcc).build());
    transactions.register(PLACE).register(PLACE_TCC);
    RedisParticipant participant = RedisParticipant.create(sources).register(RESERVE_STEP);
    if (!reorder) {
      participant.installOn(transactions);
    } else {
      // the coordinator reaches Redis through a network that loses replies, duplicates and delays
      network = new ReorderingParticipant(participant, 8);
      transactions.register(RESERVE_STEP.sagaStep());
      transactions.registerParticipant(RESERVE_STEP.name(), network);
    }
    await(transactions.installSchema());
  }

  @AfterEach
  void stop() throws Exception {
    if (network != null) {
      network.close();
    }
    if (transactions != null) {
      await(transactions.close());
    }
    if (pool != null) {
      await(pool.close());
    }
    if (sources != null) {
      await(sources.close());
    }
    RedisTestSupport.close(vertx);
    redis.close();
  }

  /** A saga: the two steps in an order that depends on the id; a tenth fail after both ran. */
  Future<Long> sagaOrder(Order order) {
    return transactions.saga(
        TransactionOptions.ofTimeout(Duration.ofSeconds(3)),
        saga -> {
          Future<Void> both =
              switch ((int) (order.id() % 3)) {
                case 0 ->
                    saga.step(RESERVE_STEP.sagaStep(), order).compose(v -> saga.step(PLACE, order));
                case 1 ->
                    saga.step(PLACE, order).compose(v -> saga.step(RESERVE_STEP.sagaStep(), order));
                default ->
                    Future.all(saga.step(RESERVE_STEP.sagaStep(), order), saga.step(PLACE, order))
                        .mapEmpty();
              };
          return both.compose(v -> failSome(order)).map(order.id());
        });
  }

  /** The same order as a TCC transaction: both tries in parallel, then confirm or cancel. */
  Future<Long> tccOrder(Order order) {
    return transactions.tcc(
        TransactionOptions.ofTimeout(Duration.ofSeconds(3)),
        (TccTransaction tx) ->
            Future.all(tx.enlist(RESERVE_STEP.tccAction(), order), tx.enlist(PLACE_TCC, order))
                .compose(v -> failSome(order))
                .map(order.id()));
  }

  static Future<Void> failSome(Order order) {
    return order.id() % 10 == 7
        ? Future.failedFuture(new ShardkitException("order " + order.id() + ": payment declined"))
        : Future.succeededFuture();
  }

  @Test
  void sagaOrdersStayWholeWhileRedisIsPausedAndKilled() throws Exception {
    manager(null);
    run(this::sagaOrder);
  }

  @Test
  void tccOrdersStayWholeWhileRedisIsPausedAndKilled() throws Exception {
    manager(null);
    run(this::tccOrder);
  }

  interface Placer {
    Future<Long> place(Order order);
  }

  /**
   * Places orders from 16 concurrent workers until the faults are over and one more second has
   * passed; the faults: pause 1.5 s, kill -9, restart after 1 s, pause 0.8 s.
   */
  private void run(Placer placer) throws Exception {
    await(transactions.startRecovery());
    Map<Long, String> outcomes = new ConcurrentHashMap<>();
    AtomicInteger next = new AtomicInteger();
    AtomicBoolean stop = new AtomicBoolean();
    AtomicBoolean inFaults = new AtomicBoolean();
    Map<String, Integer> duringFaults = new ConcurrentHashMap<>();
    AtomicLong minStock = new AtomicLong(Long.MAX_VALUE);
    AtomicBoolean sampling = new AtomicBoolean(true);
    Thread sampler =
        new Thread(
            () -> {
              while (sampling.get()) {
                for (String sku : SKUS) {
                  String value = redis.command("GET", "stock:" + sku);
                  if (value != null) {
                    minStock.accumulateAndGet(Long.parseLong(value), Math::min);
                  }
                }
                try {
                  Thread.sleep(20);
                } catch (InterruptedException e) {
                  return;
                }
              }
            });
    sampler.start();
    Promise<Void> allDone = Promise.promise();
    int concurrency = 16;
    AtomicInteger running = new AtomicInteger(concurrency);
    long start = System.nanoTime();
    Runnable[] work = new Runnable[1];
    work[0] =
        () -> {
          if (stop.get()) {
            if (running.decrementAndGet() == 0) {
              allDone.tryComplete();
            }
            return;
          }
          int n = next.getAndIncrement();
          long id = n + 1;
          Order order =
              new Order(id, SKUS.get(n % SKUS.size()), 1 + ThreadLocalRandom.current().nextInt(5));
          placer
              .place(order)
              .onComplete(
                  ar -> {
                    String outcome = classify(ar.failed() ? ar.cause() : null);
                    outcomes.put(id, outcome);
                    if (inFaults.get()) {
                      duringFaults.merge(
                          ar.succeeded() ? "committed" : "failed: " + rootCause(ar.cause()),
                          1,
                          Integer::sum);
                    }
                    work[0].run();
                  });
        };
    for (int w = 0; w < concurrency; w++) {
      vertx.runOnContext(v -> work[0].run());
    }
    // the faults, while orders run: a pause (commands time out, then run late), a kill and restart
    Thread.sleep(700);
    inFaults.set(true);
    redis.pause();
    Thread.sleep(1500);
    redis.resume();
    Thread.sleep(700);
    redis.kill();
    Thread.sleep(1000);
    redis.start();
    Thread.sleep(500);
    redis.pause();
    Thread.sleep(800);
    redis.resume();
    inFaults.set(false);
    Thread.sleep(1000);
    stop.set(true);
    await(allDone.future(), Duration.ofSeconds(120));
    long ranMillis = (System.nanoTime() - start) / 1_000_000;

    // the late tries still held back are delivered; recovery finishes what the coordinators left
    assertThat(
            RedisTestSupport.eventually(
                Duration.ofSeconds(10), () -> network.lateInFlight.get() == 0))
        .isTrue();
    long settleStart = System.nanoTime();
    boolean converged =
        RedisTestSupport.eventually(Duration.ofSeconds(60), () -> consistent(false));
    long settleMillis = (System.nanoTime() - settleStart) / 1_000_000;
    sampling.set(false);
    sampler.join();
    consistent(true); // lists what is wrong when it did not converge
    assertThat(converged).as("data converged after recovery").isTrue();

    Map<String, Integer> counts = new HashMap<>();
    outcomes.values().forEach(o -> counts.merge(o, 1, Integer::sum));
    Set<Long> placed = placedOrders().keySet();
    for (Map.Entry<Long, String> e : outcomes.entrySet()) {
      if (e.getValue().equals("committed")) {
        assertThat(placed).as("committed order %d is placed", e.getKey()).contains(e.getKey());
      } else if (e.getValue().equals("rolled back")) {
        assertThat(placed)
            .as("rolled-back order %d is absent", e.getKey())
            .doesNotContain(e.getKey());
      }
    }
    assertThat(duringFaults.keySet())
        .as("a fault is never reported as a script error")
        .noneMatch(k -> k.contains("script error"));
    assertThat(minStock.get()).as("stock never seen below zero").isGreaterThanOrEqualTo(0);
    assertThat(counts.getOrDefault("committed", 0)).isPositive();
    assertThat(counts.getOrDefault("rolled back", 0)).isPositive();
    assertThat(duringFaults.getOrDefault("committed", 0))
        .as("orders committed between the faults: %s", duringFaults)
        .isPositive();
    assertThat(duringFaults.keySet().stream().filter(k -> k.startsWith("failed: ")).count())
        .as("the faults failed transactions: %s", duringFaults)
        .isPositive();
    Map<String, Integer> fence = new java.util.TreeMap<>();
    for (Counter c : meters.find("shardkit.redis.phases").counters()) {
      fence.put(c.getId().getTag("kind") + " " + c.getId().getTag("outcome"), (int) c.count());
    }
    assertThat(RedisTestSupport.number(redis, "stock:apple")).as("apple sold out").isLessThan(5);
    assertThat(
            network.lateOutcomes.getOrDefault("TccTryRefusedException", new AtomicInteger()).get())
        .as("late tries refused after their compensation: %s", network.lateOutcomes)
        .isPositive();
    System.out.printf(
        "redis stock: %d orders in %d ms, outcomes %s, %d placed, min stock seen %d, converged"
            + " %d ms after the load; during the faults: %s; redis phases: %s; network faults"
            + " injected: %s; late tries: %s%n",
        outcomes.size(),
        ranMillis,
        counts,
        placed.size(),
        minStock.get(),
        settleMillis,
        duringFaults,
        fence,
        network.injected,
        network.lateOutcomes);
  }

  static String rootCause(Throwable failure) {
    Throwable t = failure;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    String message = String.valueOf(t.getMessage());
    if (t instanceof RedisStepRefusedException) {
      return "out of stock";
    }
    if (t instanceof RedisScriptException) {
      return "script error (" + message + ")";
    }
    if (message.contains("payment declined")) {
      return "payment declined";
    }
    return t.getClass().getSimpleName();
  }

  static String classify(Throwable failure) {
    if (failure == null) {
      return "committed";
    }
    if (TransactionRolledBackException.of(failure).isPresent()) {
      return "rolled back";
    }
    return failure.getClass().getSimpleName();
  }

  /** id → quantity of the orders in the database (the placed ones, for TCC also held ones). */
  Map<Long, Long> placedOrders() {
    Map<Long, Long> placed = new HashMap<>();
    for (var db : databases.all()) {
      for (JsonObject row : db.query("SELECT id, quantity FROM orders")) {
        placed.put(row.getLong("id"), row.getLong("quantity"));
      }
    }
    return placed;
  }

  /**
   * Key by key: the reservations in Redis are exactly the orders in the database, with their
   * quantities; stock + reserved = the initial stock; no anomaly counted; no order held but not
   * placed. With {@code strict}, asserts instead of answering.
   */
  boolean consistent(boolean strict) {
    if (redis.command("PING") == null) {
      return false;
    }
    Map<Long, Long> orders = placedOrders();
    Map<Long, Long> reserved = new HashMap<>();
    for (String sku : SKUS) {
      String all = redis.command("HGETALL", "reservations:" + sku);
      if (all != null && !all.isEmpty()) {
        String[] parts = all.split("\n");
        for (int i = 0; i + 1 < parts.length; i += 2) {
          reserved.put(Long.parseLong(parts[i]), Long.parseLong(parts[i + 1]));
        }
      }
    }
    long held = 0;
    for (var db : databases.all()) {
      held += db.query("SELECT id FROM orders WHERE status <> 'placed'").size();
    }
    List<String> problems = new ArrayList<>();
    if (!orders.equals(reserved)) {
      Map<Long, Long> onlyDb = new HashMap<>(orders);
      reserved.keySet().forEach(onlyDb::remove);
      Map<Long, Long> onlyRedis = new HashMap<>(reserved);
      orders.keySet().forEach(onlyRedis::remove);
      problems.add(
          "orders only in the database " + onlyDb + ", reservations only in Redis " + onlyRedis);
    }
    for (String sku : SKUS) {
      long stock = RedisTestSupport.number(redis, "stock:" + sku);
      long reservedUnits = 0;
      for (Map.Entry<Long, Long> e : reserved.entrySet()) {
        if (SKUS.get((int) ((e.getKey() - 1) % SKUS.size())).equals(sku)) {
          reservedUnits += e.getValue();
        }
      }
      if (stock < 0 || stock + reservedUnits != INITIAL.get(sku)) {
        problems.add(
            sku + ": stock " + stock + " + reserved " + reservedUnits + " != " + INITIAL.get(sku));
      }
    }
    for (String anomaly :
        List.of("anomaly:double-reservation", "anomaly:release-without-reservation")) {
      if (RedisTestSupport.number(redis, anomaly) != 0) {
        problems.add(anomaly + " = " + redis.command("GET", anomaly));
      }
    }
    if (held != 0) {
      problems.add(held + " orders still held (TCC not confirmed nor cancelled)");
    }
    if (strict) {
      assertThat(problems).isEmpty();
    }
    return problems.isEmpty();
  }

  @Test
  void aSagaAbandonedAfterBothStepsIsCompensatedByAnotherInstanceOnceRedisIsBack()
      throws Exception {
    // no fault before the abandon: timeouts long enough that a loaded machine cannot expire them
    manager(null, false, Duration.ofSeconds(3));
    ((io.shardkit.tx.impl.TransactionsImpl) transactions)
        .tccCoordinator()
        .saga()
        .stopAt(io.shardkit.tx.impl.tcc.SagaCoordinatorImpl.StopAt.BEFORE_DECISION);
    Order order = new Order(1, "pear", 4);
    RedisTestSupport.awaitFailure(
        transactions.saga(
            TransactionOptions.ofTimeout(Duration.ofSeconds(3)),
            saga ->
                saga.step(RESERVE_STEP.sagaStep(), order).compose(v -> saga.step(PLACE, order))));
    // both steps applied, nothing decided: the coordinator is gone
    assertThat(RedisTestSupport.number(redis, "stock:pear")).isEqualTo(1996);
    assertThat(placedOrders()).containsOnlyKeys(1L);
    redis.kill(); // and Redis is down when another instance's recovery comes
    Transactions survivor =
        Transactions.create(vertx, pool, TransactionsOptions.builder("ds_0").tcc(TCC).build());
    survivor.register(PLACE).register(PLACE_TCC);
    RedisParticipant.create(sources).register(RESERVE_STEP).installOn(survivor);
    try {
      await(survivor.startRecovery());
      assertThat(
              RedisTestSupport.eventually(
                  Duration.ofSeconds(10),
                  () ->
                      meters
                              .find("shardkit.redis.phases")
                              .tag("kind", "cancel")
                              .tag("outcome", "failed")
                              .counter()
                          != null))
          .as("recovery tried the Redis compensation while Redis was down")
          .isTrue();
      redis.start();
      assertThat(RedisTestSupport.eventually(Duration.ofSeconds(20), () -> consistent(false)))
          .isTrue();
      consistent(true);
      assertThat(placedOrders()).isEmpty();
      assertThat(RedisTestSupport.number(redis, "stock:pear")).isEqualTo(2000);
      assertThat(redis.command("HLEN", "reservations:pear")).isEqualTo("0");
    } finally {
      await(survivor.close());
    }
  }

  @Test
  void redisSpansAreChildrenOfTheSagaSpan() throws Exception {
    InMemorySpanExporter exporter = InMemorySpanExporter.create();
    SdkTracerProvider tracerProvider =
        SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(exporter)).build();
    OpenTelemetrySdk otel =
        OpenTelemetrySdk.builder()
            .setTracerProvider(tracerProvider)
            .setPropagators(ContextPropagators.create(W3CTraceContextPropagator.getInstance()))
            .build();
    try {
      manager(otel);
      Order order = new Order(3, "apple", 2);
      await(sagaOrder(order));
      List<SpanData> spans = exporter.getFinishedSpanItems();
      SpanData saga =
          spans.stream()
              .filter(s -> s.getName().equals("shardkit.tx saga"))
              .findFirst()
              .orElseThrow();
      SpanData redisSpan =
          spans.stream()
              .filter(
                  s -> "redis".equals(s.getAttributes().get(AttributeKey.stringKey("db.system"))))
              .findFirst()
              .orElseThrow(() -> new AssertionError("no redis span in " + spans));
      assertThat(redisSpan.getTraceId()).isEqualTo(saga.getTraceId());
      assertThat(redisSpan.getParentSpanId()).isEqualTo(saga.getSpanId());
      assertThat(redisSpan.getName()).isEqualTo("EVALSHA stock.reserve try");
      assertThat(redisSpan.getAttributes().get(AttributeKey.stringKey("db.namespace")))
          .isEqualTo("0");
      assertThat(redisSpan.getAttributes().get(AttributeKey.stringKey("server.address")))
          .isEqualTo("127.0.0.1");
      assertThat(redisSpan.getAttributes().get(AttributeKey.longKey("server.port")))
          .isEqualTo((long) redis.port());
      assertThat(redisSpan.getAttributes().get(AttributeKey.stringKey("shardkit.shard")))
          .isEqualTo("stock");
    } finally {
      tracerProvider.close();
    }
  }
}
