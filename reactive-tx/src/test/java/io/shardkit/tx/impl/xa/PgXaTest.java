package io.shardkit.tx.impl.xa;

import static io.shardkit.tx.impl.xa.XaFixture.await;
import static io.shardkit.tx.impl.xa.XaFixture.failure;
import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.EventData;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.shardkit.context.ConfigurationException;
import io.shardkit.context.ShardkitException;
import io.shardkit.context.TxScope;
import io.shardkit.context.junit.LeakGuardExtension;
import io.shardkit.testkit.ShardDatabases;
import io.shardkit.testkit.Shards;
import io.shardkit.testkit.TestPostgres;
import io.shardkit.tx.Participant;
import io.shardkit.tx.PostgresSourceOptions;
import io.shardkit.tx.TransactionOutcomePendingException.Decision;
import io.shardkit.tx.TransactionRolledBackException;
import io.shardkit.tx.Transactions;
import io.shardkit.tx.TransactionsOptions;
import io.vertx.core.Future;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * PostgreSQL in the same global XA transaction as MySQL shards, on 2 real MariaDB shards and a real
 * PostgreSQL 14 (testkit {@link TestPostgres}): commit across both, one phase when PostgreSQL is
 * alone, rollback when the work fails, a branch left in an aborted state refused at prepare, the
 * server killed between prepare and commit (recovery commits after the restart), the coordinator
 * abandoned after the decision (a second instance finishes), an undecided abandoned branch rolled
 * back after its deadline, and the configuration errors (max_prepared_transactions = 0, an unknown
 * name). Account 1 lives on ds_1, account 2 on ds_0, account 100 on PostgreSQL source {@code pg}.
 */
@Shards(2)
@ExtendWith(LeakGuardExtension.class)
class PgXaTest {

  static final String PG_ACCOUNT =
      "CREATE TABLE account (id BIGINT PRIMARY KEY, balance BIGINT NOT NULL CHECK (balance >= 0))";
  static final String PG_TRANSFER =
      "CREATE TABLE transfer (tid VARCHAR(40) NOT NULL, account BIGINT NOT NULL,"
          + " delta BIGINT NOT NULL, PRIMARY KEY (tid, account))";

  static TestPostgres pg;
  static XaFixture fx;
  static InMemorySpanExporter spans = InMemorySpanExporter.create();
  static SimpleMeterRegistry meters = new SimpleMeterRegistry();

  @BeforeAll
  static void setUp(ShardDatabases dbs) throws Exception {
    pg = TestPostgres.start();
    pg.execute(PG_ACCOUNT, PG_TRANSFER, "CREATE DATABASE other");
    pg.executeIn("other", PG_ACCOUNT, PG_TRANSFER);
    XaFixture.createTables(dbs);
    fx = new XaFixture(dbs, options(pg), 4);
    await(fx.transactions.installSchema());
    await(fx.transactions.warmUp());
  }

  static TransactionsOptions.Builder options(TestPostgres server) {
    OpenTelemetrySdk otel =
        OpenTelemetrySdk.builder()
            .setTracerProvider(
                SdkTracerProvider.builder()
                    .addSpanProcessor(SimpleSpanProcessor.create(spans))
                    .build())
            .build();
    // every branch prepared and the decision in the log (what a transaction whose first branch
    // is PostgreSQL does); decidedOnTheFirstShard... covers a shard keeping the decision
    return XaFixture.options()
        .decisionOnParticipant(false)
        .meterRegistry(meters)
        .openTelemetry(otel)
        .postgres("pg", new PostgresSourceOptions(server.connectOptions()));
  }

  @AfterAll
  static void tearDown() throws Exception {
    if (fx != null) {
      fx.close();
    }
    if (pg != null) {
      pg.close();
    }
  }

  @BeforeEach
  void reset() {
    fx.resetAccounts(4, 100);
    pg.execute(
        "DELETE FROM account", "DELETE FROM transfer", "INSERT INTO account VALUES (100, 100)");
    spans.reset();
  }

  @AfterEach
  void cleanUp() {
    fx.tx.stopAt(StopPoint.NONE);
    fx.tx.beforeCommit((java.util.function.Function<String, Future<Void>>) null);
    if (!pg.isRunning()) {
      pg.startAgain();
    }
    for (io.vertx.core.json.JsonObject row :
        pg.query("SELECT gid, database FROM pg_prepared_xacts")) {
      pg.executeIn(row.getString("database"), "ROLLBACK PREPARED '" + row.getString("gid") + "'");
    }
    fx.drain(); // a failed test's MySQL branches, so that one failure does not cascade
  }

  /**
   * Debit MySQL account {@code from} through the routed connection, credit PostgreSQL {@code to}.
   */
  static Future<Void> transfer(
      io.vertx.sqlclient.SqlConnection sql, String tid, long from, long to, long amount) {
    return sql.preparedQuery("UPDATE account SET balance = balance - ? WHERE id = ?")
        .execute(Tuple.of(amount, from))
        .compose(
            rs ->
                sql.preparedQuery("INSERT INTO transfer (tid, account, delta) VALUES (?, ?, ?)")
                    .execute(Tuple.of(tid, from, -amount)))
        .compose(v -> pgCredit(fx.transactions, tid, to, amount));
  }

  static Future<Void> pgCredit(Transactions transactions, String tid, long to, long amount) {
    return transactions
        .postgres("pg")
        .compose(
            p ->
                p.preparedQuery("UPDATE account SET balance = balance + $1 WHERE id = $2")
                    .execute(Tuple.of(amount, to))
                    .compose(
                        rs ->
                            rs.rowCount() == 1
                                ? p.preparedQuery(
                                        "INSERT INTO transfer (tid, account, delta)"
                                            + " VALUES ($1, $2, $3)")
                                    .execute(Tuple.of(tid, to, amount))
                                : Future.failedFuture(
                                    new IllegalStateException("no account " + to))))
        .mapEmpty();
  }

  long pgBalance(long id) {
    return pg.query("SELECT balance FROM account WHERE id = " + id).get(0).getLong("balance");
  }

  int pgTransfers() {
    return pg.query("SELECT count(*) AS n FROM transfer").get(0).getInteger("n");
  }

  private void assertApplied(boolean applied) {
    assertThat(fx.balance(1)).as("account 1 on ds_1").isEqualTo(applied ? 60 : 100);
    assertThat(pgBalance(100)).as("account 100 on pg").isEqualTo(applied ? 140 : 100);
    assertThat(fx.dbs.get(1).query("SELECT * FROM transfer")).hasSize(applied ? 1 : 0);
    assertThat(pgTransfers()).isEqualTo(applied ? 1 : 0);
    assertThat(pg.preparedTransactions()).as("pg_prepared_xacts").isEmpty();
    assertThat(fx.preparedBranchesEverywhere()).as("XA RECOVER").isZero();
  }

  /** Recovery passes until nothing is prepared on the shards and on PostgreSQL (or 20 s). */
  private static RecoveryReport recoverAll(XaTransactionsImpl tx) throws Exception {
    long until = System.nanoTime() + 20_000_000_000L;
    RecoveryReport sum = await(tx.recovery().runOnce());
    while ((fx.preparedBranchesEverywhere() > 0 || !pg.preparedTransactions().isEmpty())
        && System.nanoTime() < until) {
      Thread.sleep(100);
      RecoveryReport r = await(tx.recovery().runOnce());
      sum =
          new RecoveryReport(
              sum.committed() + r.committed(),
              sum.rolledBack() + r.rolledBack(),
              sum.abortsDecided() + r.abortsDecided(),
              r.inDoubt(),
              sum.pruned() + r.pruned(),
              r.unreachable(),
              r.leasedElsewhere());
    }
    return sum;
  }

  @Test
  void commitsAcrossMySqlAndPostgres() throws Exception {
    int rowsBefore = fx.logRows();
    AtomicReference<String> gid = new AtomicReference<>();
    await(
        fx.pool.withTransaction(
            Duration.ofSeconds(10),
            sql -> {
              gid.set(TxScope.current().orElseThrow().globalId());
              return transfer(sql, "t1", 1, 100, 40);
            }));
    assertApplied(true);
    assertThat(fx.logRows()).isEqualTo(rowsBefore + 1);
    assertThat(await(fx.transactions.decision(gid.get()))).contains(Decision.COMMIT);

    // the decision row: each participant's snapshot as it joined
    io.vertx.core.json.JsonArray logged =
        new io.vertx.core.json.JsonArray(
            fx.dbs
                .get(0)
                .query("SELECT branches FROM shardkit_tx WHERE gid = '" + gid.get() + "'")
                .get(0)
                .getString("branches"));
    assertThat(logged).hasSize(2);
    assertThat(logged.stream().map(o -> ((io.vertx.core.json.JsonObject) o).getString("protocol")))
        .containsExactlyInAnyOrder("mysql", "postgresql");
    for (Object o : logged) {
      io.vertx.core.json.JsonObject p = (io.vertx.core.json.JsonObject) o;
      assertThat(p.getString("dataSource")).isIn("ds_1", "pg");
      assertThat(p.getString("branchId")).isNotBlank();
      assertThat(java.time.Instant.parse(p.getString("joinedAt")))
          .isBefore(java.time.Instant.now());
    }

    // the transaction's span: one event per participant, PostgreSQL statements under it
    SpanData txSpan =
        spans.getFinishedSpanItems().stream()
            .filter(s -> s.getName().equals("shardkit.tx xa"))
            .findFirst()
            .orElseThrow();
    List<EventData> joined =
        txSpan.getEvents().stream()
            .filter(e -> e.getName().equals("shardkit.tx.participant"))
            .toList();
    assertThat(joined)
        .extracting(
            e -> e.getAttributes().get(AttributeKey.stringKey("shardkit.participant.protocol")))
        .containsExactly("mysql", "postgresql");
    EventData pgJoined = joined.get(1);
    assertThat(
            pgJoined
                .getAttributes()
                .get(AttributeKey.stringKey("shardkit.participant.isolation_level")))
        .isEqualTo("read committed");
    assertThat(
            pgJoined.getAttributes().get(AttributeKey.stringKey("shardkit.participant.branch_id")))
        .startsWith("sk/" + gid.get() + "/pg@");
    List<SpanData> pgSpans =
        spans.getFinishedSpanItems().stream()
            .filter(
                s ->
                    "postgresql".equals(s.getAttributes().get(AttributeKey.stringKey("db.system"))))
            .toList();
    assertThat(pgSpans).hasSize(2);
    for (SpanData s : pgSpans) {
      assertThat(s.getParentSpanId()).isEqualTo(txSpan.getSpanId());
      assertThat(s.getTraceId()).isEqualTo(txSpan.getTraceId());
      assertThat(s.getAttributes().get(AttributeKey.stringKey("db.namespace")))
          .isEqualTo("postgres");
      assertThat(s.getAttributes().get(AttributeKey.stringKey("server.address")))
          .isEqualTo("127.0.0.1");
    }
    assertThat(
            meters
                .find("shardkit.router.shard.statements")
                .tag("shard", "pg")
                .tag("kind", "update")
                .tag("outcome", "success")
                .timer())
        .isNotNull();
  }

  @Test
  void postgresAloneCommitsInOnePhaseWithoutALogRow() throws Exception {
    int rowsBefore = fx.logRows();
    await(
        fx.pool.withTransaction(
            Duration.ofSeconds(10), sql -> pgCredit(fx.transactions, "solo", 100, 5)));
    assertThat(pgBalance(100)).isEqualTo(105);
    assertThat(fx.logRows()).isEqualTo(rowsBefore);
    assertThat(pg.preparedTransactions()).isEmpty();
  }

  @Test
  void workFailingRollsBackMySqlAndPostgres() throws Exception {
    Throwable actual =
        failure(
            fx.pool.withTransaction(
                Duration.ofSeconds(10),
                sql ->
                    transfer(sql, "f", 1, 100, 40)
                        .compose(v -> Future.failedFuture(new IllegalStateException("refused")))));
    assertThat(actual).isInstanceOf(IllegalStateException.class).hasMessage("refused");
    assertApplied(false);
  }

  @Test
  void aBranchAbortedByAFailedStatementIsRefusedAtPrepareNamingPostgres() throws Exception {
    // The work swallows PostgreSQL's error (balance would go negative): PostgreSQL has aborted the
    // transaction, and its PREPARE TRANSACTION would answer as if it worked while rolling back.
    Throwable actual =
        failure(
            fx.pool.withTransaction(
                Duration.ofSeconds(10),
                sql ->
                    transfer(sql, "a", 1, 100, 40)
                        .compose(
                            v ->
                                fx.transactions
                                    .postgres("pg")
                                    .compose(
                                        p ->
                                            p.query(
                                                    "UPDATE account SET balance = balance - 1000"
                                                        + " WHERE id = 100")
                                                .execute())
                                    .<Void>mapEmpty()
                                    .otherwiseEmpty())));
    assertThat(actual).isInstanceOf(TransactionRolledBackException.class);
    TransactionRolledBackException rolledBack = (TransactionRolledBackException) actual;
    assertThat(rolledBack.phase()).isEqualTo("prepare");
    assertThat(rolledBack.causes()).containsOnlyKeys("pg");
    assertThat(rolledBack.participants())
        .extracting(Participant::protocol, Participant::dataSource)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("mysql", "ds_1"),
            org.assertj.core.groups.Tuple.tuple("postgresql", "pg"));
    assertThat(rolledBack.participants().get(1).isolationLevel()).isEqualTo("read committed");
    assertThat(rolledBack.participants().get(1).joinedAt()).isNotNull();
    assertApplied(false);
  }

  @Test
  void anAbortedPostgresBranchAloneIsRefusedAtItsOnePhaseCommit() throws Exception {
    Throwable actual =
        failure(
            fx.pool.withTransaction(
                Duration.ofSeconds(10),
                sql ->
                    pgCredit(fx.transactions, "one", 100, 5)
                        .compose(
                            v ->
                                fx.transactions
                                    .postgres("pg")
                                    .compose(
                                        p ->
                                            p.query(
                                                    "UPDATE account SET balance = -1 WHERE id = 100")
                                                .execute())
                                    .<Void>mapEmpty()
                                    .otherwiseEmpty())));
    assertThat(actual).isInstanceOf(TransactionRolledBackException.class);
    TransactionRolledBackException rolledBack = (TransactionRolledBackException) actual;
    assertThat(rolledBack.phase()).isEqualTo("commit");
    assertThat(rolledBack.causes()).containsOnlyKeys("pg");
    assertThat(rolledBack.getCause()).hasMessageContaining("25P02");
    assertThat(pgBalance(100)).isEqualTo(100);
    assertThat(pgTransfers()).isZero();
  }

  @Test
  void postgresKilledBetweenPrepareAndCommitIsCommittedByRecoveryAfterRestart() throws Exception {
    fx.tx.beforeCommit(
        gid ->
            fx.vertx.executeBlocking(
                () -> {
                  pg.kill();
                  return null;
                }));
    AtomicReference<String> gid = new AtomicReference<>();
    await(
        fx.pool.withTransaction(
            Duration.ofSeconds(10),
            sql -> {
              gid.set(TxScope.current().orElseThrow().globalId());
              return transfer(sql, "k", 1, 100, 40);
            }));
    fx.tx.beforeCommit((java.util.function.Function<String, Future<Void>>) null);
    assertThat(fx.balance(1)).isEqualTo(60); // MySQL's branch committed
    pg.startAgain();
    assertThat(pg.preparedTransactions()).singleElement().asString().startsWith("sk/" + gid.get());
    RecoveryReport report = recoverAll(fx.tx);
    assertThat(report.committed()).isEqualTo(1);
    assertApplied(true);
  }

  @Test
  void coordinatorAbandonedAfterTheDecisionIsFinishedByASecondInstance() throws Exception {
    AtomicReference<Integer> branchPid = new AtomicReference<>();
    fx.tx.stopAt(StopPoint.AFTER_DECISION);
    AtomicReference<String> gid = new AtomicReference<>();
    Throwable actual =
        failure(
            fx.pool.withTransaction(
                Duration.ofSeconds(30),
                sql -> {
                  gid.set(TxScope.current().orElseThrow().globalId());
                  return transfer(sql, "c", 1, 100, 40)
                      .compose(v -> fx.transactions.postgres("pg"))
                      .compose(p -> p.query("SELECT pg_backend_pid() AS pid").execute())
                      .map(rs -> branchPid.getAndSet(rs.iterator().next().getInteger("pid")));
                }));
    fx.tx.stopAt(StopPoint.NONE);
    assertThat(actual)
        .isExactlyInstanceOf(ShardkitException.class)
        .hasMessageContaining("abandoned");
    assertThat(pg.preparedTransactions()).hasSize(1);
    assertThat(fx.preparedBranchesEverywhere()).isEqualTo(1);
    // the abandoned branch's connection was closed for real: its server backend is gone
    String backend = "SELECT count(*) AS n FROM pg_stat_activity WHERE pid = " + branchPid.get();
    long until = System.nanoTime() + 5_000_000_000L;
    while (pg.query(backend).get(0).getInteger("n") > 0 && System.nanoTime() < until) {
      Thread.sleep(50);
    }
    assertThat(pg.query(backend).get(0).getInteger("n")).as("backend of the branch").isZero();
    try (XaFixture second = fx.another(options(pg))) {
      RecoveryReport report = recoverAll(second.tx);
      assertThat(report.committed()).isEqualTo(2);
      assertThat(await(second.transactions.decision(gid.get()))).contains(Decision.COMMIT);
    }
    assertApplied(true);
  }

  @Test
  void decidedOnTheFirstShardThePostgresBranchIsCommittedByASecondInstanceFromThatShard()
      throws Exception {
    // the first branch (ds_1) keeps the decision: it commits its work with the COMMIT row, and
    // PostgreSQL's prepared branch names it; the coordinator is gone before committing it
    try (XaFixture first = fx.another(options(pg).decisionOnParticipant(true))) {
      await(first.transactions.installSchema());
      first.tx.stopAt(StopPoint.AFTER_DECISION);
      AtomicReference<String> gid = new AtomicReference<>();
      Throwable actual =
          failure(
              first.pool.withTransaction(
                  Duration.ofSeconds(30),
                  sql -> {
                    gid.set(TxScope.current().orElseThrow().globalId());
                    return sql.preparedQuery(
                            "UPDATE account SET balance = balance - ? WHERE id = ?")
                        .execute(Tuple.of(40, 1))
                        .compose(
                            rs ->
                                sql.preparedQuery(
                                        "INSERT INTO transfer (tid, account, delta)"
                                            + " VALUES (?, ?, ?)")
                                    .execute(Tuple.of("d", 1, -40)))
                        .compose(v -> pgCredit(first.transactions, "d", 100, 40));
                  }));
      assertThat(actual).hasMessageContaining("abandoned");
      assertThat(pg.preparedTransactions())
          .singleElement()
          .matches(g -> g.startsWith("sa/" + gid.get() + "/pg@") && g.endsWith("@ds_1"));
      assertThat(fx.preparedBranchesEverywhere()).as("no MySQL branch prepared").isZero();
      assertThat(fx.balance(1)).as("ds_1 committed with the decision").isEqualTo(60);
      // a second instance (whose own transactions the log decides) reads it from ds_1
      try (XaFixture second = fx.another(options(pg))) {
        RecoveryReport report = recoverAll(second.tx);
        assertThat(report.committed()).isEqualTo(1);
        assertThat(await(first.transactions.decision(gid.get()))).contains(Decision.COMMIT);
      }
    }
    assertApplied(true);
  }

  @Test
  void twoPostgresSourcesAndAShardAbandonedAfterTheDecisionAreAllCommittedByASecondInstance()
      throws Exception {
    pg.executeIn("other", "DELETE FROM account", "INSERT INTO account VALUES (200, 100)");
    java.util.function.Supplier<TransactionsOptions.Builder> two =
        () ->
            XaFixture.options()
                .decisionOnParticipant(false)
                .meterRegistry(new SimpleMeterRegistry())
                .postgres("pg", new PostgresSourceOptions(pg.connectOptions()))
                .postgres("pg_b", new PostgresSourceOptions(pg.connectOptions("other")));
    try (XaFixture multi = new XaFixture(fx.dbs, two.get(), 4)) {
      multi.tx.stopAt(StopPoint.AFTER_DECISION);
      AtomicReference<String> gid = new AtomicReference<>();
      Throwable actual =
          failure(
              multi.pool.withTransaction(
                  Duration.ofSeconds(30),
                  sql -> {
                    gid.set(TxScope.current().orElseThrow().globalId());
                    return sql.preparedQuery(
                            "UPDATE account SET balance = balance - ? WHERE id = ?")
                        .execute(Tuple.of(40, 1))
                        .compose(v -> pgCreditOn(multi, "pg", "m", 100, 20))
                        .compose(v -> pgCreditOn(multi, "pg_b", "m", 200, 20));
                  }));
      multi.tx.stopAt(StopPoint.NONE);
      assertThat(actual).hasMessageContaining("abandoned");
      // pg_prepared_xacts is the server's: one branch in each database
      assertThat(pg.preparedTransactions())
          .containsExactlyInAnyOrder(
              "sk/" + gid.get() + "/pg@" + pg.preparedTransactions().get(0).split("@")[1],
              "sk/" + gid.get() + "/pg_b@" + pg.preparedTransactions().get(0).split("@")[1]);
      try (XaFixture second = multi.another(two.get())) {
        RecoveryReport report = recoverAll(second.tx);
        assertThat(report.committed()).isEqualTo(3);
      }
    }
    assertThat(fx.balance(1)).isEqualTo(60);
    assertThat(pgBalance(100)).isEqualTo(120);
    assertThat(
            pg.queryIn("other", "SELECT balance FROM account WHERE id = 200")
                .get(0)
                .getLong("balance"))
        .isEqualTo(120);
    assertThat(pg.preparedTransactions()).isEmpty();
    assertThat(fx.preparedBranchesEverywhere()).isZero();
  }

  @Test
  void undecidedAbandonedBranchIsRolledBackAfterItsDeadline() throws Exception {
    fx.tx.stopAt(StopPoint.AFTER_PREPARE);
    long start = System.currentTimeMillis();
    Duration timeout = Duration.ofSeconds(2);
    Throwable actual =
        failure(fx.pool.withTransaction(timeout, sql -> transfer(sql, "u", 1, 100, 40)));
    fx.tx.stopAt(StopPoint.NONE);
    assertThat(actual).hasMessageContaining("abandoned");
    assertThat(pg.preparedTransactions()).hasSize(1);
    RecoveryReport early = await(fx.tx.recovery().runOnce());
    if (System.currentTimeMillis() < start + timeout.toMillis()) {
      assertThat(early.rolledBack()).isZero();
      assertThat(pg.preparedTransactions()).hasSize(1);
    }
    Thread.sleep(Math.max(0, start + timeout.toMillis() + 400 - System.currentTimeMillis()));
    RecoveryReport report = recoverAll(fx.tx);
    assertThat(report.abortsDecided()).isEqualTo(1);
    assertThat(report.rolledBack()).isEqualTo(2);
    assertApplied(false);
  }

  @Test
  void theBreakerOfAPostgresSourceOpensWhenItIsDownAndRefusesEnlistmentBeforeAnyIo()
      throws Exception {
    try (XaFixture other =
        new XaFixture(
            fx.dbs,
            XaFixture.options()
                .meterRegistry(meters)
                .postgres(
                    "pg2",
                    new PostgresSourceOptions(pg.connectOptions())
                        .circuitBreaker(
                            io.shardkit.router.CircuitBreakerOptions.builder()
                                .consecutiveFailures(3)
                                .openDuration(Duration.ofMillis(1500))
                                .build())),
            4)) {
      await(other.transactions.warmUp());
      pg.kill();
      for (int attempt = 0; attempt < 3; attempt++) {
        String tid = "b" + attempt;
        Throwable down =
            failure(
                other.pool.withTransaction(
                    Duration.ofSeconds(5), sql -> pgCreditOn(other, "pg2", tid, 100, 1)));
        assertThat(down).isNotInstanceOf(io.shardkit.router.ShardCircuitOpenException.class);
      }
      long t0 = System.nanoTime();
      Throwable refused =
          failure(
              other.pool.withTransaction(
                  Duration.ofSeconds(5), sql -> pgCreditOn(other, "pg2", "open", 100, 1)));
      long refusedMillis = (System.nanoTime() - t0) / 1_000_000;
      assertThat(refused)
          .isInstanceOf(io.shardkit.router.ShardCircuitOpenException.class)
          .hasMessageContaining("pg2");
      System.out.println(
          "pg breaker: open breaker refused an enlistment in " + refusedMillis + " ms");
      assertThat(meters.find("shardkit.breaker.state").tag("shard", "pg2").gauge().value())
          .isEqualTo(2.0);
      assertThat(meters.find("shardkit.breaker.rejected").tag("shard", "pg2").counter().count())
          .isEqualTo(1.0);
      pg.startAgain();
      Thread.sleep(1600);
      await(
          other.pool.withTransaction(
              Duration.ofSeconds(5), sql -> pgCreditOn(other, "pg2", "after", 100, 1)));
      assertThat(pgBalance(100)).isEqualTo(101);
      assertThat(meters.find("shardkit.breaker.state").tag("shard", "pg2").gauge().value())
          .isZero();
    }
  }

  /**
   * A branch statement waiting for a row lock another session holds, ended by its transaction's
   * deadline, says nothing about the server's health: the breaker stays closed however many such
   * deadlines pass in a row (lock contention must not take the source out), while a frozen server,
   * whose statements end the same way, still opens it.
   */
  @Test
  void deadlinesPassingInALockWaitLeaveThePostgresBreakerClosedAFrozenServerOpensIt()
      throws Exception {
    try (XaFixture other =
        new XaFixture(
            fx.dbs,
            XaFixture.options()
                .meterRegistry(new SimpleMeterRegistry())
                .postgres(
                    "pg3",
                    new PostgresSourceOptions(pg.connectOptions())
                        .circuitBreaker(
                            io.shardkit.router.CircuitBreakerOptions.builder()
                                .consecutiveFailures(3)
                                .openDuration(Duration.ofSeconds(30))
                                .build())),
            4)) {
      await(other.transactions.warmUp());
      io.vertx.sqlclient.SqlConnection holder =
          await(io.vertx.pgclient.PgConnection.connect(other.vertx, pg.connectOptions()));
      try {
        await(holder.query("BEGIN").execute());
        await(holder.query("SELECT balance FROM account WHERE id = 100 FOR UPDATE").execute());
        // two rounds of 6 at once: each round's 6 deadlines pass together, nothing answered
        // between them (3 in a row would open it if they counted)
        for (int round = 0; round < 2; round++) {
          List<Future<Void>> waiting = new java.util.ArrayList<>();
          for (int i = 0; i < 6; i++) {
            String tid = "lock" + round + "-" + i;
            waiting.add(
                other.pool.withTransaction(
                    Duration.ofMillis(300), sql -> pgCreditOn(other, "pg3", tid, 100, 1)));
          }
          for (Future<Void> w : waiting) {
            assertThat(failure(w))
                .as("waiting for the row lock past its deadline")
                .isNotInstanceOf(io.shardkit.router.ShardCircuitOpenException.class);
          }
          Thread.sleep(1_200); // the liveness checks have answered
        }
        assertThat(other.tx.breakerOf("pg3").state())
            .isEqualTo(io.shardkit.router.ShardCircuitBreaker.State.CLOSED);
      } finally {
        await(holder.query("ROLLBACK").execute());
        await(holder.close());
      }
      await(
          other.pool.withTransaction(
              Duration.ofSeconds(5), sql -> pgCreditOn(other, "pg3", "after", 100, 1)));
      assertThat(pgBalance(100)).isEqualTo(101);
      // the control: the same deadlines on a frozen server open it
      pg.pause();
      try {
        Throwable last = null;
        for (int attempt = 0; attempt < 8; attempt++) {
          String tid = "frozen" + attempt;
          last =
              failure(
                  other.pool.withTransaction(
                      Duration.ofMillis(300), sql -> pgCreditOn(other, "pg3", tid, 100, 1)));
          if (last instanceof io.shardkit.router.ShardCircuitOpenException) {
            break;
          }
          Thread.sleep(300);
        }
        assertThat(last).isInstanceOf(io.shardkit.router.ShardCircuitOpenException.class);
      } finally {
        pg.resume();
      }
    }
  }

  /**
   * A PostgreSQL branch whose statement waits for a row lock when its deadline passes is cancelled
   * (the protocol's cancel request): its backend stops waiting at once and the branch's connections
   * are free for the next transaction, instead of the statement waiting on the server until the
   * lock goes (PostgreSQL has no lock wait timeout by default) and the connection being held until
   * {@code rollbackTimeout}.
   */
  @Test
  void aPostgresBranchWaitingForALockAtTheDeadlineIsCancelledAndItsConnectionServesAtOnce()
      throws Exception {
    pg.execute("INSERT INTO account VALUES (101, 100)");
    try (XaFixture other =
        new XaFixture(
            fx.dbs,
            XaFixture.options()
                .meterRegistry(new SimpleMeterRegistry())
                .postgres(
                    "pg4",
                    new PostgresSourceOptions(pg.connectOptions())
                        .poolOptions(new io.vertx.sqlclient.PoolOptions().setMaxSize(2))),
            4)) {
      await(other.transactions.warmUp());
      io.vertx.sqlclient.SqlConnection holder =
          await(io.vertx.pgclient.PgConnection.connect(other.vertx, pg.connectOptions()));
      try {
        await(holder.query("BEGIN").execute());
        await(holder.query("SELECT balance FROM account WHERE id = 100 FOR UPDATE").execute());
        List<Future<Void>> cut = new java.util.ArrayList<>();
        for (int i = 0; i < 2; i++) {
          String tid = "cut" + i;
          cut.add(
              other.pool.withTransaction(
                  Duration.ofMillis(400), sql -> pgCreditOn(other, "pg4", tid, 100, 1)));
        }
        for (Future<Void> f : cut) {
          assertThat(failure(f)).isInstanceOf(io.shardkit.context.ShardkitTimeoutException.class);
        }
        long until = System.nanoTime() + 1_500_000_000L;
        int left = pgLockWaiters();
        while (left > 0 && System.nanoTime() < until) {
          Thread.sleep(20);
          left = pgLockWaiters();
        }
        assertThat(left)
            .as("UPDATEs of rolled-back PostgreSQL branches still waiting 1.5 s after the deadline")
            .isZero();
        // the lock is still held: another account is credited at once on the source's 2
        // connections
        long t0 = System.nanoTime();
        await(
            other.pool.withTransaction(
                Duration.ofSeconds(3), sql -> pgCreditOn(other, "pg4", "next", 101, 1)));
        assertThat((System.nanoTime() - t0) / 1_000_000).isLessThan(1_000);
      } finally {
        await(holder.query("ROLLBACK").execute());
        await(holder.close());
      }
    }
    assertThat(pgBalance(100)).as("nothing of the cancelled transactions applied").isEqualTo(100);
    assertThat(pgBalance(101)).isEqualTo(101);
    assertThat(pg.preparedTransactions()).isEmpty();
  }

  /** Backends of the test database waiting for a lock in a credit. */
  int pgLockWaiters() {
    return pg.query(
            "SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                + " AND query LIKE 'UPDATE account SET balance = balance +%'")
        .get(0)
        .getInteger("n");
  }

  @Test
  void aFullWaitQueueOfAPostgresSourceRefusesTypedAndNamesIt() throws Exception {
    // a wait queue left at Vert.x's default (unbounded) is bounded, as on the MySQL shards
    assertThat(new PostgresSourceOptions(pg.connectOptions()).poolOptions().getMaxWaitQueueSize())
        .isEqualTo(io.shardkit.router.ShardedPool.Builder.DEFAULT_MAX_WAIT_QUEUE_SIZE);
    // one connection, one waiting place: of three transactions at once, one waits and one is
    // refused before it enlists, typed and naming the source; the refused one changes nothing
    try (XaFixture other =
        new XaFixture(
            fx.dbs,
            XaFixture.options()
                .postgres(
                    "pg3",
                    new PostgresSourceOptions(pg.connectOptions())
                        .poolOptions(
                            new io.vertx.sqlclient.PoolOptions()
                                .setMaxSize(1)
                                .setMaxWaitQueueSize(1))),
            4)) {
      await(other.transactions.warmUp());
      long before = pgBalance(100);
      List<Future<Void>> all = new java.util.ArrayList<>();
      for (int i = 0; i < 3; i++) {
        String tid = "q" + i;
        all.add(
            other.pool.withTransaction(
                Duration.ofSeconds(10),
                sql ->
                    other
                        .transactions
                        .postgres("pg3")
                        .compose(p -> p.query("SELECT pg_sleep(0.3)").execute())
                        .compose(v -> pgCreditOn(other, "pg3", tid, 100, 1))));
      }
      int committed = 0;
      int refused = 0;
      for (Future<Void> f : all) {
        Throwable t = null;
        try {
          await(f);
        } catch (java.util.concurrent.ExecutionException e) {
          t = e.getCause();
        }
        if (t == null) {
          committed++;
        } else {
          assertThat(t)
              .isInstanceOf(io.shardkit.router.ShardOverloadedException.class)
              .hasMessageContaining("pg3");
          refused++;
        }
      }
      assertThat(refused).as("refused by the full wait queue").isPositive();
      assertThat(committed).as("committed").isPositive();
      assertThat(pgBalance(100)).isEqualTo(before + committed);
    }
  }

  static Future<Void> pgCreditOn(XaFixture f, String source, String tid, long to, long amount) {
    return f.transactions
        .postgres(source)
        .compose(
            p ->
                p.preparedQuery("UPDATE account SET balance = balance + $1 WHERE id = $2")
                    .execute(Tuple.of(amount, to)))
        .mapEmpty();
  }

  @Test
  void maxPreparedTransactionsZeroIsRefusedAtStartNamingTheSettingAndTheSource() throws Exception {
    try (TestPostgres defaults = TestPostgres.start(0);
        XaFixture other =
            new XaFixture(
                fx.dbs,
                XaFixture.options()
                    .meterRegistry(new SimpleMeterRegistry())
                    .postgres("reports", new PostgresSourceOptions(defaults.connectOptions())),
                4)) {
      defaults.execute(PG_ACCOUNT, "INSERT INTO account VALUES (100, 100)");
      Throwable atStart = failure(other.transactions.warmUp());
      assertThat(atStart)
          .isInstanceOf(ConfigurationException.class)
          .hasMessageContaining("max_prepared_transactions = 0")
          .hasMessageContaining("'reports'");
      // and a transaction that enlists it fails before any write there
      Throwable inTx =
          failure(
              other.pool.withTransaction(
                  Duration.ofSeconds(5),
                  sql ->
                      other
                          .transactions
                          .postgres("reports")
                          .compose(
                              p ->
                                  p.query("UPDATE account SET balance = 0 WHERE id = 100")
                                      .execute())));
      assertThat(inTx)
          .isInstanceOf(ConfigurationException.class)
          .hasMessageContaining("max_prepared_transactions");
      assertThat(
              defaults
                  .query("SELECT balance FROM account WHERE id = 100")
                  .get(0)
                  .getLong("balance"))
          .isEqualTo(100);
    }
  }

  @Test
  void unknownPostgresNameIsATypedError() throws Exception {
    Throwable actual =
        failure(
            fx.pool.withTransaction(
                Duration.ofSeconds(5), sql -> fx.transactions.postgres("nope")));
    assertThat(actual)
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("unknown PostgreSQL data source 'nope'")
        .hasMessageContaining("[pg]");
    Throwable outside = failure(fx.transactions.postgres("pg"));
    assertThat(outside).hasMessageContaining("outside a global transaction");
  }
}
