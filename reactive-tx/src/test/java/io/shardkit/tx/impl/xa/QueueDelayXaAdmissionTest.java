package io.shardkit.tx.impl.xa;

import static io.shardkit.tx.impl.xa.XaFixture.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardkit.context.junit.LeakGuardExtension;
import io.shardkit.testkit.ShardDatabases;
import io.shardkit.testkit.Shards;
import io.shardkit.tx.FixedRateOffer;
import io.shardkit.tx.FixedRateOffer.Heard;
import io.shardkit.tx.TransactionOptions;
import io.shardkit.tx.TransactionOverloadedException;
import io.shardkit.tx.TransactionsOptions;
import io.vertx.core.Future;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Admission of new XA transactions judged on queueing delay ({@link
 * TransactionsOptions#queueDelayTarget()}), on two real shards with 4 connections each, offered
 * transfers at a fixed rate two to four times what they can serve (each holds a connection of both
 * shards for 40 ms of {@code SLEEP}: at most 100 per second), each with a deadline of 2 s or 40
 * times a transfer's own time ({@link #deadline}).
 *
 * <p>With the count limit alone (256 in flight) the admitted transactions queue for connections
 * until their deadline passes: the failure this admission exists for, shown by the same load with
 * the target off. With the target, the limit falls while every step waits, newcomers are refused at
 * once (typed, naming the setting), every admitted transaction commits in time, and the limit grows
 * back to the count once the load is gone.
 */
@Shards(2)
@ExtendWith(LeakGuardExtension.class)
class QueueDelayXaAdmissionTest {

  static final int ACCOUNTS = 40;
  static final long START_BALANCE = 1_000;
  static final int POOL = 4;
  static final Duration OFFERED_FOR = Duration.ofSeconds(3);
  static final long EVERY_MILLIS = 5; // ~200 offered per second: 2-4x what is served

  /**
   * Offers a transfer every {@link #EVERY_MILLIS} for {@link #OFFERED_FOR} (each with the {@link
   * #deadline}) and waits for every answer; samples the admission limit gauge meanwhile.
   */
  static Heard offer(XaFixture fx, SimpleMeterRegistry meters, Duration deadline) throws Exception {
    TransactionOptions timeout = TransactionOptions.ofTimeout(deadline);
    return FixedRateOffer.offer(
        fx.vertx,
        OFFERED_FOR,
        EVERY_MILLIS,
        i -> {
          long from = 1 + 2L * (i % (ACCOUNTS / 2)); // odd: ds_1
          long to = 2 + 2L * ((i * 7) % (ACCOUNTS / 2)); // even: ds_0
          return fx.transactions.xaResult(timeout, sql -> slowTransfer(sql, from, to));
        },
        () -> limit(meters));
  }

  /**
   * Each offered transfer's deadline: 2 s, or 40 times a transfer's own time on this machine now
   * (the median of 5 run one after another, after 3 that warm up) when that is longer. The claim is
   * relative to a transfer's own time: on a machine so starved that one transfer takes 200 ms
   * instead of 50, the 8 the limit keeps in flight at its floor take 2 s to pass, and no admission
   * can keep a fixed 2 s; the count limit alone still leaves its 256 in flight waiting about 64
   * times that.
   */
  static Duration deadline(XaFixture fx) throws Exception {
    long[] took = new long[8];
    for (int i = 0; i < took.length; i++) {
      long start = System.nanoTime();
      await(
          fx.transactions.xaResult(
              TransactionOptions.ofTimeout(Duration.ofSeconds(10)),
              sql -> slowTransfer(sql, 1, 2)));
      took[i] = System.nanoTime() - start;
    }
    long[] measured = java.util.Arrays.copyOfRange(took, 3, took.length);
    java.util.Arrays.sort(measured);
    Duration own = Duration.ofNanos(measured[measured.length / 2]);
    Duration deadline = own.multipliedBy(40);
    Duration chosen =
        deadline.compareTo(Duration.ofSeconds(2)) > 0 ? deadline : Duration.ofSeconds(2);
    System.out.printf(
        "a transfer's own time %d ms: deadline %d ms%n", own.toMillis(), chosen.toMillis());
    return chosen;
  }

  /** Debits {@code from} (ds_1), holds both shards' connections 40 ms, credits {@code to}. */
  static Future<Void> slowTransfer(io.vertx.sqlclient.SqlClient sql, long from, long to) {
    return sql.preparedQuery("UPDATE account SET balance = balance - 1 WHERE id = ?")
        .execute(Tuple.of(from))
        .compose(
            rs ->
                sql.preparedQuery("UPDATE account SET balance = balance + 1 WHERE id = ?")
                    .execute(Tuple.of(to)))
        .compose(
            rs ->
                sql.preparedQuery("SELECT SLEEP(0.04) FROM account WHERE id = ?")
                    .execute(Tuple.of(to)))
        .mapEmpty();
  }

  static double limit(SimpleMeterRegistry meters) {
    var gauge = meters.find("shardkit.tx.admission.limit").tag("mode", "xa").gauge();
    return gauge == null ? TransactionsOptions.DEFAULT_MAX_IN_FLIGHT : gauge.value();
  }

  static XaFixture fixture(ShardDatabases dbs, SimpleMeterRegistry meters, Duration target)
      throws Exception {
    dbs.executeOnAll(
        "DROP TABLE IF EXISTS account",
        "DROP TABLE IF EXISTS transfer",
        "DROP TABLE IF EXISTS t_config");
    XaFixture.createTables(dbs);
    XaFixture fx =
        new XaFixture(
            dbs, XaFixture.options().meterRegistry(meters).queueDelayTarget(target), POOL);
    await(fx.transactions.installSchema());
    fx.resetAccounts(ACCOUNTS, START_BALANCE);
    return fx;
  }

  @Test
  void withTheTargetNewcomersAreRefusedWhileStepsQueueAndEveryAdmittedOneCommitsInTime(
      ShardDatabases dbs) throws Exception {
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    try (XaFixture fx = fixture(dbs, meters, Duration.ofMillis(10))) {
      Heard heard = offer(fx, meters, deadline(fx));
      long queueing = heard.refusedByQueueing();
      System.out.printf(
          "xa admission on queueing delay: %d committed, %d refused (%d by queueing), %d failed,"
              + " lowest limit %.0f%n",
          heard.committed(),
          heard.refused().size(),
          queueing,
          heard.failed().size(),
          heard.lowestLimit());
      assertThat(heard.failed()).as("no admitted transaction ran out of time").isEmpty();
      assertThat(queueing).as("newcomers refused while the steps queued").isPositive();
      assertThat(heard.lowestLimit())
          .as("the limit fell below the count while every step waited")
          .isLessThan(TransactionsOptions.DEFAULT_MAX_IN_FLIGHT);
      assertThat(heard.refused().stream().filter(r -> r.queueing()).findFirst().orElseThrow())
          .hasMessageContaining("new XA transaction refused before its first step")
          .hasMessageContaining("TransactionsOptions.queueDelayTarget")
          .hasMessageContaining("retry later");
      assertThat(heard.committed()).isPositive();
      assertThat(fx.totalBalance()).isEqualTo(ACCOUNTS * START_BALANCE);
      assertThat(fx.preparedBranchesEverywhere()).isZero();
      // with the load gone the limit grows back (doubling per quiet 100 ms interval)
      long until = System.nanoTime() + 5_000_000_000L;
      while (limit(meters) < TransactionsOptions.DEFAULT_MAX_IN_FLIGHT
          && System.nanoTime() < until) {
        Thread.sleep(50);
      }
      assertThat(limit(meters)).isEqualTo(TransactionsOptions.DEFAULT_MAX_IN_FLIGHT);
      await(
          fx.transactions.xaResult(
              TransactionOptions.ofTimeout(Duration.ofSeconds(5)), sql -> slowTransfer(sql, 1, 2)));
    }
  }

  @Test
  void withTheCountLimitAloneTheSameLoadQueuesAdmittedTransactionsPastTheirDeadline(
      ShardDatabases dbs) throws Exception {
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    try (XaFixture fx = fixture(dbs, meters, Duration.ZERO)) {
      Heard heard = offer(fx, meters, deadline(fx));
      System.out.printf(
          "xa admission by count only: %d committed, %d refused, %d failed%n",
          heard.committed(), heard.refused().size(), heard.failed().size());
      assertThat(heard.refused()).noneMatch(TransactionOverloadedException::queueing);
      assertThat(heard.failed())
          .as("admitted transactions that waited for connections past their deadline")
          .isNotEmpty();
      assertThat(fx.totalBalance()).isEqualTo(ACCOUNTS * START_BALANCE);
    }
  }
}
