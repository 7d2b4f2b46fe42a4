package io.shardkit.tx.impl;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardkit.tx.TransactionOverloadedException;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.sqlclient.SqlConnection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The admission of new transactions (pure logic, real clock, no database): the count limit, and the
 * limits judged on each data source's queueing delay.
 */
class AdmissionTest {

  static Admission admission(Duration target) {
    return new Admission(
        100,
        target,
        java.util.Map.of("ds_a", 2, "ds_b", 2),
        new SimpleMeterRegistry(),
        "xa",
        "test",
        "XA",
        "TransactionsOptions");
  }

  /** Takes a connection of {@code ds} that the pool hands over after {@code millis}. */
  static void waitFor(Admission admission, String ds, long millis) throws Exception {
    Promise<SqlConnection> handed = Promise.promise();
    Future<SqlConnection> got = admission.connect(ds, handed::future, false);
    Thread.sleep(millis);
    handed.complete(null);
    assertThat(got.succeeded()).isTrue();
  }

  @Test
  void theCountLimitAloneWhenNoTargetIsSet() {
    Admission admission = admission(Duration.ZERO);
    for (int i = 0; i < 100; i++) {
      assertThat(admission.tryAcquire()).isTrue();
    }
    assertThat(admission.tryAcquire()).isFalse();
    TransactionOverloadedException refusal = admission.refusal();
    assertThat(refusal.queueing()).isFalse();
    assertThat(refusal).hasMessageContaining("TransactionsOptions.maxInFlight");
    admission.release();
    assertThat(admission.tryAcquire()).isTrue();
  }

  @Test
  void aStandingQueueOnOneDataSourceLowersTheLimitAndNamesItThenTheLimitGrowsBack()
      throws Exception {
    Admission admission = admission(Duration.ofMillis(10));
    for (int i = 0; i < 10; i++) {
      assertThat(admission.tryAcquire()).isTrue();
    }
    // every step on ds_a waits 30 ms (3x the target) over a whole interval; ds_b's are immediate
    long until = System.nanoTime() + Admission.INTERVAL.toNanos() + 20_000_000L;
    while (System.nanoTime() < until) {
      waitFor(admission, "ds_a", 30);
      waitFor(admission, "ds_b", 0);
    }
    // judged at the next look: 10 in flight, cut to about 10 x 10 / 30
    assertThat(admission.currentLimit()).isBetween(2, 9);
    assertThat(admission.tryAcquire()).as("a newcomer while ds_a queues").isFalse();
    TransactionOverloadedException refusal = admission.refusal();
    assertThat(refusal.queueing()).isTrue();
    assertThat(refusal)
        .hasMessageContaining("on 'ds_a'")
        .hasMessageContaining("TransactionsOptions.queueDelayTarget")
        .hasMessageContaining("retry later");
    // the admitted ones end; quiet intervals double the limit back to the count
    for (int i = 0; i < 10; i++) {
      admission.release();
    }
    Thread.sleep(10 * Admission.INTERVAL.toMillis());
    assertThat(admission.currentLimit()).isEqualTo(100);
    assertThat(admission.tryAcquire()).isTrue();
  }

  @Test
  void shortWaitsOnEveryDataSourceKeepTheCount() throws Exception {
    // judged on an attempt whose waits were all short: on a loaded machine this thread may be
    // descheduled inside a wait for longer than the target, and the waits are then not short
    for (int attempt = 1; ; attempt++) {
      Admission admission = admission(Duration.ofMillis(10));
      List<Boolean> admitted = new ArrayList<>();
      for (int i = 0; i < 50; i++) {
        admitted.add(admission.tryAcquire());
      }
      long longest = 0;
      long until = System.nanoTime() + 2 * Admission.INTERVAL.toNanos();
      while (System.nanoTime() < until) {
        long start = System.nanoTime();
        waitFor(admission, "ds_a", 0); // handed over at once
        waitFor(admission, "ds_b", 0);
        longest = Math.max(longest, System.nanoTime() - start);
      }
      if (longest > Duration.ofMillis(5).toNanos() && attempt < 5) {
        continue;
      }
      assertThat(Set.copyOf(admitted)).containsExactly(true);
      assertThat(admission.currentLimit()).isEqualTo(100);
      assertThat(admission.inFlight()).isEqualTo(50);
      return;
    }
  }

  @Test
  void stepsQueuedAndNoneServedForAnIntervalLetNoNewcomerIn() throws Exception {
    Admission admission = admission(Duration.ofMillis(10));
    for (int i = 0; i < 10; i++) {
      assertThat(admission.tryAcquire()).isTrue();
    }
    // each admitted transaction's first step queues on ds_a behind others; none is served
    List<Promise<SqlConnection>> pending = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      Promise<SqlConnection> handed = Promise.promise();
      pending.add(handed);
      admission.connect("ds_a", handed::future, false);
    }
    Thread.sleep(Admission.INTERVAL.toMillis() + 20);
    assertThat(admission.currentLimit()).as("no more than are in").isEqualTo(10);
    assertThat(admission.tryAcquire()).isFalse();
    assertThat(admission.refusal().queueing()).isTrue();
    // the same with only connections being set up awaited: undecided, the count stands
    Admission cold = admission(Duration.ofMillis(10));
    for (int i = 0; i < 10; i++) {
      assertThat(cold.tryAcquire()).isTrue();
      cold.connect("ds_a", Promise.<SqlConnection>promise()::future, true);
    }
    Thread.sleep(Admission.INTERVAL.toMillis() + 20);
    assertThat(cold.currentLimit()).isEqualTo(100);
    assertThat(cold.tryAcquire()).isTrue();
    pending.forEach(p -> p.complete(null));
  }

  @Test
  void aWaitForAConnectionBeingSetUpIsNoQueue() throws Exception {
    Admission admission = admission(Duration.ofMillis(10));
    for (int i = 0; i < 10; i++) {
      assertThat(admission.tryAcquire()).isTrue();
    }
    // every request came while the pool had room for another connection: set-ups, not a queue
    long until = System.nanoTime() + Admission.INTERVAL.toNanos() + 20_000_000L;
    while (System.nanoTime() < until) {
      Promise<SqlConnection> handed = Promise.promise();
      Future<SqlConnection> got = admission.connect("ds_a", handed::future, true);
      Thread.sleep(30);
      handed.complete(null);
      assertThat(got.succeeded()).isTrue();
    }
    assertThat(admission.currentLimit()).isEqualTo(100);
  }
}
