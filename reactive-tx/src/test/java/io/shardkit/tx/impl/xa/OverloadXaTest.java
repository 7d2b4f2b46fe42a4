package io.shardkit.tx.impl.xa;

import static io.shardkit.tx.impl.xa.XaFixture.await;
import static io.shardkit.tx.impl.xa.XaFixture.transfer;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardkit.context.ConfigurationException;
import io.shardkit.context.ShardkitTimeoutException;
import io.shardkit.context.junit.LeakGuardExtension;
import io.shardkit.testkit.ShardDatabases;
import io.shardkit.testkit.Shards;
import io.shardkit.tx.TransactionOptions;
import io.shardkit.tx.TransactionOverloadedException;
import io.shardkit.tx.TransactionRolledBackException;
import io.shardkit.tx.TransactionsOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Admission control of XA transactions ({@link TransactionsOptions#maxInFlight()}) on two real
 * shards with 8 connections each (2 of ds_0's kept by the coordinator log): a burst far beyond the
 * limit is split into transactions that all commit and newcomers refused at once with {@link
 * TransactionOverloadedException}, whose work never ran (no branch, no row, no money moved); the
 * admissions come back whatever the outcome, and with the asynchronous second phase as soon as the
 * caller is answered.
 */
@Shards(2)
@ExtendWith(LeakGuardExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OverloadXaTest {

  static final int ACCOUNTS = 100;
  static final long START_BALANCE = 1_000;
  static final int LIMIT = 8;
  static final int BURST = 300;

  XaFixture fx;
  SimpleMeterRegistry meters = new SimpleMeterRegistry();

  @BeforeAll
  void setUp(ShardDatabases dbs) throws Exception {
    XaFixture.createTables(dbs);
    fx = new XaFixture(dbs, XaFixture.options().meterRegistry(meters).maxInFlight(LIMIT), 8);
    await(fx.transactions.installSchema());
  }

  @AfterAll
  void tearDown() throws Exception {
    fx.close();
  }

  @BeforeEach
  void reset() {
    fx.resetAccounts(ACCOUNTS, START_BALANCE);
  }

  /** What a burst's callers heard, by transfer id. */
  record Heard(
      List<String> committed, List<String> refused, List<Throwable> other, long slowestRefusalUs) {}

  /**
   * Starts {@code count} transactions at once from one event loop (transfer {@code "o<i>"} runs
   * {@code work.apply(i)}) and waits for every answer.
   */
  Heard burst(int count, Function<Integer, Future<?>> work) throws Exception {
    List<String> committed = new CopyOnWriteArrayList<>();
    List<String> refused = new CopyOnWriteArrayList<>();
    List<Throwable> other = new CopyOnWriteArrayList<>();
    AtomicLong slowestRefusal = new AtomicLong();
    Promise<Void> all = Promise.promise();
    fx.vertx.runOnContext(
        v -> {
          List<Future<?>> answers = new ArrayList<>();
          for (int i = 0; i < count; i++) {
            String tid = "o" + i;
            long started = System.nanoTime();
            answers.add(
                work.apply(i)
                    .andThen(
                        ar -> {
                          if (ar.succeeded()) {
                            committed.add(tid);
                          } else if (ar.cause() instanceof TransactionOverloadedException) {
                            refused.add(tid);
                            slowestRefusal.accumulateAndGet(
                                (System.nanoTime() - started) / 1_000, Math::max);
                          } else {
                            other.add(ar.cause());
                          }
                        }));
          }
          Future.join(answers).onComplete(ar -> all.complete());
        });
    await(all.future());
    return new Heard(committed, refused, other, slowestRefusal.get());
  }

  /**
   * Cross-shard transfer {@code "o<i>"}: odd accounts live on ds_1, even ones on ds_0; every
   * transfer debits an odd account first, so concurrent ones lock in one order.
   */
  Future<Void> crossShardTransfer(int i, AtomicInteger bodiesRun, TransactionOptions options) {
    long from = 1 + 2L * (i % (ACCOUNTS / 2)); // odd: ds_1
    long to = 2 + 2L * ((i * 7) % (ACCOUNTS / 2)); // even: ds_0
    return crossShardTransfer(i, from, to, bodiesRun, options);
  }

  Future<Void> crossShardTransfer(
      int i, long from, long to, AtomicInteger bodiesRun, TransactionOptions options) {
    return fx.transactions
        .xaResult(
            options,
            sql -> {
              bodiesRun.incrementAndGet();
              return transfer(sql, "o" + i, from, to, 1 + i % 9);
            })
        .mapEmpty();
  }

  double inFlight() {
    return meters.get("shardkit.tx.in_flight").tag("mode", "xa").gauge().value();
  }

  double refusedCount() {
    return meters
        .get("shardkit.tx.transactions")
        .tags("mode", "xa", "outcome", "refused")
        .counter()
        .count();
  }

  /** Transfer rows by transfer id, over both shards. */
  Map<String, Integer> transferRows() {
    Map<String, Integer> rows = new HashMap<>();
    for (int s = 0; s < 2; s++) {
      for (JsonObject row : fx.dbs.get(s).query("SELECT tid FROM transfer")) {
        rows.merge(row.getString("tid"), 1, Integer::sum);
      }
    }
    return rows;
  }

  @Test
  void aBurstBeyondTheLimitCommitsWhatWasAdmittedAndRefusesTheRestBeforeAnyStatement()
      throws Exception {
    double refusedBefore = refusedCount();
    AtomicInteger bodiesRun = new AtomicInteger();
    TransactionOptions twentySeconds = TransactionOptions.ofTimeout(Duration.ofSeconds(20));
    Heard heard = burst(BURST, i -> crossShardTransfer(i, bodiesRun, twentySeconds));
    System.out.printf(
        "overload xa: %d offered at once, limit %d: %d committed, %d refused (slowest refusal"
            + " %d µs), %d other%n",
        BURST,
        LIMIT,
        heard.committed().size(),
        heard.refused().size(),
        heard.slowestRefusalUs(),
        heard.other().size());
    assertThat(heard.other()).as("no timeout, no rollback: admitted work kept its pace").isEmpty();
    assertThat(heard.refused()).as("newcomers beyond the limit refused").isNotEmpty();
    assertThat(heard.committed()).hasSizeGreaterThanOrEqualTo(LIMIT);
    assertThat(heard.committed().size() + heard.refused().size()).isEqualTo(BURST);
    assertThat(heard.slowestRefusalUs())
        .as(
            "refused in withTransaction before the pool sets the transaction up (scope, timer,"
                + " connection): refused in begin, after 300 such set-ups, took 29-99 ms")
        .isLessThan(25_000);
    // exactly the admitted ones ran their work and committed; a refused one left nothing
    assertThat(bodiesRun.get()).isEqualTo(heard.committed().size());
    Map<String, Integer> rows = transferRows();
    assertThat(rows.keySet()).containsExactlyInAnyOrderElementsOf(heard.committed());
    assertThat(rows.values()).allMatch(n -> n == 2);
    assertThat(fx.totalBalance()).isEqualTo(ACCOUNTS * START_BALANCE);
    assertThat(fx.preparedBranchesEverywhere()).as("no branch left prepared").isZero();
    assertThat(refusedCount() - refusedBefore).isEqualTo(heard.refused().size());
    assertThat(inFlight()).as("every admission given back").isZero();
    // after the burst capacity is back: the limit's worth is admitted at once again
    Heard next = burst(LIMIT, i -> crossShardTransfer(1000 + i, bodiesRun, twentySeconds));
    assertThat(next.committed()).hasSize(LIMIT);
  }

  @Test
  void anAdmissionComesBackWhateverTheOutcome() throws Exception {
    // half fail in the user's work, half never finish it and meet their deadline
    Heard heard =
        burst(
            LIMIT,
            i ->
                fx.pool.withTransaction(
                    Duration.ofMillis(i % 2 == 0 ? 5_000 : 300),
                    sql ->
                        sql.query("UPDATE account SET balance = balance - 1 WHERE id = " + (i + 1))
                            .execute()
                            .compose(
                                rs ->
                                    i % 2 == 0
                                        ? Future.failedFuture(new IllegalStateException("user"))
                                        : Promise.<Void>promise().future())));
    assertThat(heard.refused()).as("the limit's worth is admitted").isEmpty();
    assertThat(heard.other())
        .hasSize(LIMIT)
        .allMatch(
            e ->
                e instanceof IllegalStateException
                    || e instanceof ShardkitTimeoutException
                    || e instanceof TransactionRolledBackException,
            "the user's failure or the deadline");
    assertThat(fx.totalBalance()).isEqualTo(ACCOUNTS * START_BALANCE);
    assertThat(inFlight()).isZero();
    AtomicInteger bodiesRun = new AtomicInteger();
    Heard next =
        burst(
            LIMIT,
            i ->
                crossShardTransfer(
                    i, bodiesRun, TransactionOptions.ofTimeout(Duration.ofSeconds(10))));
    assertThat(next.committed()).as("every slot was returned").hasSize(LIMIT);
  }

  @Test
  void withTheAsyncSecondPhaseTheAdmissionComesBackWhenTheCallerIsAnswered() throws Exception {
    // transactions answered with their second phase held in the background (each keeps a
    // connection of ds_0 for its prepared branch: fewer than the 6 the log leaves there)
    int background = 4;
    Promise<Void> release = Promise.promise();
    AtomicInteger held = new AtomicInteger();
    fx.tx.beforeCommit(
        gid -> held.incrementAndGet() <= background ? release.future() : Future.succeededFuture());
    try {
      AtomicInteger bodiesRun = new AtomicInteger();
      Heard answered =
          burst(
              background,
              i ->
                  crossShardTransfer(
                      i,
                      bodiesRun,
                      TransactionOptions.ofTimeout(Duration.ofSeconds(10))
                          .withAsyncSecondPhase(true)));
      assertThat(answered.other()).isEmpty();
      assertThat(answered.committed()).hasSize(background);
      assertThat(held.get()).isEqualTo(background);
      assertThat(fx.preparedBranchesEverywhere()).as("second phases still held").isPositive();
      assertThat(inFlight()).as("answered: no longer in flight, second phase or not").isZero();
      // a new (synchronous) transaction is admitted and commits meanwhile
      Heard next =
          burst(
              1,
              i ->
                  // accounts the held transactions do not lock
                  crossShardTransfer(
                      100 + i,
                      99,
                      98,
                      bodiesRun,
                      TransactionOptions.ofTimeout(Duration.ofSeconds(10))));
      assertThat(next.committed()).hasSize(1);
    } finally {
      fx.tx.beforeCommit(gid -> Future.succeededFuture());
      release.complete();
    }
    long until = System.nanoTime() + 10_000_000_000L;
    while (fx.preparedBranchesEverywhere() > 0 && System.nanoTime() < until) {
      Thread.sleep(20); // the background commits
    }
    assertThat(fx.preparedBranchesEverywhere()).isZero();
    assertThat(transferRows())
        .hasSize(background + 1)
        .allSatisfy((tid, n) -> assertThat(n).isEqualTo(2));
    assertThat(fx.totalBalance()).isEqualTo(ACCOUNTS * START_BALANCE);
  }

  @Test
  void theLimitIsConfiguredByNameAndChecked() {
    JsonObject json = new JsonObject().put("logDataSource", "ds_0").put("maxInFlight", 32);
    assertThat(TransactionsOptions.fromJson(json).maxInFlight()).isEqualTo(32);
    assertThat(TransactionsOptions.fromJson(json).toJson().getInteger("maxInFlight")).isEqualTo(32);
    assertThat(TransactionsOptions.of("ds_0").maxInFlight())
        .isEqualTo(TransactionsOptions.DEFAULT_MAX_IN_FLIGHT)
        .isEqualTo(256);
    assertThatThrownBy(() -> TransactionsOptions.fromJson(json.copy().put("maxInFlight", 0)))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("maxInFlight");
    assertThatThrownBy(() -> TransactionsOptions.fromJson(json.copy().put("maxInFlight", "many")))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("maxInFlight");
    assertThatThrownBy(() -> TransactionsOptions.builder("ds_0").maxInFlight(-1))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("maxInFlight");
    assertThat(new TransactionOverloadedException("XA", 8).getMessage())
        .contains("TransactionsOptions.maxInFlight");
  }
}
