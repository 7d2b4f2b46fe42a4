package io.shardkit.tx.impl.xa;

import static io.shardkit.tx.impl.xa.XaFixture.await;
import static io.shardkit.tx.impl.xa.XaFixture.failure;
import static io.shardkit.tx.impl.xa.XaFixture.transfer;
import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardkit.context.ScopeOptions;
import io.shardkit.context.ShardkitTimeoutException;
import io.shardkit.context.TxContext;
import io.shardkit.context.TxScope;
import io.shardkit.context.junit.LeakGuardExtension;
import io.shardkit.testkit.ShardDatabases;
import io.shardkit.testkit.Shards;
import io.shardkit.tx.TransactionOutcomePendingException.Decision;
import io.shardkit.tx.TransactionOutcomeUnknownException;
import io.shardkit.tx.TransactionRolledBackException;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.mysqlclient.MySQLException;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The coordinator on two real shards without faults: commit paths, rollback on user failure and on
 * a failing statement, broadcast writes, the deadline, nesting, metrics. Account {@code id} lives
 * on {@code ds_(id mod 2)}.
 */
@Shards(2)
@ExtendWith(LeakGuardExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class XaTransactionTest {

  static final Duration FIVE_SECONDS = Duration.ofSeconds(5);
  XaFixture fx;
  SimpleMeterRegistry meters = new SimpleMeterRegistry();

  /**
   * Whether the first participant keeps the decision (the default; a transfer 1 → 2 starts on ds_1,
   * which decides), or the coordinator log on ds_0 does ({@link XaTransactionLogDecisionTest}).
   */
  boolean onParticipant() {
    return true;
  }

  /**
   * Whether branch starts are pipelined with their first statements, on pools with a pipelining
   * limit of 16 ({@link XaTransactionPipelinedTest}).
   */
  boolean pipelined() {
    return false;
  }

  /** Where the decision of a transfer 1 → 2 is written: ds_1's or the log's table. */
  private io.vertx.sqlclient.Pool decisionPool() {
    return fx.pool.pool(onParticipant() ? "ds_1" : "ds_0");
  }

  private String decisionTable() {
    return onParticipant() ? "shardkit_xa_decision" : "shardkit_tx";
  }

  @BeforeAll
  void setUp(ShardDatabases dbs) throws Exception {
    XaFixture.createTables(dbs);
    fx =
        new XaFixture(
            dbs,
            XaFixture.options()
                .meterRegistry(meters)
                .decisionOnParticipant(onParticipant())
                .pipelineBranchStart(pipelined()),
            4,
            pipelined() ? 16 : 1);
    await(fx.transactions.installSchema());
  }

  @AfterAll
  void tearDown() throws Exception {
    fx.close();
  }

  @BeforeEach
  void reset() {
    fx.resetAccounts(10, 100);
  }

  @Test
  void twoShardTransferCommitsOnBothAndRecordsCommitDecision() throws Exception {
    AtomicReference<String> gid = new AtomicReference<>();
    await(
        fx.pool.withTransaction(
            FIVE_SECONDS,
            sql -> {
              gid.set(TxScope.current().orElseThrow().globalId());
              return transfer(sql, "t1", 1, 2, 30);
            }));
    assertThat(fx.balance(1)).isEqualTo(70);
    assertThat(fx.balance(2)).isEqualTo(130);
    Optional<Decision> actualDecision = await(fx.tx.decision(gid.get()));
    assertThat(actualDecision).contains(Decision.COMMIT);
    assertThat(fx.preparedBranchesEverywhere()).isZero();
  }

  @Test
  void oneShardTransactionCommitsInOnePhaseWithoutLogRow() throws Exception {
    int expectedLogRows = fx.logRows();
    AtomicReference<String> gid = new AtomicReference<>();
    await(
        fx.pool.withTransaction(
            FIVE_SECONDS,
            sql -> {
              gid.set(TxScope.current().orElseThrow().globalId());
              return transfer(sql, "t2", 2, 4, 10); // both on ds_0
            }));
    assertThat(fx.balance(2)).isEqualTo(90);
    assertThat(fx.balance(4)).isEqualTo(110);
    assertThat(fx.logRows()).isEqualTo(expectedLogRows);
    assertThat(await(fx.tx.decision(gid.get()))).isEmpty();
  }

  @Test
  void statementsOnOneShardShareTheBranchAndSeeTheirWrites() throws Exception {
    Long actualBalance =
        await(
            fx.pool.withTransaction(
                FIVE_SECONDS,
                sql ->
                    sql.preparedQuery("UPDATE account SET balance = balance + 5 WHERE id = ?")
                        .execute(Tuple.of(3))
                        .compose(
                            v ->
                                sql.preparedQuery("SELECT balance FROM account WHERE id = ?")
                                    .execute(Tuple.of(3)))
                        .map(rows -> rows.iterator().next().getLong(0))));
    assertThat(actualBalance).isEqualTo(105);
    assertThat(fx.balance(3)).isEqualTo(105);
  }

  @Test
  void concurrentFirstUsesOfOneShardEnlistItOnce() throws Exception {
    // Two statements on ds_1 issued before either answered: one XA START, one connection (a
    // second XA START of the same xid would fail with XAER_DUPID).
    await(
        fx.pool.withTransaction(
            FIVE_SECONDS,
            sql ->
                Future.all(
                        sql.preparedQuery("UPDATE account SET balance = balance + 1 WHERE id = ?")
                            .execute(Tuple.of(1)),
                        sql.preparedQuery("UPDATE account SET balance = balance + 2 WHERE id = ?")
                            .execute(Tuple.of(3)),
                        sql.preparedQuery("UPDATE account SET balance = balance + 3 WHERE id = ?")
                            .execute(Tuple.of(2)))
                    .mapEmpty()));
    assertThat(fx.balance(1)).isEqualTo(101);
    assertThat(fx.balance(3)).isEqualTo(102);
    assertThat(fx.balance(2)).isEqualTo(103);
  }

  @Test
  void workThatThrowsRollsBackEveryShard() throws Exception {
    Throwable actual =
        failure(
            fx.pool.withTransaction(
                FIVE_SECONDS,
                sql ->
                    transfer(sql, "t3", 1, 2, 30)
                        .map(
                            v -> {
                              throw new IllegalStateException("business rule says no");
                            })));
    // as Pool.withTransaction: the work's own failure, after everything was rolled back
    assertThat(actual)
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("business rule says no");
    assertUntouched();
  }

  @Test
  void workThrowingSynchronouslyRollsBack() throws Exception {
    Throwable actual =
        failure(
            fx.pool.withTransaction(
                FIVE_SECONDS,
                sql -> {
                  throw new IllegalArgumentException("thrown before any statement");
                }));
    assertThat(actual)
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("thrown before any statement");
    assertUntouched();
  }

  @Test
  void statementFailingOnShardBAfterShardAWroteRollsBackBoth() throws Exception {
    // Debit account 1 (ds_1), then insert a duplicate account 2 on ds_0: the server refuses.
    Throwable actual =
        failure(
            fx.pool.withTransaction(
                FIVE_SECONDS,
                sql ->
                    sql.preparedQuery("UPDATE account SET balance = balance - 50 WHERE id = ?")
                        .execute(Tuple.of(1))
                        .compose(
                            v ->
                                sql.preparedQuery("INSERT INTO account (id, balance) VALUES (?, ?)")
                                    .execute(Tuple.of(2, 50)))));
    // the statement's own failure reaches the work, which returns it: that is the outcome
    assertThat(actual).isInstanceOf(MySQLException.class);
    assertThat(((MySQLException) actual).getErrorCode()).isEqualTo(1062);
    assertUntouched();
  }

  @Test
  void broadcastWriteGoesToEveryShardOrNone() throws Exception {
    await(
        fx.pool.withTransaction(
            FIVE_SECONDS,
            sql ->
                sql.preparedQuery("INSERT INTO t_config (k, v) VALUES (?, ?)")
                    .execute(Tuple.of("fee", "1"))));
    for (int i = 0; i < 2; i++) {
      assertThat(fx.dbs.get(i).query("SELECT v FROM t_config WHERE k = 'fee'")).hasSize(1);
    }
    Throwable actual =
        failure(
            fx.pool.withTransaction(
                FIVE_SECONDS,
                sql ->
                    sql.preparedQuery("INSERT INTO t_config (k, v) VALUES (?, ?)")
                        .execute(Tuple.of("limit", "9"))
                        .compose(
                            v -> Future.failedFuture(new IllegalStateException("changed mind")))));
    assertThat(actual).isInstanceOf(IllegalStateException.class).hasMessage("changed mind");
    for (int i = 0; i < 2; i++) {
      assertThat(fx.dbs.get(i).query("SELECT v FROM t_config WHERE k = 'limit'")).isEmpty();
    }
    assertThat(fx.preparedBranchesEverywhere()).isZero();
  }

  @Test
  void workThatNeverCompletesFailsAtTheDeadlineAndRollsBack() throws Exception {
    Duration timeout = Duration.ofMillis(400);
    long start = System.nanoTime();
    Throwable actual =
        failure(
            fx.pool.withTransaction(
                timeout,
                sql ->
                    transfer(sql, "t4", 1, 2, 30).compose(v -> Promise.<Void>promise().future())));
    long actualMillis = (System.nanoTime() - start) / 1_000_000;
    assertThat(actual).isInstanceOf(ShardkitTimeoutException.class);
    assertThat(actualMillis).isBetween(timeout.toMillis(), timeout.toMillis() + 300);
    waitForPoolsToSettle();
    assertUntouched();
  }

  @Test
  void statementSentAfterTheDeadlineIsRefusedAndNeverRuns() throws Exception {
    Promise<io.vertx.sqlclient.SqlClient> client = Promise.promise();
    Promise<Future<?>> lateInScope = Promise.promise();
    Throwable actual =
        failure(
            fx.pool.withTransaction(
                Duration.ofMillis(300),
                sql -> {
                  client.complete(sql);
                  // A callback of the transaction that fires after its deadline.
                  fx.vertx.setTimer(
                      600,
                      id ->
                          lateInScope.complete(
                              sql.preparedQuery(
                                      "UPDATE account SET balance = balance + 1000 WHERE id = ?")
                                  .execute(Tuple.of(1))));
                  return transfer(sql, "t9", 1, 2, 30)
                      .compose(v -> Promise.<Void>promise().future());
                }));
    assertThat(actual).isInstanceOf(ShardkitTimeoutException.class);
    // The same client used from outside the transaction's context, after its end, on both an
    // enlisted shard and one never enlisted.
    Throwable outsideEnlisted =
        failure(
            client
                .future()
                .result()
                .preparedQuery("UPDATE account SET balance = balance + 1000 WHERE id = ?")
                .execute(Tuple.of(1)));
    Throwable outsideNew =
        failure(
            client
                .future()
                .result()
                .preparedQuery("UPDATE account SET balance = balance + 1000 WHERE id = ?")
                .execute(Tuple.of(4)));
    long start = System.nanoTime();
    Throwable inScope = failure(await(lateInScope.future()));
    long inScopeMillis = (System.nanoTime() - start) / 1_000_000;

    // withTransaction closed the connection when the deadline ended the transaction
    assertThat(inScope).isInstanceOf(IllegalStateException.class).hasMessage("connection closed");
    assertThat(inScopeMillis).as("late statement fails without waiting").isLessThan(2_000);
    assertThat(outsideEnlisted).isInstanceOf(IllegalStateException.class);
    assertThat(outsideNew).isInstanceOf(IllegalStateException.class);
    waitForPoolsToSettle();
    assertUntouched();
  }

  @Test
  void nestedTransactionIsIndependentAndCappedByTheEnclosingDeadline() throws Exception {
    AtomicReference<TxContext> outer = new AtomicReference<>();
    AtomicReference<TxContext> inner = new AtomicReference<>();
    await(
        TxScope.run(
            fx.vertx,
            ScopeOptions.ofTimeout(Duration.ofSeconds(2)),
            () -> {
              outer.set(TxScope.current().orElseThrow());
              return fx.pool.withTransaction(
                  Duration.ofMinutes(5),
                  sql -> {
                    inner.set(TxScope.current().orElseThrow());
                    return transfer(sql, "t5", 1, 2, 1);
                  });
            }));
    assertThat(inner.get().globalId()).isNotEqualTo(outer.get().globalId());
    assertThat(inner.get().deadline()).isEqualTo(outer.get().deadline());
    assertThat(fx.balance(2)).isEqualTo(101);
  }

  @Test
  void asyncSecondPhaseAnswersOnceDecidedAndCommitsInTheBackground() throws Exception {
    // the commits after the decision are held until released: the caller is answered before
    Promise<Void> release = Promise.promise();
    AtomicReference<String> held = new AtomicReference<>();
    fx.tx.beforeCommit(
        gid -> {
          held.set(gid);
          return release.future();
        });
    io.shardkit.tx.TransactionResult<String> result;
    try {
      result =
          await(
              fx.transactions.xaResult(
                  io.shardkit.tx.TransactionOptions.ofTimeout(FIVE_SECONDS)
                      .withAsyncSecondPhase(true),
                  sql -> transfer(sql, "async", 1, 2, 30).map("done")));
      assertThat(result.value()).isEqualTo("done");
      assertThat(result.secondPhasePending()).isTrue();
      assertThat(held.get()).isEqualTo(result.globalId());
      assertThat(await(fx.tx.decision(result.globalId()))).contains(Decision.COMMIT);
      // answered with ds_0's branch still prepared (ds_1 committed with the decision, if it kept
      // it): a read on ds_0 does not see the credit yet
      assertThat(fx.balance(1)).isEqualTo(onParticipant() ? 70 : 100);
      assertThat(fx.balance(2)).isEqualTo(100);
      assertThat(fx.preparedBranches(0)).isEqualTo(1);
    } finally {
      fx.tx.beforeCommit(gid -> Future.succeededFuture());
      release.complete();
    }
    long until = System.nanoTime() + 10_000_000_000L;
    while ((fx.balance(2) != 130 || fx.balance(1) != 70 || fx.preparedBranchesEverywhere() > 0)
        && System.nanoTime() < until) {
      Thread.sleep(20); // the background commits (both of them when the log decides)
    }
    assertThat(fx.balance(1)).isEqualTo(70);
    assertThat(fx.balance(2)).isEqualTo(130);
    waitForPoolsToSettle();
    assertThat(fx.preparedBranchesEverywhere()).isZero();
  }

  @Test
  void aDecidingShardWithoutItsDecisionTableRollsBackNamingTheTable() throws Exception {
    org.junit.jupiter.api.Assumptions.assumeTrue(onParticipant(), "ds_1 decides");
    fx.dbs.get(1).execute("RENAME TABLE shardkit_xa_decision TO shardkit_xa_decision_away");
    Throwable actual;
    try {
      actual = failure(fx.pool.withTransaction(FIVE_SECONDS, sql -> transfer(sql, "nt", 1, 2, 30)));
    } finally {
      fx.dbs.get(1).execute("RENAME TABLE shardkit_xa_decision_away TO shardkit_xa_decision");
    }
    assertThat(actual).isInstanceOf(TransactionRolledBackException.class);
    assertThat(((TransactionRolledBackException) actual).phase()).isEqualTo("decide");
    assertThat(actual.getMessage()).contains("ds_1").contains("shardkit_xa_decision");
    waitForPoolsToSettle();
    assertUntouched();
  }

  @Test
  void committerThatFindsAnAbortDecisionObeysItAndRollsBack() throws Exception {
    // Recovery decided ABORT for this global id first (as it does for a coordinator slower than
    // its deadline plus the grace): the COMMIT insert loses and the transaction rolls back.
    Throwable actual =
        failure(
            fx.pool.withTransaction(
                FIVE_SECONDS,
                sql -> {
                  String gid = TxScope.current().orElseThrow().globalId();
                  io.vertx.core.Context scope = io.vertx.core.Vertx.currentContext();
                  Promise<Void> back = Promise.promise();
                  (onParticipant()
                          ? fx.tx.decisions().decide(decisionPool(), gid, Decision.ROLLBACK)
                          : fx.tx
                              .log()
                              .decideReporting(
                                  gid, Decision.ROLLBACK, java.util.List.of(), "recovery"))
                      .onComplete(ar -> scope.runOnContext(v -> back.complete()));
                  return back.future().compose(v -> transfer(sql, "lost", 1, 2, 30));
                }));
    assertThat(actual).isInstanceOf(TransactionRolledBackException.class);
    assertThat(((TransactionRolledBackException) actual).phase()).isEqualTo("decide");
    String gid = ((TransactionRolledBackException) actual).globalId();
    assertThat(await(fx.tx.decision(gid))).contains(Decision.ROLLBACK);
    assertUntouched();
  }

  @Test
  void batchedCommitDecisionsEachGetTheirOwnWinner() throws Exception {
    CoordinatorLog log = fx.tx.log();
    await(log.decideReporting("batch-lost", Decision.ROLLBACK, java.util.List.of(), "recovery"));
    java.util.List<Future<Decision>> decisions = new java.util.ArrayList<>();
    for (int i = 0; i < 20; i++) {
      decisions.add(log.decideCommit("batch-won-" + i, java.util.List.of("ds_0", "ds_1")));
    }
    Future<Decision> lost = log.decideCommit("batch-lost", java.util.List.of("ds_0", "ds_1"));
    assertThat(await(lost)).isEqualTo(Decision.ROLLBACK);
    for (Future<Decision> won : decisions) {
      assertThat(await(won)).isEqualTo(Decision.COMMIT);
    }
    assertThat(await(fx.tx.decision("batch-won-7"))).contains(Decision.COMMIT);
  }

  @Test
  void metricsCountOutcomesAndPhases() throws Exception {
    double committedBefore = count("committed");
    double rolledBackBefore = count("rolled_back");
    await(fx.pool.withTransaction(FIVE_SECONDS, sql -> transfer(sql, "m1", 1, 2, 1)));
    failure(
        fx.pool.withTransaction(
            FIVE_SECONDS,
            sql -> transfer(sql, "m2", 1, 2, 1).compose(v -> Future.failedFuture("no"))));
    assertThat(count("committed")).isEqualTo(committedBefore + 1);
    assertThat(count("rolled_back")).isEqualTo(rolledBackBefore + 1);
    assertThat(meters.find("shardkit.tx.phase").tags("phase", "prepare", "result", "ok").timer())
        .isNotNull();
    assertThat(meters.find("shardkit.tx.phase").tags("phase", "decide").timer()).isNotNull();
    assertThat(meters.find("shardkit.tx.phase").tags("phase", "rollback").timer()).isNotNull();
  }

  private double count(String outcome) {
    var counter = meters.find("shardkit.tx.transactions").tags("outcome", outcome).counter();
    return counter == null ? 0 : counter.count();
  }

  /** Balances as reset, no transfer row, nothing prepared, every pooled connection idle. */
  @Test
  void commitInFlightAtTheDeadlineIsReportedAsTheCommitEndsNotAsATimeout() throws Exception {
    // Hold every gap of the coordinator log so the COMMIT decision's insert waits past the
    // deadline; released afterwards, the decision is written and the transfer commits.
    io.vertx.sqlclient.SqlConnection lock = await(decisionPool().getConnection());
    AtomicReference<String> gid = new AtomicReference<>();
    Throwable actual;
    long actualMillis;
    try {
      await(lock.query("BEGIN").execute());
      await(lock.query("SELECT gid FROM " + decisionTable() + " FOR UPDATE").execute());
      Duration timeout = Duration.ofMillis(800);
      long start = System.nanoTime();
      Future<Void> outcome =
          fx.pool.withTransaction(
              timeout,
              sql -> {
                gid.set(TxScope.current().orElseThrow().globalId());
                return transfer(sql, "t-late", 1, 2, 30);
              });
      actual = failure(outcome);
      actualMillis = (System.nanoTime() - start) / 1_000_000;
      assertThat(actualMillis).isLessThan(timeout.toMillis() + 500);
    } finally {
      await(lock.query("ROLLBACK").execute());
      await(lock.close());
    }
    // Told at the deadline that the outcome is unknown (the decision was being written), never
    // a plain timeout, which would mean "rolled back"
    assertThat(actual).isInstanceOf(ShardkitTimeoutException.class);
    assertThat(actual.getCause()).isInstanceOf(TransactionOutcomeUnknownException.class);
    // ... and the log decides: once written, the transfer is applied on both shards.
    long until = System.nanoTime() + 10_000_000_000L;
    while ((fx.balance(1) != 70 || fx.balance(2) != 130) && System.nanoTime() < until) {
      Thread.sleep(50);
    }
    assertThat(await(fx.tx.decision(gid.get()))).contains(Decision.COMMIT);
    assertThat(fx.balance(1)).isEqualTo(70);
    assertThat(fx.balance(2)).isEqualTo(130);
    waitForPoolsToSettle();
    assertThat(fx.preparedBranchesEverywhere()).isZero();
  }

  @Test
  void anEnclosingScopeEndingWhileTheDecisionIsWrittenLeavesTheOutcomeUnknownNotRolledBack()
      throws Exception {
    io.vertx.sqlclient.SqlConnection lock = await(decisionPool().getConnection());
    AtomicReference<String> gid = new AtomicReference<>();
    Promise<Future<Void>> inner = Promise.promise();
    try {
      await(lock.query("BEGIN").execute());
      await(
          lock.query("SELECT gid FROM " + decisionTable() + " FOR UPDATE")
              .execute()); // holds the decision
      // the caller's own scope ends at 600 ms, while the transaction waits for its decision
      TxScope.run(
              fx.vertx,
              io.shardkit.context.ScopeOptions.ofTimeout(Duration.ofSeconds(10)),
              () -> {
                inner.complete(
                    fx.pool.withTransaction(
                        FIVE_SECONDS,
                        sql -> {
                          gid.set(TxScope.current().orElseThrow().globalId());
                          return transfer(sql, "t-enclosed", 1, 2, 30);
                        }));
                Promise<Void> end = Promise.promise();
                fx.vertx.setTimer(600, id -> end.complete());
                return end.future();
              })
          .onComplete(ar -> {});
      Throwable actual = failure(await(inner.future()));
      // not "rolled back": the decision may still land
      assertThat(actual).isInstanceOf(io.shardkit.tx.TransactionOutcomeUnknownException.class);
    } finally {
      await(lock.query("ROLLBACK").execute());
      await(lock.close());
    }
    long until = System.nanoTime() + 10_000_000_000L;
    while ((fx.balance(1) != 70 || fx.balance(2) != 130) && System.nanoTime() < until) {
      Thread.sleep(50);
    }
    assertThat(await(fx.tx.decision(gid.get()))).contains(Decision.COMMIT);
    assertThat(fx.balance(1)).isEqualTo(70);
    assertThat(fx.balance(2)).isEqualTo(130);
    waitForPoolsToSettle();
    assertThat(fx.preparedBranchesEverywhere()).isZero();
  }

  private void assertUntouched() {
    for (long id = 1; id <= 10; id++) {
      assertThat(fx.balance(id)).as("balance of account %d", id).isEqualTo(100);
    }
    for (int i = 0; i < 2; i++) {
      assertThat(fx.dbs.get(i).query("SELECT * FROM transfer")).isEmpty();
    }
    assertThat(fx.preparedBranchesEverywhere()).isZero();
  }

  /** Rollbacks after a deadline finish in the background; give them a moment. */
  private void waitForPoolsToSettle() throws InterruptedException {
    long until = System.nanoTime() + 3_000_000_000L;
    while (System.nanoTime() < until) {
      boolean busy = false;
      for (int i = 0; i < 2; i++) {
        for (var row :
            fx.dbs
                .get(i)
                .shard()
                .query(null, "SELECT COUNT(*) AS c FROM information_schema.innodb_trx")) {
          busy |= row.getInteger("c") > 0;
        }
      }
      if (!busy) {
        return;
      }
      Thread.sleep(20);
    }
  }

  @SuppressWarnings("unused")
  private static long first(io.vertx.sqlclient.RowSet<Row> rows) {
    return rows.iterator().next().getLong(0);
  }
}
