package io.shardkit.tx.impl.xa;

import static io.shardkit.tx.impl.xa.XaFixture.await;
import static io.shardkit.tx.impl.xa.XaFixture.transfer;
import static org.assertj.core.api.Assertions.assertThat;

import io.shardkit.context.ShardkitTimeoutException;
import io.shardkit.context.junit.LeakGuardExtension;
import io.shardkit.testkit.Shard;
import io.shardkit.testkit.ShardDatabases;
import io.shardkit.testkit.Shards;
import io.shardkit.tx.TransactionOutcomePendingException;
import io.shardkit.tx.TransactionOutcomeUnknownException;
import io.shardkit.tx.TransactionRolledBackException;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The bank: 4 shards, 1,000 accounts, 32 concurrent transfer loops for {@code
 * shardkit.bank.seconds} (12 s in {@code mvn verify}, 60 s in {@code mvn verify -Psoak}), while one
 * shard is killed (kill -9) and restarted and another is frozen (SIGSTOP) and resumed. Recovery
 * runs in the background as in an app. Afterwards, with recovery finished: the total is conserved,
 * every transfer the caller saw committed (or committed but pending) is applied on both of its
 * accounts, every one it saw rolled back is applied on neither, no transfer is half-applied, each
 * balance equals its start plus its applied transfer rows, and no shard holds a shardkit branch in
 * XA RECOVER.
 */
@Shards(4)
@ExtendWith(LeakGuardExtension.class)
class XaBankTest {

  static final int ACCOUNTS = 1_000;
  static final long START_BALANCE = 1_000;
  static final int LOOPS = 32;

  enum Seen {
    COMMITTED,
    PENDING,
    ROLLED_BACK,
    TIMED_OUT,
    UNKNOWN
  }

  @Test
  void transfersStayAtomicThroughKillAndPause(ShardDatabases dbs) throws Exception {
    long seconds = Long.getLong("shardkit.bank.seconds", 60);
    XaFixture.createTables(dbs);
    try (XaFixture fx =
        new XaFixture(
            dbs,
            XaFixture.options()
                .recoveryGrace(Duration.ofSeconds(1))
                .recoveryInterval(Duration.ofSeconds(1))
                .logRetention(Duration.ofHours(1)),
            16)) {
      await(fx.transactions.installSchema());
      fx.resetAccounts(ACCOUNTS, START_BALANCE);
      await(fx.tx.recovery().start());

      Map<String, Seen> seen = new ConcurrentHashMap<>();
      AtomicInteger inFlight = new AtomicInteger();
      long stopAt = System.nanoTime() + seconds * 1_000_000_000L;
      Promise<Void> allDone = Promise.promise();
      AtomicInteger loopsLeft = new AtomicInteger(LOOPS);
      for (int loop = 0; loop < LOOPS; loop++) {
        SplittableRandom random = new SplittableRandom(loop);
        int loopId = loop;
        fx.vertx.runOnContext(
            v -> loop(fx, random, loopId, new int[1], stopAt, seen, inFlight, loopsLeft, allDone));
      }

      Shard killed = dbs.get(2).shard();
      Shard frozen = dbs.get(3).shard();
      long phase = seconds * 1000 / 6;
      Thread.sleep(phase);
      killed.kill();
      Thread.sleep(phase);
      killed.start();
      Thread.sleep(phase);
      frozen.pause();
      Thread.sleep(Math.min(phase, 5_000));
      frozen.resume();
      await(allDone.future());

      // Let recovery finish what the faults left behind (deadline + grace of the last ones).
      long until = System.nanoTime() + 60_000_000_000L;
      while (fx.preparedBranchesEverywhere() > 0 && System.nanoTime() < until) {
        Thread.sleep(500);
      }
      await(fx.tx.recovery().stop());
      await(fx.tx.recovery().runOnce());

      Map<Seen, Integer> counts = new EnumMap<>(Seen.class);
      seen.values().forEach(s -> counts.merge(s, 1, Integer::sum));
      System.out.printf(
          "bank: %d s, %d transfers: committed=%d, committed-pending=%d, rolled back=%d,"
              + " timed out (rolled back)=%d, unknown=%d%n",
          seconds,
          seen.size(),
          counts.getOrDefault(Seen.COMMITTED, 0),
          counts.getOrDefault(Seen.PENDING, 0),
          counts.getOrDefault(Seen.ROLLED_BACK, 0),
          counts.getOrDefault(Seen.TIMED_OUT, 0),
          counts.getOrDefault(Seen.UNKNOWN, 0));

      assertThat(fx.preparedBranchesEverywhere()).as("shardkit branches in XA RECOVER").isZero();
      assertThat(fx.totalBalance()).isEqualTo(ACCOUNTS * START_BALANCE);

      Map<String, Integer> rowsPerTransfer = new HashMap<>();
      Map<Long, Long> deltaPerAccount = new HashMap<>();
      for (int i = 0; i < 4; i++) {
        for (JsonObject row : dbs.get(i).query("SELECT tid, account, delta FROM transfer")) {
          rowsPerTransfer.merge(row.getString("tid"), 1, Integer::sum);
          deltaPerAccount.merge(row.getLong("account"), row.getLong("delta"), Long::sum);
        }
      }
      for (Map.Entry<String, Seen> e : seen.entrySet()) {
        int actualRows = rowsPerTransfer.getOrDefault(e.getKey(), 0);
        switch (e.getValue()) {
          case COMMITTED, PENDING ->
              assertThat(actualRows)
                  .as("applied rows of %s %s", e.getValue(), e.getKey())
                  .isEqualTo(2);
          case ROLLED_BACK, TIMED_OUT ->
              assertThat(actualRows).as("applied rows of %s %s", e.getValue(), e.getKey()).isZero();
          case UNKNOWN ->
              assertThat(actualRows).as("applied rows of unknown %s", e.getKey()).isIn(0, 2);
        }
      }
      assertThat(rowsPerTransfer.keySet()).allSatisfy(tid -> assertThat(seen).containsKey(tid));
      for (long id = 1; id <= ACCOUNTS; id++) {
        assertThat(fx.balance(id))
            .as("balance of account %d", id)
            .isEqualTo(START_BALANCE + deltaPerAccount.getOrDefault(id, 0L));
      }
      assertThat(counts.getOrDefault(Seen.COMMITTED, 0))
          .as("transfers committed across the faults")
          .isGreaterThan(200);
      assertThat(counts.getOrDefault(Seen.ROLLED_BACK, 0) + counts.getOrDefault(Seen.TIMED_OUT, 0))
          .as("the faults made some transfers fail")
          .isPositive();
      // the checker, from the data alone: broadcast copies equal, no branch in doubt
      io.shardkit.tx.check.CheckAfterRun.assertConsistent(
          fx.vertx,
          fx.pool,
          XaFixture.options()
              .recoveryGrace(Duration.ofSeconds(1))
              .recoveryInterval(Duration.ofSeconds(1))
              .logRetention(Duration.ofHours(1))
              .build());
    }
  }

  private static void loop(
      XaFixture fx,
      SplittableRandom random,
      int loopId,
      int[] n,
      long stopAt,
      Map<String, Seen> seen,
      AtomicInteger inFlight,
      AtomicInteger loopsLeft,
      Promise<Void> allDone) {
    if (System.nanoTime() - stopAt >= 0) {
      if (loopsLeft.decrementAndGet() == 0) {
        allDone.complete();
      }
      return;
    }
    long from = 1 + random.nextInt(ACCOUNTS);
    long to = 1 + random.nextInt(ACCOUNTS - 1);
    if (to >= from) {
      to++;
    }
    long amount = 1 + random.nextInt(50);
    String tid = "L" + loopId + "-" + n[0]++;
    long target = to;
    Future<Void> f =
        fx.pool.withTransaction(
            Duration.ofSeconds(2), sql -> transfer(sql, tid, from, target, amount));
    f.onComplete(
        ar -> {
          seen.put(tid, classify(ar.succeeded() ? null : ar.cause()));
          // Back off a little after a failure, as a client would.
          long delay = ar.succeeded() ? 0 : 20;
          if (delay == 0) {
            loop(fx, random, loopId, n, stopAt, seen, inFlight, loopsLeft, allDone);
          } else {
            fx.vertx.setTimer(
                delay,
                id -> loop(fx, random, loopId, n, stopAt, seen, inFlight, loopsLeft, allDone));
          }
        });
  }

  static Seen classify(Throwable failure) {
    if (failure == null) {
      return Seen.COMMITTED;
    }
    if (failure instanceof TransactionOutcomePendingException pending) {
      return pending.decision() == TransactionOutcomePendingException.Decision.COMMIT
          ? Seen.PENDING
          : Seen.ROLLED_BACK;
    }
    if (failure instanceof TransactionRolledBackException) {
      return Seen.ROLLED_BACK;
    }
    if (failure instanceof ShardkitTimeoutException t) {
      return t.getCause() instanceof TransactionOutcomeUnknownException
          ? Seen.UNKNOWN
          : Seen.TIMED_OUT;
    }
    if (failure instanceof TransactionOutcomeUnknownException) {
      return Seen.UNKNOWN;
    }
    if (failure instanceof Error) {
      throw new AssertionError("unexpected failure type", failure);
    }
    // a statement of the work failed (shard killed, paused, lock wait...) and the work returned
    // that failure: as Pool.withTransaction, the transaction was rolled back before any commit
    return Seen.ROLLED_BACK;
  }
}
