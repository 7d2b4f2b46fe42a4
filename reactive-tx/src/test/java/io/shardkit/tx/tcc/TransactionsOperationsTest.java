package io.shardkit.tx.tcc;

import static io.shardkit.tx.tcc.TccTestSupport.await;
import static io.shardkit.tx.tcc.TccTestSupport.awaitFailure;
import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.shardkit.context.EventBusPropagation;
import io.shardkit.context.GrpcPropagation;
import io.shardkit.context.ScopeOptions;
import io.shardkit.context.TxContext;
import io.shardkit.context.TxScope;
import io.shardkit.context.junit.LeakGuardExtension;
import io.shardkit.router.CircuitBreakerOptions;
import io.shardkit.router.ShardCircuitBreaker;
import io.shardkit.router.ShardCircuitOpenException;
import io.shardkit.router.ShardedPool;
import io.shardkit.testkit.ShardDatabases;
import io.shardkit.testkit.Shards;
import io.shardkit.tx.TccOptions;
import io.shardkit.tx.TransactionOptions;
import io.shardkit.tx.Transactions;
import io.shardkit.tx.TransactionsOptions;
import io.shardkit.tx.impl.TransactionsImpl;
import io.shardkit.tx.impl.tcc.TccCoordinatorImpl;
import io.shardkit.tx.impl.xa.RecoveryReport;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.common.GrpcMessageDecoder;
import io.vertx.grpc.common.GrpcMessageEncoder;
import io.vertx.grpc.common.ServiceMethod;
import io.vertx.grpc.common.ServiceName;
import io.vertx.grpc.server.GrpcServer;
import io.vertx.mysqlclient.MySQLConnectOptions;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Operations of XA and TCC on 2 real shards: outcome and phase meters by mode, the span tree of a
 * two-shard transaction run behind a gRPC hop, and an open circuit breaker refusing enlistment.
 */
@Shards(2)
@ExtendWith(LeakGuardExtension.class)
class TransactionsOperationsTest {

  static final TccOptions TCC =
      TccOptions.builder()
          .tablePrefix("ops_t")
          .phaseTimeout(Duration.ofSeconds(2))
          .completionTimeout(Duration.ofSeconds(4))
          .retryInitialDelay(Duration.ofMillis(20))
          .build();
  static final String DEBIT = "UPDATE account SET balance = balance - ? WHERE id = ?";
  static final String CREDIT = "UPDATE account SET balance = balance + ? WHERE id = ?";
  static final ServiceName SERVICE = ServiceName.create("shardkit.test.Transfers");

  static Vertx vertx;
  static ShardDatabases databases;
  Bank bank;

  @BeforeAll
  static void start(ShardDatabases dbs) {
    databases = dbs;
    vertx = TccTestSupport.vertx();
  }

  @AfterAll
  static void stop() throws Exception {
    TccTestSupport.close(vertx);
  }

  @BeforeEach
  void reset() {
    Bank.reset(databases, TCC);
    databases.executeOnAll(
        "DROP TABLE IF EXISTS ops_xa_log", "DROP TABLE IF EXISTS ops_xa_log_lease");
    Bank.open(databases, 4, 100);
    bank = new Bank();
  }

  static Future<Void> transfer(SqlClient sql, long from, long to, long amount) {
    return sql.preparedQuery(DEBIT)
        .execute(Tuple.of(amount, from))
        .compose(rs -> sql.preparedQuery(CREDIT).execute(Tuple.of(amount, to)))
        .mapEmpty();
  }

  static TransactionsOptions.Builder xaOptions() {
    return TransactionsOptions.builder("ds_0").recoveryGrace(Duration.ofMillis(200));
  }

  @Test
  void metersCountXaAndTccOutcomesAndPhasesByMode() throws Exception {
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    ShardedPool pool =
        ShardedPool.builder(vertx)
            .rules(TccTestSupport.rules(2))
            .dataSources(databases.dataSources("ds_"), new PoolOptions().setMaxSize(8))
            .transactionManager(
                p ->
                    Transactions.create(
                        vertx, p, xaOptions().meterRegistry(meters).tcc(TCC).build()))
            .build();
    TccTestSupport.warmUp(pool);
    Transactions xa = Transactions.of(pool);
    Transactions tcc = xa; // one manager, both protocols
    try {
      tcc.register(bank.debit).register(bank.credit);
      await(xa.installSchema());
      Duration twoSeconds = Duration.ofSeconds(2);
      await(pool.withTransaction(twoSeconds, sql -> transfer(sql, 0, 1, 5))); // two shards
      await(pool.withTransaction(twoSeconds, sql -> transfer(sql, 1, 2, 5))); // two shards
      await(pool.withTransaction(twoSeconds, sql -> transfer(sql, 0, 2, 5))); // one shard
      awaitFailure(
          pool.withTransaction(
              twoSeconds,
              sql ->
                  transfer(sql, 0, 1, 5)
                      .compose(v -> Future.failedFuture(new IllegalStateException("no")))));
      await(
          tcc.tcc(
              TransactionOptions.ofTimeout(Duration.ofSeconds(3)),
              tx -> bank.transfer(tx, 0, 1, 10)));
      awaitFailure(
          tcc.tcc(
              TransactionOptions.ofTimeout(Duration.ofSeconds(3)),
              tx -> tx.enlist(bank.debit, new Bank.Move(0, 5_000)))); // insufficient funds

      assertThat(transactions(meters, "xa", "committed")).isEqualTo(3);
      assertThat(transactions(meters, "xa", "rolled_back")).isEqualTo(1);
      assertThat(transactions(meters, "tcc", "committed")).isEqualTo(1);
      assertThat(transactions(meters, "tcc", "cancelled")).isEqualTo(1);
      assertThat(phases(meters, "xa", "prepare", "ok")).isEqualTo(2);
      assertThat(phases(meters, "xa", "decide", "ok")).isEqualTo(2);
      assertThat(phases(meters, "xa", "commit", "ok")).isEqualTo(2);
      assertThat(phases(meters, "xa", "one_phase", "ok")).isEqualTo(1);
      assertThat(phases(meters, "xa", "rollback", "ok")).isEqualTo(1);
      assertThat(phases(meters, "xa", "execute", "ok")).isEqualTo(3);
      assertThat(phases(meters, "xa", "execute", "error")).isEqualTo(1);
      assertThat(phases(meters, "tcc", "try", "applied")).isEqualTo(2);
      assertThat(phases(meters, "tcc", "try", "failed")).isEqualTo(1);
      assertThat(phases(meters, "tcc", "confirm", "applied")).isEqualTo(2);
      assertThat(phases(meters, "tcc", "cancel", "empty_rollback")).isEqualTo(1);
      assertThat(meters.get("shardkit.tx.in.doubt").tag("mode", "xa").gauge().value()).isZero();
      assertThat(meters.find("shardkit.tx.in.doubt").tag("mode", "tcc").gauge())
          .as("registered by the first recovery round")
          .isNull();
      await(((TransactionsImpl) tcc).tccCoordinator().recovery().runOnce());
      assertThat(meters.get("shardkit.tx.in.doubt").tag("mode", "tcc").gauge().value()).isZero();
    } finally {
      await(xa.close());
      await(pool.close());
    }
  }

  static double transactions(SimpleMeterRegistry meters, String mode, String outcome) {
    var c =
        meters.find("shardkit.tx.transactions").tag("mode", mode).tag("outcome", outcome).counter();
    return c == null ? 0 : c.count();
  }

  static long phases(SimpleMeterRegistry meters, String mode, String phase, String result) {
    var t =
        meters
            .find("shardkit.tx.phase")
            .tag("mode", mode)
            .tag("phase", phase)
            .tag("result", result)
            .timer();
    return t == null ? 0 : t.count();
  }

  @Test
  void spanTreeOfATwoShardXaTransactionBehindAGrpcHop() throws Exception {
    InMemorySpanExporter exporter = InMemorySpanExporter.create();
    SdkTracerProvider tracerProvider =
        SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(exporter)).build();
    OpenTelemetrySdk otel =
        OpenTelemetrySdk.builder()
            .setTracerProvider(tracerProvider)
            .setPropagators(ContextPropagators.create(W3CTraceContextPropagator.getInstance()))
            .build();
    ShardedPool pool =
        ShardedPool.builder(vertx)
            .rules(TccTestSupport.rules(2))
            .dataSources(databases.dataSources("ds_"), new PoolOptions().setMaxSize(4))
            .openTelemetry(otel)
            .transactionManager(
                p -> Transactions.create(vertx, p, xaOptions().openTelemetry(otel).build()))
            .build();
    TccTestSupport.warmUp(pool);
    Transactions xa = Transactions.of(pool);
    await(xa.installSchema());
    GrpcPropagation grpc = GrpcPropagation.create(otel);
    GrpcServer grpcServer = GrpcServer.server(vertx, GrpcPropagation.serverOptions());
    grpcServer.callHandler(
        ServiceMethod.server(
            SERVICE, "Transfer", GrpcMessageEncoder.IDENTITY, GrpcMessageDecoder.IDENTITY),
        grpc.<Buffer, Buffer>unary(
            request ->
                pool.withTransaction(Duration.ofSeconds(2), sql -> transfer(sql, 0, 1, 7))
                    .map(v -> Buffer.buffer("ok"))));
    HttpServer server =
        await(
            vertx
                .createHttpServer(new HttpServerOptions().setHost("127.0.0.1").setPort(0))
                .requestHandler(grpcServer)
                .listen());
    GrpcClient client = GrpcClient.client(vertx, GrpcPropagation.clientOptions());
    try {
      Span caller = otel.getTracer("test").spanBuilder("caller").startSpan();
      Future<Buffer> reply;
      try (var ignored = caller.makeCurrent()) {
        reply =
            TxScope.run(
                vertx,
                ScopeOptions.ofTimeout(Duration.ofSeconds(3)),
                () ->
                    grpc.call(
                        client,
                        SocketAddress.inetSocketAddress(server.actualPort(), "127.0.0.1"),
                        ServiceMethod.client(
                            SERVICE,
                            "Transfer",
                            GrpcMessageEncoder.IDENTITY,
                            GrpcMessageDecoder.IDENTITY),
                        Buffer.buffer("transfer")));
      }
      assertThat(await(reply).toString()).isEqualTo("ok");
      caller.end();
      assertThat(Bank.account(databases, 0)[0]).isEqualTo(93);
      assertThat(Bank.account(databases, 1)[0]).isEqualTo(107);

      List<SpanData> spans = exporter.getFinishedSpanItems();
      Map<String, SpanData> byId =
          spans.stream().collect(Collectors.toMap(SpanData::getSpanId, Function.identity()));
      SpanData callerSpan = only(spans, "caller");
      SpanData tx = only(spans, "shardkit.tx xa");
      String gid = tx.getAttributes().get(TxContext.GLOBAL_ID_ATTRIBUTE);
      assertThat(gid).isNotBlank();
      // the transaction span hangs under the caller's span, across the gRPC hop
      assertThat(tx.getTraceId()).isEqualTo(callerSpan.getTraceId());
      assertThat(tx.getParentSpanId()).isEqualTo(callerSpan.getSpanId());
      assertThat(tx.getParentSpanContext().isRemote()).isTrue();
      assertThat(tx.getAttributes().get(AttributeKey.stringKey("shardkit.tx.outcome")))
          .isEqualTo("committed");
      // one span per phase, children of the transaction span
      for (String phase : List.of("execute", "prepare", "decide", "commit")) {
        SpanData p = only(spans, "shardkit.tx xa " + phase);
        assertThat(p.getParentSpanId()).as(phase).isEqualTo(tx.getSpanId());
        assertThat(p.getAttributes().get(TxContext.GLOBAL_ID_ATTRIBUTE)).isEqualTo(gid);
      }
      // two logical statements under the transaction, each with one shard execution under it
      List<SpanData> statements =
          spans.stream().filter(s -> s.getName().equals("UPDATE account")).toList();
      List<SpanData> logical =
          statements.stream().filter(s -> s.getKind() == SpanKind.INTERNAL).toList();
      List<SpanData> shard =
          statements.stream().filter(s -> s.getKind() == SpanKind.CLIENT).toList();
      assertThat(logical).hasSize(2);
      assertThat(shard).hasSize(2);
      assertThat(logical)
          .allSatisfy(s -> assertThat(s.getParentSpanId()).isEqualTo(tx.getSpanId()));
      assertThat(shard)
          .allSatisfy(
              s -> {
                assertThat(byId.get(s.getParentSpanId()).getKind()).isEqualTo(SpanKind.INTERNAL);
                assertThat(s.getAttributes().get(TxContext.GLOBAL_ID_ATTRIBUTE)).isEqualTo(gid);
                assertThat(s.getAttributes().get(AttributeKey.stringKey("db.system.name")))
                    .isEqualTo("mysql");
                assertThat(s.getAttributes().get(AttributeKey.stringKey("db.operation.name")))
                    .isEqualTo("UPDATE");
                assertThat(s.getAttributes().get(AttributeKey.stringKey("db.query.summary")))
                    .isEqualTo("UPDATE account");
                assertThat(s.getAttributes().get(AttributeKey.stringKey("db.namespace")))
                    .isNotBlank();
                assertThat(s.getAttributes().asMap().keySet())
                    .noneMatch(k -> k.getKey().equals("db.query.text"));
              })
          .extracting(s -> s.getAttributes().get(AttributeKey.stringKey("shardkit.shard")))
          .containsExactlyInAnyOrder("ds_0", "ds_1");
      assertThat(spans).allSatisfy(s -> assertThat(s.getTraceId()).isEqualTo(tx.getTraceId()));
    } finally {
      await(client.close());
      await(server.close());
      await(xa.close());
      await(pool.close());
      tracerProvider.close();
    }
  }

  @Test
  void xaAndTccSpansHangUnderTheCallerAcrossAnEventBusHop() throws Exception {
    InMemorySpanExporter exporter = InMemorySpanExporter.create();
    SdkTracerProvider tracerProvider =
        SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(exporter)).build();
    OpenTelemetrySdk otel =
        OpenTelemetrySdk.builder()
            .setTracerProvider(tracerProvider)
            .setPropagators(ContextPropagators.create(W3CTraceContextPropagator.getInstance()))
            .build();
    Vertx own = TccTestSupport.vertx(); // the interceptors are installed once per Vertx
    EventBusPropagation eventBus = EventBusPropagation.install(own, otel);
    ShardedPool pool =
        ShardedPool.builder(own)
            .rules(TccTestSupport.rules(2))
            .dataSources(databases.dataSources("ds_"), new PoolOptions().setMaxSize(4))
            .openTelemetry(otel)
            .transactionManager(
                p -> Transactions.create(own, p, xaOptions().openTelemetry(otel).tcc(TCC).build()))
            .build();
    TccTestSupport.warmUp(pool);
    Transactions xa = Transactions.of(pool);
    Transactions tcc = xa; // one manager, both protocols
    try {
      tcc.register(bank.debit).register(bank.credit);
      await(xa.installSchema());
      own.eventBus()
          .<String>consumer("transfers")
          .handler(
              EventBusPropagation.scoped(
                  own,
                  message ->
                      pool.withTransaction(Duration.ofSeconds(2), sql -> transfer(sql, 0, 1, 3))
                          .compose(
                              v ->
                                  tcc.tcc(
                                      TransactionOptions.ofTimeout(Duration.ofSeconds(2)),
                                      tx -> bank.transfer(tx, 2, 3, 4)))
                          .map(v -> "done")));
      Span caller = otel.getTracer("test").spanBuilder("caller").startSpan();
      Future<io.vertx.core.eventbus.Message<String>> reply;
      try (var ignored = caller.makeCurrent()) {
        reply =
            TxScope.run(
                own,
                ScopeOptions.ofTimeout(Duration.ofSeconds(5)),
                () -> eventBus.<String>request("transfers", "go"));
      }
      assertThat(await(reply).body()).isEqualTo("done");
      caller.end();

      List<SpanData> spans = exporter.getFinishedSpanItems();
      SpanData callerSpan = only(spans, "caller");
      SpanData xaSpan = only(spans, "shardkit.tx xa");
      SpanData tccSpan = only(spans, "shardkit.tx tcc");
      for (SpanData tx : List.of(xaSpan, tccSpan)) {
        assertThat(tx.getTraceId()).isEqualTo(callerSpan.getTraceId());
        assertThat(tx.getParentSpanId()).as(tx.getName()).isEqualTo(callerSpan.getSpanId());
        assertThat(tx.getAttributes().get(AttributeKey.stringKey("shardkit.tx.outcome")))
            .isEqualTo("committed");
      }
      String tccGid = tccSpan.getAttributes().get(TxContext.GLOBAL_ID_ATTRIBUTE);
      for (String phase : List.of("try", "confirm")) {
        List<SpanData> phases =
            spans.stream().filter(s -> s.getName().equals("shardkit.tx tcc " + phase)).toList();
        assertThat(phases).as(phase).hasSize(2);
        assertThat(phases)
            .allSatisfy(
                p -> {
                  assertThat(p.getParentSpanId()).isEqualTo(tccSpan.getSpanId());
                  assertThat(p.getAttributes().get(TxContext.GLOBAL_ID_ATTRIBUTE))
                      .isEqualTo(tccGid);
                  assertThat(p.getAttributes().get(AttributeKey.stringKey("shardkit.tx.result")))
                      .isEqualTo("applied");
                });
      }
    } finally {
      await(xa.close());
      await(pool.close());
      eventBus.uninstall();
      TccTestSupport.close(own);
      tracerProvider.close();
    }
  }

  static SpanData only(List<SpanData> spans, String name) {
    List<SpanData> found = spans.stream().filter(s -> s.getName().equals(name)).toList();
    assertThat(found).as("spans named " + name + " in " + spans).hasSize(1);
    return found.get(0);
  }

  @Test
  void openBreakerRefusesXaEnlistAndTccTryBeforeAnyIoWhileRecoveryStillTries() throws Exception {
    ShardedPool healthy = TccTestSupport.pool(vertx, databases.dataSources("ds_"));
    TccCoordinatorImpl setup = TccTestSupport.coordinator(vertx, healthy, TCC);
    setup.register(bank.debit).register(bank.credit);
    await(setup.setup()); // fence on both shards, log on ds_0
    // XA's tables too (its decision table lives on every shard), while ds_1 is reachable
    Transactions installer = Transactions.create(vertx, healthy, xaOptions().tcc(TCC).build());
    await(installer.installSchema());
    await(installer.close());
    await(healthy.close());
    // ds_1 points at a port nothing listens on: its statements fail until the breaker opens
    Map<String, MySQLConnectOptions> sources = new LinkedHashMap<>();
    sources.put("ds_0", databases.get(0).connectOptions());
    sources.put("ds_1", new MySQLConnectOptions(databases.get(1).connectOptions()).setPort(1));
    ShardedPool pool =
        ShardedPool.builder(vertx)
            .rules(TccTestSupport.rules(2))
            .dataSources(sources, new PoolOptions().setMaxSize(4))
            .circuitBreaker(
                CircuitBreakerOptions.builder()
                    .consecutiveFailures(3)
                    .openDuration(Duration.ofSeconds(30))
                    .build())
            .transactionManager(p -> Transactions.create(vertx, p, xaOptions().tcc(TCC).build()))
            .build();
    TccTestSupport.warmUp(pool);
    Transactions xa = Transactions.of(pool);
    Transactions tcc = xa; // one manager, both protocols
    try {
      tcc.register(bank.debit).register(bank.credit);
      for (int i = 0; i < 3; i++) {
        awaitFailure(pool.preparedQuery(CREDIT).execute(Tuple.of(1, 1L)));
      }
      assertThat(pool.circuitBreaker("ds_1").state()).isEqualTo(ShardCircuitBreaker.State.OPEN);
      assertThat(pool.circuitBreaker("ds_0").state()).isEqualTo(ShardCircuitBreaker.State.CLOSED);

      long t0 = System.nanoTime();
      Throwable xaFailure =
          awaitFailure(pool.withTransaction(Duration.ofSeconds(2), sql -> transfer(sql, 0, 1, 5)));
      long xaMillis = (System.nanoTime() - t0) / 1_000_000;
      // the statement on ds_1 failed with the breaker's refusal; the work returned it
      assertThat(xaFailure).isInstanceOf(ShardCircuitOpenException.class);
      assertThat(xaMillis).as("no connect attempt, no wait").isLessThan(500);
      assertThat(Bank.account(databases, 0)[0]).as("ds_0 rolled back").isEqualTo(100);

      long t1 = System.nanoTime();
      Throwable tccFailure =
          awaitFailure(
              tcc.tcc(
                  TransactionOptions.ofTimeout(Duration.ofSeconds(2)),
                  tx -> tx.enlist(bank.credit, new Bank.Move(1, 5))));
      long tccMillis = (System.nanoTime() - t1) / 1_000_000;
      // the try's own failure, as for XA; shardkit's details attached
      assertThat(tccFailure).isInstanceOf(ShardCircuitOpenException.class);
      assertThat(TccTestSupport.rolledBack(tccFailure)).isNotNull();
      assertThat(tccMillis).isLessThan(500);
      assertThat(
              databases
                  .get(0)
                  .query("SELECT COUNT(*) AS n FROM " + TCC.txTable())
                  .get(0)
                  .getLong("n"))
          .as("refused before the branch was logged")
          .isEqualTo(0L);
      // recovery is not gated: it still tries the shard, and reports it unreachable
      RecoveryReport report =
          await(((TransactionsImpl) xa).xa().recovery().runOnce(), Duration.ofSeconds(20));
      assertThat(report.unreachable()).containsExactly("ds_1");
      System.out.printf(
          "open breaker: XA refused in %d ms, TCC try refused in %d ms%n", xaMillis, tccMillis);
    } finally {
      await(xa.close());
      await(pool.close());
    }
  }
}
