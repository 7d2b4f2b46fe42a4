package io.shardkit.tx.tcc;

import static io.shardkit.tx.tcc.TccTestSupport.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardkit.context.ConfigurationException;
import io.shardkit.router.ShardedPool;
import io.shardkit.testkit.ShardDatabases;
import io.shardkit.testkit.Shards;
import io.shardkit.tx.TccOptions;
import io.shardkit.tx.TransactionOptions;
import io.shardkit.tx.TransactionOverloadedException;
import io.shardkit.tx.Transactions;
import io.shardkit.tx.TransactionsOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.PoolOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Admission control of TCC and Saga ({@link TccOptions#maxInFlight()}) on two real shards with
 * small pools: a burst far beyond the limit is split into transactions that all commit and
 * newcomers refused at once with {@link TransactionOverloadedException}, which leave nothing in the
 * data (no log row, no fence row, no money moved); the admission slots all come back.
 */
@Shards(2)
class OverloadTccTest {

  static final int ACCOUNTS = 100;
  static final long START_BALANCE = 1_000;
  static final int LIMIT = 8;
  static final int BURST = 300;

  static final TccOptions OPTIONS =
      TccOptions.builder().tablePrefix("over_t").logDataSource("ds_0").maxInFlight(LIMIT).build();

  static Vertx vertx;
  static ShardedPool pool;
  static ShardDatabases databases;
  static SimpleMeterRegistry meters;
  static Transactions transactions;
  static Bank bank;
  static SagaBank sagaBank;

  @BeforeAll
  static void start(ShardDatabases dbs) throws Exception {
    databases = dbs;
    Bank.reset(dbs, OPTIONS);
    dbs.executeOnAll("DROP TABLE IF EXISTS saga_journal", SagaBank.JOURNAL_DDL);
    vertx = TccTestSupport.vertx();
    pool =
        ShardedPool.builder(vertx)
            .rules(TccTestSupport.rules(2))
            .dataSources(dbs.dataSources("ds_"), new PoolOptions().setMaxSize(4))
            .build();
    TccTestSupport.warmUp(pool);
    meters = new SimpleMeterRegistry();
    bank = new Bank();
    sagaBank = new SagaBank("saga.");
    transactions =
        Transactions.create(
            vertx,
            pool,
            TransactionsOptions.builder("ds_0")
                .tcc(OPTIONS.toBuilder().meterRegistry(meters).build())
                .build());
    transactions.register(bank.debit).register(bank.credit);
    transactions.register(sagaBank.debit).register(sagaBank.deposit);
    await(transactions.installSchema());
    await(transactions.warmUp());
  }

  @AfterAll
  static void stop() throws Exception {
    await(transactions.close());
    await(pool.close());
    TccTestSupport.close(vertx);
  }

  @BeforeEach
  void reset() {
    databases.executeOnAll(
        "DELETE FROM account", "DELETE FROM saga_journal", "DELETE FROM " + OPTIONS.fenceTable());
    databases.get(0).execute("DELETE FROM " + OPTIONS.txTable());
    Bank.open(databases, ACCOUNTS, START_BALANCE);
  }

  /** What the burst's callers heard. */
  record Heard(int committed, int refused, List<Throwable> other, long slowestRefusalMicros) {}

  /** Starts {@code BURST} transactions at once from one event loop and waits for every answer. */
  static Heard burst(Supplier<Future<?>> transaction) throws Exception {
    Map<String, Integer> counts = new ConcurrentHashMap<>();
    List<Throwable> other = new java.util.concurrent.CopyOnWriteArrayList<>();
    AtomicLong slowestRefusal = new AtomicLong();
    Promise<Void> all = Promise.promise();
    vertx.runOnContext(
        v -> {
          List<Future<?>> answers = new ArrayList<>();
          for (int i = 0; i < BURST; i++) {
            long started = System.nanoTime();
            answers.add(
                transaction
                    .get()
                    .andThen(
                        ar -> {
                          if (ar.succeeded()) {
                            counts.merge("committed", 1, Integer::sum);
                          } else if (ar.cause() instanceof TransactionOverloadedException) {
                            counts.merge("refused", 1, Integer::sum);
                            slowestRefusal.accumulateAndGet(
                                (System.nanoTime() - started) / 1_000, Math::max);
                          } else {
                            other.add(ar.cause());
                          }
                        }));
          }
          Future.join(answers).onComplete(ar -> all.complete());
        });
    await(all.future(), Duration.ofSeconds(60));
    return new Heard(
        counts.getOrDefault("committed", 0),
        counts.getOrDefault("refused", 0),
        other,
        slowestRefusal.get());
  }

  static long count(int shard, String sql) {
    return databases.get(shard).query(sql).get(0).getLong("n");
  }

  static long logRows() {
    return count(0, "SELECT COUNT(*) AS n FROM " + OPTIONS.txTable());
  }

  static double inFlight() {
    return meters.get("shardkit.tx.in_flight").gauge().value();
  }

  @Test
  void aTccBurstBeyondTheLimitCommitsWhatWasAdmittedAndRefusesTheRestBeforeAnyStep()
      throws Exception {
    Heard heard =
        burst(
            () -> {
              java.util.concurrent.ThreadLocalRandom r =
                  java.util.concurrent.ThreadLocalRandom.current();
              long from = r.nextInt(ACCOUNTS);
              long to = (from + 1 + r.nextInt(ACCOUNTS - 1)) % ACCOUNTS;
              return transactions.<Void>tcc(
                  TransactionOptions.ofTimeout(Duration.ofSeconds(20)),
                  tx -> bank.transfer(tx, from, to, 1 + r.nextInt(9)));
            });
    System.out.printf(
        "overload tcc: %d offered at once, limit %d: %d committed, %d refused (slowest refusal"
            + " %d µs), %d other%n",
        BURST,
        LIMIT,
        heard.committed(),
        heard.refused(),
        heard.slowestRefusalMicros(),
        heard.other().size());
    assertThat(heard.other()).as("no timeout, no rollback: admitted work kept its pace").isEmpty();
    assertThat(heard.refused()).as("newcomers beyond the limit refused").isPositive();
    assertThat(heard.committed()).isGreaterThanOrEqualTo(LIMIT);
    assertThat(heard.committed() + heard.refused()).isEqualTo(BURST);
    // a refused transaction left nothing: one log row per committed transfer, money in place
    assertThat(logRows()).isEqualTo(heard.committed());
    assertThat(Bank.totals(databases)).containsExactly(ACCOUNTS * START_BALANCE, 0, 0);
    assertThat(
            meters
                .get("shardkit.tx.transactions")
                .tags("mode", "tcc", "outcome", "refused")
                .counter()
                .count())
        .isEqualTo(heard.refused());
    assertThat(inFlight()).as("every admission given back").isZero();
    // after the burst, capacity is back: the next transaction is admitted
    await(
        transactions.<Void>tcc(
            TransactionOptions.ofTimeout(Duration.ofSeconds(10)),
            tx -> bank.transfer(tx, 1, 2, 5)));
  }

  @Test
  void aSagaBurstSharesTheLimitAndRefusesBeforeTheFirstStep() throws Exception {
    Heard heard =
        burst(
            () -> {
              java.util.concurrent.ThreadLocalRandom r =
                  java.util.concurrent.ThreadLocalRandom.current();
              long a = r.nextInt(ACCOUNTS);
              long b = (a + 1 + r.nextInt(ACCOUNTS - 1)) % ACCOUNTS;
              long to = r.nextInt(ACCOUNTS);
              return transactions.<Void>saga(
                  TransactionOptions.ofTimeout(Duration.ofSeconds(20)),
                  saga -> SagaBankTest.transfer(saga, sagaBank, a, b, to, 1, false));
            });
    System.out.printf(
        "overload saga: %d offered at once, limit %d: %d committed, %d refused (slowest refusal"
            + " %d µs), %d other%n",
        BURST,
        LIMIT,
        heard.committed(),
        heard.refused(),
        heard.slowestRefusalMicros(),
        heard.other().size());
    assertThat(heard.other()).isEmpty();
    assertThat(heard.refused()).isPositive();
    assertThat(heard.committed() + heard.refused()).isEqualTo(BURST);
    assertThat(logRows()).isEqualTo(heard.committed());
    // three journal rows (two debits, one deposit) per committed saga, none for a refused one
    long journal =
        count(0, "SELECT COUNT(*) AS n FROM saga_journal")
            + count(1, "SELECT COUNT(*) AS n FROM saga_journal");
    assertThat(journal).isEqualTo(3L * heard.committed());
    assertThat(Bank.totals(databases)[0]).isEqualTo(ACCOUNTS * START_BALANCE);
    assertThat(inFlight()).isZero();
  }

  @Test
  void theLimitIsConfiguredByNameAndChecked() {
    assertThat(TccOptions.fromJson(new JsonObject().put("maxInFlight", 32)).maxInFlight())
        .isEqualTo(32);
    assertThat(TccOptions.defaults().maxInFlight()).isEqualTo(TccOptions.DEFAULT_MAX_IN_FLIGHT);
    assertThat(OPTIONS.toJson().getInteger("maxInFlight")).isEqualTo(LIMIT);
    assertThatThrownBy(() -> TccOptions.fromJson(new JsonObject().put("maxInFlight", 0)))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("maxInFlight");
    assertThatThrownBy(() -> TccOptions.builder().maxInFlight(-1))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("maxInFlight");
  }
}
