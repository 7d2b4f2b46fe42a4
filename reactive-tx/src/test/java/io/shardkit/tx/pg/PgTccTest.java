package io.shardkit.tx.pg;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardkit.context.ShardkitException;
import io.shardkit.context.TxContext;
import io.shardkit.router.ShardedPool;
import io.shardkit.router.ShardingRules;
import io.shardkit.testkit.ShardDatabases;
import io.shardkit.testkit.Shards;
import io.shardkit.testkit.TestPostgres;
import io.shardkit.tx.PostgresSourceOptions;
import io.shardkit.tx.SagaStep;
import io.shardkit.tx.TccAction;
import io.shardkit.tx.TccBranch;
import io.shardkit.tx.TccCodec;
import io.shardkit.tx.TccOptions;
import io.shardkit.tx.TccPhaseOutcome;
import io.shardkit.tx.TccTryRefusedException;
import io.shardkit.tx.TransactionOptions;
import io.shardkit.tx.TransactionRolledBackException;
import io.shardkit.tx.Transactions;
import io.shardkit.tx.TransactionsOptions;
import io.shardkit.tx.impl.TransactionsImpl;
import io.shardkit.tx.impl.tcc.SagaCoordinatorImpl;
import io.shardkit.tx.impl.tcc.TccCoordinatorImpl;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * TCC transfers and sagas with one branch on a real MariaDB shard and one on a real PostgreSQL 14
 * ({@link PgParticipant}): money leaves a MySQL account (held in the try, released by the confirm,
 * given back by the cancel) and reaches a PostgreSQL account (pending in the try, booked by the
 * confirm, dropped by the cancel); each transfer leaves a row per side ({@code debit} on MySQL,
 * {@code credit} on PostgreSQL). Commit, rollback on a business refusal on either side, the fence
 * anomalies on PostgreSQL (empty compensation then a late try, retried and concurrent phases), the
 * typed errors, and PostgreSQL killed -9 during confirms and compensations (deterministically after
 * the decision, and under concurrent load, after a SIGSTOP pause): recovery finishes, and the data
 * show every transfer fully applied or fully compensated, money conserved, nothing held or pending.
 */
@Shards(2)
@org.junit.jupiter.api.extension.ExtendWith(io.shardkit.context.junit.LeakGuardExtension.class)
class PgTccTest {

  static final TccOptions TCC =
      TccOptions.builder()
          .tablePrefix("pg_tcc")
          .phaseTimeout(Duration.ofMillis(800))
          .completionTimeout(Duration.ofSeconds(2))
          .recoveryInterval(Duration.ofMillis(300))
          .recoveryGrace(Duration.ofMillis(300))
          .recoveryLease(Duration.ofSeconds(2))
          .retryInitialDelay(Duration.ofMillis(20))
          .retryMaxDelay(Duration.ofMillis(200))
          .build();

  static final long MYSQL_START = 1000;
  static final List<Long> MYSQL_ACCOUNTS = List.of(1L, 2L, 3L, 4L);
  static final List<Long> PG_ACCOUNTS = List.of(100L, 101L, 102L);
  static final long FROZEN = 109L;

  /** A transfer: its id, the MySQL account debited, the PostgreSQL account credited. */
  record Transfer(long tid, long from, long to, long amount) {
    JsonObject toJson() {
      return new JsonObject().put("tid", tid).put("from", from).put("to", to).put("amount", amount);
    }

    static Transfer fromJson(JsonObject json) {
      return new Transfer(
          json.getLong("tid"), json.getLong("from"), json.getLong("to"), json.getLong("amount"));
    }
  }

  static final TccCodec<Transfer> CODEC = TccCodec.of(Transfer::toJson, Transfer::fromJson);

  static Future<Void> one(io.vertx.sqlclient.RowSet<?> rs, String refusal) {
    return rs.rowCount() == 1
        ? Future.succeededFuture()
        : Future.failedFuture(new ShardkitException(refusal));
  }

  // ---- MySQL side: a local TCC action and a local saga step on the shard of the debited account

  static final TccAction<Transfer> DEBIT =
      TccAction.builder("bank.debit", CODEC)
          .shardedBy("account", Transfer::from)
          .onTry(
              (ctx, t) ->
                  ctx.connection()
                      .preparedQuery(
                          "UPDATE account SET balance = balance - ?, held = held + ?"
                              + " WHERE id = ? AND balance >= ?")
                      .execute(Tuple.of(t.amount(), t.amount(), t.from(), t.amount()))
                      .compose(rs -> one(rs, "account " + t.from() + ": insufficient funds"))
                      .compose(
                          v ->
                              ctx.connection()
                                  .preparedQuery(
                                      "INSERT INTO debit (tid, account, amount, status)"
                                          + " VALUES (?, ?, ?, 'held')")
                                  .execute(Tuple.of(t.tid(), t.from(), t.amount())))
                      .mapEmpty())
          .onConfirm(
              (ctx, t) ->
                  ctx.connection()
                      .preparedQuery("UPDATE account SET held = held - ? WHERE id = ?")
                      .execute(Tuple.of(t.amount(), t.from()))
                      .compose(
                          v ->
                              ctx.connection()
                                  .preparedQuery("UPDATE debit SET status = 'done' WHERE tid = ?")
                                  .execute(Tuple.of(t.tid())))
                      .mapEmpty())
          .onCancel(
              (ctx, t) ->
                  ctx.connection()
                      .preparedQuery(
                          "UPDATE account SET balance = balance + ?, held = held - ? WHERE id = ?")
                      .execute(Tuple.of(t.amount(), t.amount(), t.from()))
                      .compose(
                          v ->
                              ctx.connection()
                                  .preparedQuery("DELETE FROM debit WHERE tid = ?")
                                  .execute(Tuple.of(t.tid())))
                      .mapEmpty())
          .build();

  static final SagaStep<Transfer, Void> DEBIT_STEP =
      SagaStep.builder("bank.debit.saga", CODEC)
          .shardedBy("account", Transfer::from)
          .action(
              (ctx, t) ->
                  ctx.connection()
                      .preparedQuery(
                          "UPDATE account SET balance = balance - ? WHERE id = ? AND balance >= ?")
                      .execute(Tuple.of(t.amount(), t.from(), t.amount()))
                      .compose(rs -> one(rs, "account " + t.from() + ": insufficient funds"))
                      .compose(
                          v ->
                              ctx.connection()
                                  .preparedQuery(
                                      "INSERT INTO debit (tid, account, amount, status)"
                                          + " VALUES (?, ?, ?, 'done')")
                                  .execute(Tuple.of(t.tid(), t.from(), t.amount())))
                      .<Void>mapEmpty())
          .compensation(
              (ctx, t) ->
                  ctx.connection()
                      .preparedQuery("UPDATE account SET balance = balance + ? WHERE id = ?")
                      .execute(Tuple.of(t.amount(), t.from()))
                      .compose(
                          v ->
                              ctx.connection()
                                  .preparedQuery("DELETE FROM debit WHERE tid = ?")
                                  .execute(Tuple.of(t.tid())))
                      .mapEmpty())
          .build();

  // ---- PostgreSQL side

  static final PgStep<Transfer> CREDIT =
      PgStep.builder("ledger.credit", CODEC)
          .source("ledger")
          .action(
              (conn, t) ->
                  conn.preparedQuery(
                          "UPDATE account SET pending = pending + $1 WHERE id = $2 AND NOT frozen")
                      .execute(Tuple.of(t.amount(), t.to()))
                      .compose(rs -> one(rs, "account " + t.to() + " is frozen"))
                      .compose(
                          v ->
                              conn.preparedQuery(
                                      "INSERT INTO credit (tid, account, amount, status)"
                                          + " VALUES ($1, $2, $3, 'held')")
                                  .execute(Tuple.of(t.tid(), t.to(), t.amount())))
                      .mapEmpty())
          .confirm(
              (conn, t) ->
                  conn.preparedQuery(
                          "UPDATE account SET pending = pending - $1, balance = balance + $1"
                              + " WHERE id = $2")
                      .execute(Tuple.of(t.amount(), t.to()))
                      .compose(
                          v ->
                              conn.preparedQuery("UPDATE credit SET status = 'done' WHERE tid = $1")
                                  .execute(Tuple.of(t.tid())))
                      .mapEmpty())
          .compensation(
              (conn, t) ->
                  conn.preparedQuery("UPDATE account SET pending = pending - $1 WHERE id = $2")
                      .execute(Tuple.of(t.amount(), t.to()))
                      .compose(
                          v ->
                              conn.preparedQuery("DELETE FROM credit WHERE tid = $1")
                                  .execute(Tuple.of(t.tid())))
                      .mapEmpty())
          .build();

  static final PgStep<Transfer> CREDIT_STEP =
      PgStep.builder("ledger.credit.saga", CODEC)
          .source("ledger")
          .action(
              (conn, t) ->
                  conn.preparedQuery(
                          "UPDATE account SET balance = balance + $1 WHERE id = $2 AND NOT frozen")
                      .execute(Tuple.of(t.amount(), t.to()))
                      .compose(rs -> one(rs, "account " + t.to() + " is frozen"))
                      .compose(
                          v ->
                              conn.preparedQuery(
                                      "INSERT INTO credit (tid, account, amount, status)"
                                          + " VALUES ($1, $2, $3, 'done')")
                                  .execute(Tuple.of(t.tid(), t.to(), t.amount())))
                      .mapEmpty())
          .compensation(
              (conn, t) ->
                  conn.preparedQuery("UPDATE account SET balance = balance - $1 WHERE id = $2")
                      .execute(Tuple.of(t.amount(), t.to()))
                      .compose(
                          v ->
                              conn.preparedQuery("DELETE FROM credit WHERE tid = $1")
                                  .execute(Tuple.of(t.tid())))
                      .mapEmpty())
          .build();

  ShardDatabases databases;

  /** One PostgreSQL for the class (tables recreated per test; a test that kills it restarts it). */
  static TestPostgres pg;

  Vertx vertx;
  ShardedPool pool;
  Transactions transactions;
  PgParticipant ledger;
  LateNetwork network;
  SimpleMeterRegistry meters = new SimpleMeterRegistry();

  @org.junit.jupiter.api.BeforeAll
  static void warmJson() {
    // Jackson's first use loads and introspects its classes (seconds on a busy machine): done here
    // on the test thread, not on an event loop under the blocked-thread check
    new io.vertx.core.json.JsonArray()
        .add(new JsonObject().put("a", 1).put("b", List.of("c")))
        .encode();
    new JsonObject("{\"a\": [1, {\"b\": \"c\"}]}").encode();
    CODEC.decode(CODEC.encode(new Transfer(1, 1, 1, 1)));
  }

  @BeforeEach
  void start(ShardDatabases dbs) throws Exception {
    databases = dbs;
    databases.executeOnAll(
        "DROP TABLE IF EXISTS account",
        "DROP TABLE IF EXISTS debit",
        "CREATE TABLE account (id BIGINT PRIMARY KEY, balance BIGINT NOT NULL,"
            + " held BIGINT NOT NULL DEFAULT 0) ENGINE=InnoDB",
        "CREATE TABLE debit (tid BIGINT PRIMARY KEY, account BIGINT NOT NULL,"
            + " amount BIGINT NOT NULL, status VARCHAR(8) NOT NULL) ENGINE=InnoDB");
    for (String table : List.of(TCC.txTable(), TCC.fenceTable())) {
      databases.executeOnAll("DROP TABLE IF EXISTS " + table);
    }
    for (long id : MYSQL_ACCOUNTS) {
      databases
          .get((int) (id % 2))
          .execute("INSERT INTO account (id, balance) VALUES (" + id + ", " + MYSQL_START + ")");
    }
    if (pg == null) {
      pg = TestPostgres.start();
    } else if (!pg.isRunning()) {
      pg.startAgain();
    }
    pg.execute("DROP TABLE IF EXISTS account, credit, shardkit_tcc_fence");
    pg.execute(
        "CREATE TABLE account (id BIGINT PRIMARY KEY, balance BIGINT NOT NULL,"
            + " pending BIGINT NOT NULL DEFAULT 0, frozen BOOLEAN NOT NULL DEFAULT false)",
        "CREATE TABLE credit (tid BIGINT PRIMARY KEY, account BIGINT NOT NULL,"
            + " amount BIGINT NOT NULL, status VARCHAR(8) NOT NULL)");
    for (long id : PG_ACCOUNTS) {
      pg.execute("INSERT INTO account (id, balance) VALUES (" + id + ", 0)");
    }
    pg.execute("INSERT INTO account (id, balance, frozen) VALUES (" + FROZEN + ", 0, true)");
    vertx =
        Vertx.vertx(
            new VertxOptions()
                .setBlockedThreadCheckInterval(200)
                .setMaxEventLoopExecuteTime(200)
                .setMaxEventLoopExecuteTimeUnit(TimeUnit.MILLISECONDS)
                .setWarningExceptionTime(500)
                .setWarningExceptionTimeUnit(TimeUnit.MILLISECONDS));
    pool =
        ShardedPool.builder(vertx)
            .rules(
                ShardingRules.builder()
                    .table(
                        "account",
                        t -> t.dataNodes("ds_${0..1}.account").databaseStrategy("id", "mod"))
                    .build())
            .dataSources(databases.dataSources("ds_"), new PoolOptions().setMaxSize(8))
            .build();
    transactions =
        Transactions.create(vertx, pool, TransactionsOptions.builder("ds_0").tcc(TCC).build());
    transactions.register(DEBIT).register(DEBIT_STEP);
    ledger =
        PgParticipant.builder(vertx)
            .source(
                "ledger",
                new PostgresSourceOptions(pg.connectOptions())
                    .poolOptions(new PoolOptions().setMaxSize(8).setMaxWaitQueueSize(256)))
            .phaseTimeout(Duration.ofMillis(800))
            .meterRegistry(meters)
            .build()
            .register(CREDIT)
            .register(CREDIT_STEP);
    // installOn(transactions), through a network the load test makes faulty
    network = new LateNetwork(ledger, 8);
    for (PgStep<Transfer> step : List.of(CREDIT, CREDIT_STEP)) {
      transactions.register(step.sagaStep());
      transactions.registerParticipant(step.name(), network);
    }
    await(transactions.installSchema());
    await(ledger.installSchema());
  }

  @AfterEach
  void stop() throws Exception {
    if (network != null) {
      network.close();
    }
    if (transactions != null) {
      await(transactions.close());
    }
    if (ledger != null) {
      await(ledger.close());
    }
    if (pool != null) {
      await(pool.close());
    }
    vertx.close().toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
  }

  @AfterAll
  static void stopPostgres() {
    if (pg != null) {
      pg.close();
      pg = null;
    }
  }

  // ---- the transactions

  Future<Long> tccTransfer(Transfer t) {
    return transactions.tcc(
        TransactionOptions.ofTimeout(Duration.ofSeconds(3)),
        tx ->
            Future.all(tx.enlist(DEBIT, t), tx.enlist(CREDIT.tccAction(), t))
                .compose(v -> failSome(t))
                .map(t.tid()));
  }

  Future<Long> sagaTransfer(Transfer t) {
    return transactions.saga(
        TransactionOptions.ofTimeout(Duration.ofSeconds(3)),
        saga ->
            (t.tid() % 2 == 0
                    ? saga.step(DEBIT_STEP, t).compose(v -> saga.step(CREDIT_STEP.sagaStep(), t))
                    : saga.step(CREDIT_STEP.sagaStep(), t).compose(v -> saga.step(DEBIT_STEP, t)))
                .compose(v -> failSome(t))
                .map(t.tid()));
  }

  /** A tenth of the transfers fail after both branches ran (the caller's business refusal). */
  static Future<Void> failSome(Transfer t) {
    return t.tid() % 10 == 7
        ? Future.failedFuture(new ShardkitException("transfer " + t.tid() + ": fraud check"))
        : Future.succeededFuture();
  }

  // ---- tests

  @Test
  void tccTransferCommitsOnMySqlAndPostgres() throws Exception {
    await(tccTransfer(new Transfer(1, 1, 100, 30)));
    assertThat(mysqlBalance(1)).isEqualTo(MYSQL_START - 30);
    assertThat(pgAccount(100)).containsEntry("balance", 30L).containsEntry("pending", 0L);
    assertThat(pg.query("SELECT status FROM credit WHERE tid = 1").get(0).getString("status"))
        .isEqualTo("done");
    assertThat(pg.query("SELECT phase, origin FROM shardkit_tcc_fence ORDER BY phase"))
        .extracting(r -> r.getInteger("phase") + "/" + r.getInteger("origin"))
        .containsExactly("1/1", "2/2");
    consistent(Map.of(1L, "committed"), true);
  }

  @Test
  void tccTransferRollsBackWhenEitherSideRefuses() throws Exception {
    // PostgreSQL refuses (frozen account): the MySQL hold is given back
    Throwable frozen = awaitFailure(tccTransfer(new Transfer(1, 1, FROZEN, 30)));
    assertThat(TransactionRolledBackException.of(frozen)).isPresent();
    assertThat(causes(frozen))
        .anyMatch(
            c ->
                c instanceof PgStepFailedException p
                    && p.step().equals("ledger.credit")
                    && p.source().equals("ledger")
                    && p.phase().equals("try")
                    && p.getMessage().contains("account " + FROZEN + " is frozen"));
    // MySQL refuses (insufficient funds): the PostgreSQL pending credit is dropped
    Throwable poor = awaitFailure(tccTransfer(new Transfer(2, 2, 100, MYSQL_START + 1)));
    assertThat(TransactionRolledBackException.of(poor)).isPresent();
    // both branches ran, then the caller refused
    Throwable fraud = awaitFailure(tccTransfer(new Transfer(7, 3, 101, 5)));
    assertThat(TransactionRolledBackException.of(fraud)).isPresent();
    awaitDrained();
    Map<Long, String> expected = Map.of(1L, "rolled back", 2L, "rolled back", 7L, "rolled back");
    eventually(Duration.ofSeconds(5), () -> consistent(expected, false));
    consistent(expected, true);
    assertThat(mysqlBalance(1)).isEqualTo(MYSQL_START);
    assertThat(pgAccount(100)).containsEntry("balance", 0L).containsEntry("pending", 0L);
  }

  @Test
  void sagaCommitsAndCompensatesTheOtherSide() throws Exception {
    await(sagaTransfer(new Transfer(1, 1, 100, 40))); // PostgreSQL step first
    await(sagaTransfer(new Transfer(2, 2, 101, 50))); // MySQL step first
    // MySQL debited, then PostgreSQL refuses: the debit is compensated
    assertThat(
            TransactionRolledBackException.of(
                awaitFailure(sagaTransfer(new Transfer(4, 4, FROZEN, 10)))))
        .isPresent();
    // PostgreSQL credited, then MySQL refuses: the credit is compensated
    assertThat(
            TransactionRolledBackException.of(
                awaitFailure(sagaTransfer(new Transfer(3, 3, 100, MYSQL_START + 1)))))
        .isPresent();
    // both applied, then the body fails: both compensated
    assertThat(
            TransactionRolledBackException.of(
                awaitFailure(sagaTransfer(new Transfer(17, 1, 102, 7)))))
        .isPresent();
    awaitDrained();
    consistent(
        Map.of(
            1L,
            "committed",
            2L,
            "committed",
            3L,
            "rolled back",
            4L,
            "rolled back",
            17L,
            "rolled back"),
        true);
    assertThat(pgAccount(100)).containsEntry("balance", 40L);
    assertThat(pgAccount(101)).containsEntry("balance", 50L);
    assertThat(pgAccount(102)).containsEntry("balance", 0L);
  }

  static TccBranch branch(String action, Transfer t) {
    return new TccBranch(TxContext.newGlobalId(), "1", action, CODEC.encode(t));
  }

  @Test
  void emptyCompensationThenLateTryIsRefusedAndChangesNothing() throws Exception {
    TccBranch b = branch("ledger.credit", new Transfer(1, 1, 100, 25));
    assertThat(await(ledger.cancel(b))).isEqualTo(TccPhaseOutcome.EMPTY_ROLLBACK);
    assertThat(pgAccount(100)).containsEntry("pending", 0L); // nothing dropped that was not added
    Throwable late = awaitFailure(ledger.tryBranch(b));
    assertThat(late)
        .isInstanceOf(TccTryRefusedException.class)
        .hasMessageContaining(b.globalId())
        .hasMessageContaining("PostgreSQL source ledger");
    assertThat(pgAccount(100)).containsEntry("pending", 0L).containsEntry("balance", 0L);
    assertThat(pg.query("SELECT tid FROM credit")).isEmpty();
    assertThat(await(ledger.cancel(b))).isEqualTo(TccPhaseOutcome.DUPLICATE);
    assertThat(awaitFailure(ledger.confirm(b))).hasMessageContaining("cancelled before its try");
    // a confirm with no try at all applies nothing either
    TccBranch never = branch("ledger.credit", new Transfer(2, 1, 100, 25));
    assertThat(awaitFailure(ledger.confirm(never)))
        .hasMessageContaining("no try is recorded")
        .hasMessageContaining(never.globalId());
    assertThat(pgAccount(100)).containsEntry("balance", 0L);
    assertThat(counter("cancel", "empty_rollback")).isEqualTo(1);
    assertThat(counter("try", "refused")).isEqualTo(1);
  }

  @Test
  void retriedAndConcurrentPhasesApplyOnce() throws Exception {
    TccBranch b = branch("ledger.credit", new Transfer(1, 1, 100, 10));
    List<Future<TccPhaseOutcome>> tries = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      tries.add(ledger.tryBranch(b));
    }
    await(Future.all(tries));
    assertThat(tries.stream().filter(f -> f.result() == TccPhaseOutcome.APPLIED)).hasSize(1);
    assertThat(pgAccount(100)).containsEntry("pending", 10L);
    List<Future<TccPhaseOutcome>> confirms = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      confirms.add(ledger.confirm(b));
    }
    await(Future.all(confirms));
    assertThat(confirms.stream().filter(f -> f.result() == TccPhaseOutcome.APPLIED)).hasSize(1);
    assertThat(await(ledger.tryBranch(b))).isEqualTo(TccPhaseOutcome.DUPLICATE);
    assertThat(pgAccount(100)).containsEntry("pending", 0L).containsEntry("balance", 10L);

    // a try and its cancels racing: the cancel runs once, or is an empty rollback that the try
    // then respects; either way nothing stays pending
    TccBranch c = branch("ledger.credit", new Transfer(2, 1, 101, 5));
    List<Future<TccPhaseOutcome>> race = new ArrayList<>();
    race.add(ledger.tryBranch(c).recover(f -> Future.succeededFuture(null)));
    for (int i = 0; i < 8; i++) {
      race.add(ledger.cancel(c));
    }
    await(Future.all(race));
    assertThat(
            race.subList(1, race.size()).stream()
                .filter(f -> f.result() != TccPhaseOutcome.DUPLICATE))
        .hasSize(1);
    assertThat(pgAccount(101)).containsEntry("pending", 0L).containsEntry("balance", 0L);
    assertThat(pg.query("SELECT tid FROM credit WHERE tid = 2")).isEmpty();
  }

  @Test
  void pgSpansAreChildrenOfTheSagaSpan() throws Exception {
    io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter exporter =
        io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter.create();
    io.opentelemetry.sdk.trace.SdkTracerProvider tracerProvider =
        io.opentelemetry.sdk.trace.SdkTracerProvider.builder()
            .addSpanProcessor(
                io.opentelemetry.sdk.trace.export.SimpleSpanProcessor.create(exporter))
            .build();
    io.opentelemetry.sdk.OpenTelemetrySdk otel =
        io.opentelemetry.sdk.OpenTelemetrySdk.builder().setTracerProvider(tracerProvider).build();
    Transactions traced =
        Transactions.create(
            vertx,
            pool,
            TransactionsOptions.builder("ds_0")
                .tcc(TCC.toBuilder().openTelemetry(otel).build())
                .build());
    try {
      traced.register(DEBIT).register(DEBIT_STEP);
      PgParticipant.builder(vertx)
          .source("ledger", ledger.pool("ledger"))
          .openTelemetry(otel)
          .build()
          .register(CREDIT_STEP)
          .installOn(traced);
      Transfer t = new Transfer(1, 1, 100, 2);
      await(
          traced.saga(
              TransactionOptions.ofTimeout(Duration.ofSeconds(3)),
              saga -> saga.step(DEBIT_STEP, t).compose(v -> saga.step(CREDIT_STEP.sagaStep(), t))));
      List<io.opentelemetry.sdk.trace.data.SpanData> spans = exporter.getFinishedSpanItems();
      io.opentelemetry.sdk.trace.data.SpanData saga =
          spans.stream()
              .filter(s -> s.getName().equals("shardkit.tx saga"))
              .findFirst()
              .orElseThrow(() -> new AssertionError("no saga span in " + spans));
      io.opentelemetry.sdk.trace.data.SpanData pgSpan =
          spans.stream()
              .filter(
                  s ->
                      "postgresql"
                          .equals(
                              s.getAttributes()
                                  .get(
                                      io.opentelemetry.api.common.AttributeKey.stringKey(
                                          "db.system"))))
              .findFirst()
              .orElseThrow(() -> new AssertionError("no postgresql span in " + spans));
      assertThat(pgSpan.getTraceId()).isEqualTo(saga.getTraceId());
      assertThat(pgSpan.getParentSpanId()).isEqualTo(saga.getSpanId());
      assertThat(pgSpan.getName()).isEqualTo("ledger.credit.saga try");
      assertThat(
              pgSpan
                  .getAttributes()
                  .get(io.opentelemetry.api.common.AttributeKey.stringKey("shardkit.shard")))
          .isEqualTo("ledger");
    } finally {
      await(traced.close());
      tracerProvider.close();
    }
  }

  @Test
  void sourcesNamedInTransactionsOptionsServeSteps() throws Exception {
    PgParticipant named =
        PgParticipant.builder(vertx)
            .sources(
                TransactionsOptions.builder("ds_0")
                    .postgres("ledger", new PostgresSourceOptions(pg.connectOptions()))
                    .build())
            .build()
            .register(CREDIT);
    try {
      assertThat(named.sources()).containsExactly("ledger");
      TccBranch b = branch("ledger.credit", new Transfer(1, 1, 100, 4));
      assertThat(await(named.tryBranch(b))).isEqualTo(TccPhaseOutcome.APPLIED);
      // one fence table per source: the other participant on the same database sees the branch
      assertThat(await(ledger.tryBranch(b))).isEqualTo(TccPhaseOutcome.DUPLICATE);
      assertThat(await(named.cancel(b))).isEqualTo(TccPhaseOutcome.APPLIED);
      assertThat(pgAccount(100)).containsEntry("pending", 0L);
    } finally {
      await(named.close());
    }
  }

  @Test
  void cleanFenceRemovesRowsOlderThanTheRetention() throws Exception {
    TccBranch b = branch("ledger.credit", new Transfer(1, 1, 100, 3));
    await(ledger.tryBranch(b));
    await(ledger.confirm(b));
    assertThat(await(ledger.cleanFence())).isZero(); // 7 days by default
    assertThat(pg.query("SELECT gid FROM shardkit_tcc_fence")).hasSize(2);
    PgParticipant shortLived =
        PgParticipant.builder(vertx)
            .source("ledger", ledger.pool("ledger")) // a pool it was given: not closed by it
            .fenceRetention(Duration.ofMillis(1))
            .build();
    Thread.sleep(20);
    assertThat(await(shortLived.cleanFence())).isEqualTo(2);
    assertThat(pg.query("SELECT gid FROM shardkit_tcc_fence")).isEmpty();
    await(shortLived.close());
    assertThat(await(ledger.tryBranch(branch("ledger.credit", new Transfer(2, 1, 100, 1)))))
        .isEqualTo(TccPhaseOutcome.APPLIED);
  }

  @Test
  void theCleanupTimerRemovesOldFenceRowsKeepsFreshOnesAndStopsOnClose() throws Exception {
    // old rows: a real TCC transfer's try and confirm rows, then dated back two days
    await(tccTransfer(new Transfer(1, 1, 100, 3)));
    assertThat(eventually(Duration.ofSeconds(5), () -> fenceRows() == 2)).isTrue();
    pg.execute("UPDATE shardkit_tcc_fence SET created_at = now() - interval '2 days'");
    String oldGid = pg.query("SELECT gid FROM shardkit_tcc_fence").get(0).getString("gid");
    // fresh rows: a second transfer, now
    await(tccTransfer(new Transfer(2, 2, 101, 4)));
    assertThat(eventually(Duration.ofSeconds(5), () -> fenceRows() == 4)).isTrue();

    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    PgParticipant timed =
        PgParticipant.builder(vertx)
            .source("ledger", ledger.pool("ledger")) // a pool it was given: not closed by it
            .fenceRetention(Duration.ofDays(1))
            .cleanupInterval(Duration.ofMillis(100))
            .meterRegistry(registry)
            .build();
    try {
      // nobody calls cleanFence(): the participant's timer removes the old transaction's rows
      assertThat(
              eventually(
                  Duration.ofSeconds(5),
                  () ->
                      pg.query("SELECT gid FROM shardkit_tcc_fence WHERE gid = '" + oldGid + "'")
                          .isEmpty()))
          .as("old rows removed by the timer")
          .isTrue();
      Thread.sleep(500); // several more passes
      assertThat(fenceRows()).as("the fresh transaction's try and confirm rows stay").isEqualTo(2);
      assertThat(registry.get("shardkit.pg.fence.removed").tag("shard", "ledger").counter().count())
          .isEqualTo(2.0);
    } finally {
      await(timed.close());
    }
    // closed: its timer no longer runs
    pg.execute("UPDATE shardkit_tcc_fence SET created_at = now() - interval '2 days'");
    Thread.sleep(500);
    assertThat(fenceRows()).as("no pass after close").isEqualTo(2);

    assertThatThrownBy(() -> PgParticipant.builder(vertx).cleanupInterval(Duration.ofSeconds(-1)))
        .isInstanceOf(PgStepConfigurationException.class)
        .hasMessageContaining("cleanupInterval");
  }

  int fenceRows() {
    return pg.query("SELECT count(*) AS n FROM shardkit_tcc_fence").get(0).getInteger("n");
  }

  @Test
  void typedErrorsNameStepSourceAndTransaction() throws Exception {
    assertThatThrownBy(
            () ->
                PgStep.builder("ledger.oneway", CODEC)
                    .source("ledger")
                    .action((conn, t) -> Future.succeededFuture())
                    .build())
        .isInstanceOf(PgStepConfigurationException.class)
        .hasMessageContaining("pg step ledger.oneway (source ledger)")
        .hasMessageContaining("no compensation")
        .satisfies(
            e -> {
              assertThat(((PgStepConfigurationException) e).step()).isEqualTo("ledger.oneway");
              assertThat(((PgStepConfigurationException) e).source()).isEqualTo("ledger");
            });
    PgStep<Transfer> elsewhere =
        PgStep.builder("ledger.elsewhere", CODEC)
            .source("archive")
            .action((conn, t) -> Future.succeededFuture())
            .compensation((conn, t) -> Future.succeededFuture())
            .build();
    assertThatThrownBy(() -> ledger.register(elsewhere))
        .isInstanceOf(PgStepConfigurationException.class)
        .hasMessageContaining("pg step ledger.elsewhere")
        .hasMessageContaining("unknown PostgreSQL source 'archive'")
        .hasMessageContaining("[ledger]");
    PgStep<Transfer> perAccount =
        PgStep.builder("ledger.per-account", CODEC)
            .source(t -> "ledger-" + t.to())
            .action((conn, t) -> Future.succeededFuture())
            .compensation((conn, t) -> Future.succeededFuture())
            .build();
    ledger.register(perAccount);
    TccBranch b = branch("ledger.per-account", new Transfer(1, 1, 100, 1));
    assertThat(awaitFailure(ledger.tryBranch(b)))
        .isInstanceOf(PgStepConfigurationException.class)
        .hasMessageContaining("unknown PostgreSQL source 'ledger-100'");
    assertThat(awaitFailure(ledger.tryBranch(branch("ledger.nothing", new Transfer(1, 1, 100, 1)))))
        .isInstanceOf(PgStepConfigurationException.class)
        .hasMessageContaining("no pg step 'ledger.nothing'");
    // a failing statement: typed, names everything, and the fence row went with the rollback
    PgStep<Transfer> broken =
        PgStep.builder("ledger.broken", CODEC)
            .source("ledger")
            .action((conn, t) -> conn.query("UPDATE no_such_table SET x = 1").execute().mapEmpty())
            .compensation((conn, t) -> Future.succeededFuture())
            .build();
    ledger.register(broken);
    TccBranch bb = branch("ledger.broken", new Transfer(1, 1, 100, 1));
    Throwable failure = awaitFailure(ledger.tryBranch(bb));
    assertThat(failure)
        .isInstanceOf(PgStepFailedException.class)
        .hasMessageContaining(bb.globalId())
        .hasMessageContaining("try of pg step ledger.broken on PostgreSQL source ledger")
        .hasMessageContaining("no_such_table");
    assertThat(await(ledger.cancel(bb))).isEqualTo(TccPhaseOutcome.EMPTY_ROLLBACK);
    // a step that swallows a PostgreSQL error and carries on does not commit half its work
    PgStep<Transfer> swallowing =
        PgStep.builder("ledger.swallowing", CODEC)
            .source("ledger")
            .action(
                (conn, t) ->
                    conn.query("UPDATE account SET balance = balance + 1 WHERE id = 100")
                        .execute()
                        .compose(v -> conn.query("SELECT 1/0").execute())
                        .<Void>mapEmpty()
                        .recover(ignored -> Future.succeededFuture()))
            .compensation((conn, t) -> Future.succeededFuture())
            .build();
    ledger.register(swallowing);
    assertThat(
            awaitFailure(ledger.tryBranch(branch("ledger.swallowing", new Transfer(1, 1, 100, 1)))))
        .isInstanceOf(PgStepFailedException.class);
    assertThat(pgAccount(100)).containsEntry("balance", 0L);
  }

  @Test
  void postgresKilledBeforeTheConfirmsIsConfirmedByRecoveryOnceBack() throws Exception {
    TccCoordinatorImpl coordinator = ((TransactionsImpl) transactions).tccCoordinator();
    coordinator.stopAt(TccCoordinatorImpl.StopAt.AFTER_DECISION);
    await(tccTransfer(new Transfer(1, 1, 100, 30)).<Long>recover(f -> Future.succeededFuture(0L)));
    coordinator.stopAt(TccCoordinatorImpl.StopAt.NONE);
    // committed, not confirmed anywhere: held on MySQL, pending on PostgreSQL
    assertThat(pgAccount(100)).containsEntry("pending", 30L);
    pg.kill();
    await(transactions.startRecovery());
    assertThat(eventually(Duration.ofSeconds(10), () -> counter("confirm", "failed") > 0))
        .as("recovery tried the PostgreSQL confirm while PostgreSQL was down")
        .isTrue();
    pg.startAgain();
    assertThat(eventually(Duration.ofSeconds(20), () -> consistent(Map.of(1L, "committed"), false)))
        .isTrue();
    consistent(Map.of(1L, "committed"), true);
    assertThat(pgAccount(100)).containsEntry("balance", 30L).containsEntry("pending", 0L);
    assertThat(mysqlBalance(1)).isEqualTo(MYSQL_START - 30);
  }

  @Test
  void postgresKilledBeforeTheCompensationsIsCompensatedByRecoveryOnceBack() throws Exception {
    SagaCoordinatorImpl saga = ((TransactionsImpl) transactions).tccCoordinator().saga();
    saga.stopAt(SagaCoordinatorImpl.StopAt.BEFORE_DECISION);
    Transfer t = new Transfer(2, 2, 100, 20);
    awaitFailure(
        transactions.saga(
            TransactionOptions.ofTimeout(Duration.ofSeconds(1)),
            s -> s.step(DEBIT_STEP, t).compose(v -> s.step(CREDIT_STEP.sagaStep(), t))));
    saga.stopAt(SagaCoordinatorImpl.StopAt.NONE);
    // both steps applied, nothing decided: the coordinator is gone
    assertThat(pgAccount(100)).containsEntry("balance", 20L);
    assertThat(mysqlBalance(2)).isEqualTo(MYSQL_START - 20);
    pg.kill();
    await(transactions.startRecovery());
    assertThat(eventually(Duration.ofSeconds(10), () -> counter("cancel", "failed") > 0))
        .as("recovery tried the PostgreSQL compensation while PostgreSQL was down")
        .isTrue();
    pg.startAgain();
    assertThat(
            eventually(Duration.ofSeconds(20), () -> consistent(Map.of(2L, "rolled back"), false)))
        .isTrue();
    consistent(Map.of(2L, "rolled back"), true);
    assertThat(pgAccount(100)).containsEntry("balance", 0L);
    assertThat(mysqlBalance(2)).isEqualTo(MYSQL_START);
  }

  @Test
  void transfersStayWholeWhilePostgresIsPausedKilledAndRestartedUnderLoad() throws Exception {
    await(transactions.startRecovery());
    network.faulty = true;
    Map<Long, String> outcomes = new ConcurrentHashMap<>();
    Map<String, Integer> duringFault = new ConcurrentHashMap<>();
    AtomicBoolean inFault = new AtomicBoolean();
    AtomicInteger next = new AtomicInteger();
    AtomicBoolean stop = new AtomicBoolean();
    int concurrency = 12;
    AtomicInteger running = new AtomicInteger(concurrency);
    Promise<Void> allDone = Promise.promise();
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
          long tid = next.incrementAndGet();
          ThreadLocalRandom r = ThreadLocalRandom.current();
          Transfer t =
              new Transfer(
                  tid,
                  MYSQL_ACCOUNTS.get(r.nextInt(MYSQL_ACCOUNTS.size())),
                  tid % 23 == 0 ? FROZEN : PG_ACCOUNTS.get(r.nextInt(PG_ACCOUNTS.size())),
                  1 + r.nextInt(9));
          (tid % 2 == 0 ? tccTransfer(t) : sagaTransfer(t))
              .onComplete(
                  ar -> {
                    String outcome =
                        ar.succeeded()
                            ? "committed"
                            : TransactionRolledBackException.of(ar.cause()).isPresent()
                                ? "rolled back"
                                : ar.cause().getClass().getSimpleName();
                    outcomes.put(tid, outcome);
                    if (inFault.get()) {
                      duringFault.merge(outcome, 1, Integer::sum);
                    }
                    work[0].run();
                  });
        };
    for (int w = 0; w < concurrency; w++) {
      vertx.runOnContext(v -> work[0].run());
    }
    Thread.sleep(1200);
    inFault.set(true);
    pg.pause(); // SIGSTOP: phases time out, their statements run late (after their cancel began)
    Thread.sleep(1500);
    pg.resume();
    Thread.sleep(800);
    pg.kill(); // kill -9 of the postmaster and every backend, mid-phase
    Thread.sleep(1500);
    pg.startAgain();
    Thread.sleep(1000);
    inFault.set(false);
    Thread.sleep(1000);
    stop.set(true);
    await(allDone.future(), Duration.ofSeconds(120));
    long ranMillis = (System.nanoTime() - start) / 1_000_000;
    network.faulty = false;
    assertThat(eventually(Duration.ofSeconds(10), () -> network.lateInFlight.get() == 0)).isTrue();
    long settleStart = System.nanoTime();
    boolean converged = eventually(Duration.ofSeconds(60), () -> consistent(outcomes, false));
    long settleMillis = (System.nanoTime() - settleStart) / 1_000_000;
    consistent(outcomes, true); // lists what is wrong when it did not converge
    assertThat(converged).isTrue();
    Map<String, Integer> counts = new TreeMap<>();
    outcomes.values().forEach(o -> counts.merge(o, 1, Integer::sum));
    assertThat(counts.getOrDefault("committed", 0)).isPositive();
    assertThat(counts.getOrDefault("rolled back", 0)).isPositive();
    Map<String, Integer> phases = phases();
    assertThat(phases.getOrDefault("confirm failed", 0) + phases.getOrDefault("cancel failed", 0))
        .as("the kill hit confirms or cancels: %s", phases)
        .isPositive();
    assertThat(meters.find("shardkit.breaker.transitions").tag("shard", "ledger").counters())
        .as("the ledger's breaker opened while PostgreSQL was down")
        .isNotEmpty();
    assertThat(
            network.lateOutcomes.getOrDefault("TccTryRefusedException", new AtomicInteger()).get())
        .as("late tries refused after their compensation: %s", network.lateOutcomes)
        .isPositive();
    System.out.printf(
        "pg tcc/saga: %d transfers in %d ms, outcomes %s, during the kill %s, converged %d ms"
            + " after the load, pg phases %s, network faults %s, late tries %s, breaker %s%n",
        outcomes.size(),
        ranMillis,
        counts,
        duringFault,
        settleMillis,
        phases,
        network.injected,
        network.lateOutcomes,
        ledger.circuitBreaker("ledger").state());
  }

  // ---- checks from the data

  /**
   * Every transfer is fully applied (debit and credit rows, both done, same amount) or fully
   * absent; committed ones are applied, rolled-back ones absent; money is conserved; nothing is
   * held on MySQL or pending on PostgreSQL. With {@code strict}, asserts instead of answering.
   */
  boolean consistent(Map<Long, String> outcomes, boolean strict) {
    List<String> problems = new ArrayList<>();
    Map<Long, String> debits = new HashMap<>();
    long mysqlTotal = 0;
    long held = 0;
    for (var db : databases.all()) {
      for (JsonObject row : db.query("SELECT tid, amount, status FROM debit")) {
        debits.put(row.getLong("tid"), row.getLong("amount") + "/" + row.getString("status"));
      }
      for (JsonObject row : db.query("SELECT balance, held FROM account")) {
        mysqlTotal += row.getLong("balance");
        held += row.getLong("held");
      }
    }
    Map<Long, String> credits = new HashMap<>();
    long pgTotal = 0;
    long pending = 0;
    try {
      for (JsonObject row : pg.query("SELECT tid, amount, status FROM credit")) {
        credits.put(row.getLong("tid"), row.getLong("amount") + "/" + row.getString("status"));
      }
      for (JsonObject row : pg.query("SELECT balance, pending FROM account")) {
        pgTotal += row.getLong("balance");
        pending += row.getLong("pending");
      }
    } catch (RuntimeException e) {
      if (strict) {
        throw e;
      }
      return false;
    }
    if (!debits.equals(credits)) {
      Map<Long, String> onlyMysql = new TreeMap<>(debits);
      credits.keySet().forEach(onlyMysql::remove);
      Map<Long, String> onlyPg = new TreeMap<>(credits);
      debits.keySet().forEach(onlyPg::remove);
      Map<Long, String> differ = new TreeMap<>();
      debits.forEach(
          (k, v) -> {
            if (credits.containsKey(k) && !credits.get(k).equals(v)) {
              differ.put(k, v + " vs " + credits.get(k));
            }
          });
      problems.add(
          "only on MySQL " + onlyMysql + ", only on PostgreSQL " + onlyPg + ", differ " + differ);
    }
    debits.forEach(
        (k, v) -> {
          if (!v.endsWith("/done")) {
            problems.add("transfer " + k + " not finished: " + v);
          }
        });
    outcomes.forEach(
        (tid, outcome) -> {
          if (outcome.equals("committed") && !debits.containsKey(tid)) {
            problems.add("committed transfer " + tid + " is not applied");
          }
          if (outcome.equals("rolled back")
              && (debits.containsKey(tid) || credits.containsKey(tid))) {
            problems.add("rolled-back transfer " + tid + " left rows");
          }
        });
    long initial = MYSQL_START * MYSQL_ACCOUNTS.size();
    if (mysqlTotal + pgTotal != initial) {
      problems.add("money: MySQL " + mysqlTotal + " + PostgreSQL " + pgTotal + " != " + initial);
    }
    if (held != 0 || pending != 0) {
      problems.add("held " + held + ", pending " + pending);
    }
    if (strict) {
      assertThat(problems).as("pg phases %s", phases()).isEmpty();
    }
    return problems.isEmpty();
  }

  long mysqlBalance(long id) {
    return databases
        .get((int) (id % 2))
        .query("SELECT balance FROM account WHERE id = " + id)
        .get(0)
        .getLong("balance");
  }

  Map<String, Object> pgAccount(long id) {
    JsonObject row = pg.query("SELECT balance, pending FROM account WHERE id = " + id).get(0);
    return Map.of("balance", row.getLong("balance"), "pending", row.getLong("pending"));
  }

  Map<String, Integer> phases() {
    Map<String, Integer> phases = new TreeMap<>();
    for (Counter c : meters.find("shardkit.pg.phases").counters()) {
      phases.put(c.getId().getTag("kind") + " " + c.getId().getTag("outcome"), (int) c.count());
    }
    return phases;
  }

  int counter(String kind, String outcome) {
    Counter c =
        meters.find("shardkit.pg.phases").tag("kind", kind).tag("outcome", outcome).counter();
    return c == null ? 0 : (int) c.count();
  }

  void awaitDrained() throws Exception {
    await(((TransactionsImpl) transactions).tccCoordinator().drainBackground());
  }

  static List<Throwable> causes(Throwable failure) {
    List<Throwable> all = new ArrayList<>();
    List<Throwable> todo = new ArrayList<>(List.of(failure));
    while (!todo.isEmpty() && all.size() < 50) {
      Throwable t = todo.remove(0);
      all.add(t);
      if (t.getCause() != null && t.getCause() != t) {
        todo.add(t.getCause());
      }
      for (Throwable s : t.getSuppressed()) {
        todo.add(s);
      }
      if (t instanceof TransactionRolledBackException rb) {
        todo.addAll(rb.causes().values());
      }
    }
    return all;
  }

  static <T> T await(Future<T> future) throws Exception {
    return await(future, Duration.ofSeconds(30));
  }

  static <T> T await(Future<T> future, Duration timeout) throws Exception {
    try {
      return future
          .toCompletionStage()
          .toCompletableFuture()
          .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      throw new AssertionError("expected success, got " + e.getCause(), e.getCause());
    } catch (TimeoutException e) {
      throw new AssertionError("future did not complete within " + timeout, e);
    }
  }

  static Throwable awaitFailure(Future<?> future) throws Exception {
    try {
      Object value = future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
      throw new AssertionError("expected a failure, got " + value);
    } catch (ExecutionException e) {
      return e.getCause();
    }
  }

  static boolean eventually(Duration timeout, BooleanSupplier condition)
      throws InterruptedException {
    long end = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < end) {
      if (condition.getAsBoolean()) {
        return true;
      }
      Thread.sleep(100);
    }
    return condition.getAsBoolean();
  }
}
