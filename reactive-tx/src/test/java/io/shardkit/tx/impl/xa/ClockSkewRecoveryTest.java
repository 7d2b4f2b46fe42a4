package io.shardkit.tx.impl.xa;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardkit.testkit.ShardDatabases;
import io.shardkit.testkit.Shards;
import io.shardkit.tx.TransactionOutcomePendingException.Decision;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Tuple;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Deadlines a skewed clock cannot break (issue 21): instance A, on this JVM's true clock, prepares
 * an XA transfer and holds it before writing its COMMIT decision, inside its 60 s deadline, until
 * instance B, which runs XA recovery every 200 ms in another JVM whose wall clock libfaketime
 * shifts an hour ahead and makes run five times fast, has passed over the branches twice. B finds
 * A's prepared branches with no decision. Judged by B's own clock the deadline in their xids has
 * long passed and B would write ABORT, so that A's COMMIT loses and its caller hears "rolled back"
 * before the deadline; judged on the coordinator log server's clock, on which A stamped it, it has
 * not: B leaves them alone, A commits.
 *
 * <p>Needs libfaketime ({@code apt-get install faketime}; {@code .ci/run} installs it).
 */
@Shards(2)
class ClockSkewRecoveryTest {

  static final Path FAKETIME = Path.of("/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1");

  @ParameterizedTest(name = "B''s clock: faketime \"{0}\"")
  // shifted an hour ahead and running five times fast, in one run (each JVM under libfaketime
  // costs ~20 s on a loaded 2-core machine); "+1h" and "+0 x10" apart passed too
  @ValueSource(strings = {"+1h x5"})
  void recoveryOnASkewedClockLeavesALiveTransactionAlone(String faketime, ShardDatabases dbs)
      throws Exception {
    assertThat(FAKETIME)
        .as("libfaketime is needed for this test: apt-get install faketime")
        .exists();
    dbs.executeOnAll("DROP TABLE IF EXISTS account", XaFixture.ACCOUNT_DDL);
    dbs.get(0).execute("INSERT INTO account VALUES (0, 100)");
    dbs.get(1).execute("INSERT INTO account VALUES (1, 100)");
    try (XaFixture a = new XaFixture(dbs, XaFixture.options(), 4)) {
      XaFixture.await(a.transactions.installSchema());
      XaFixture.await(a.transactions.warmUp());
      Process b = startB(dbs, faketime);
      List<String> heard = new CopyOnWriteArrayList<>();
      CountDownLatch recovering = new CountDownLatch(1);
      AtomicInteger passes = new AtomicInteger();
      Thread out =
          new Thread(
              () -> {
                try (BufferedReader r =
                    new BufferedReader(
                        new InputStreamReader(b.getInputStream(), StandardCharsets.UTF_8))) {
                  for (String line; (line = r.readLine()) != null; ) {
                    heard.add(line);
                    if (line.equals("recovering")) {
                      recovering.countDown();
                    } else if (line.startsWith("pass ")) {
                      passes.incrementAndGet();
                    }
                  }
                } catch (java.io.IOException ignored) {
                  // B ended
                }
              });
      out.setDaemon(true);
      out.start();
      try {
        assertThat(recovering.await(90, TimeUnit.SECONDS)).as("B started: %s", heard).isTrue();
        long bClock = Long.parseLong(heard.get(0).substring("clock ".length()));
        System.out.printf(
            "clock skew (%s): B's clock %+d ms from A's at B's start%n",
            faketime, bClock - System.currentTimeMillis());

        long waitUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (passes.get() == 0 && System.nanoTime() < waitUntil) {
          Thread.sleep(50);
        }
        assertThat(passes.get()).as("B's recovery passes: %s", heard).isPositive();
        int passesBefore = passes.get();
        int[] passesDuringHold = new int[1];
        a.tx.beforeDecision(
            gid -> {
              // hold the prepared, undecided branches until B's recovery has passed over them
              // twice (at most 30 s, well inside the 60 s deadline)
              Promise<Void> held = Promise.promise();
              int from = passes.get();
              long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
              a.vertx.setPeriodic(
                  100,
                  t -> {
                    if (passes.get() - from >= 2 || System.nanoTime() > until) {
                      a.vertx.cancelTimer(t);
                      passesDuringHold[0] = passes.get() - from;
                      held.complete();
                    }
                  });
              return held.future();
            });
        String[] gid = new String[1];
        Future<Void> transfer =
            a.pool.withTransaction(
                Duration.ofSeconds(60),
                conn -> {
                  gid[0] = io.shardkit.context.TxScope.current().orElseThrow().globalId();
                  return conn.preparedQuery("UPDATE account SET balance = balance - 1 WHERE id = ?")
                      .execute(Tuple.of(0))
                      .compose(
                          v ->
                              conn.preparedQuery(
                                      "UPDATE account SET balance = balance + 1 WHERE id = ?")
                                  .execute(Tuple.of(1)))
                      .mapEmpty();
                });
        XaFixture.await(transfer); // before the fix: rolled back, "recovery decided ABORT first"
        a.tx.beforeDecision((java.util.function.Function<String, Future<Void>>) null);
        System.out.printf(
            "clock skew (%s): %d recovery passes of B while A held its prepared branches, %d"
                + " before; B said %s%n",
            faketime, passesDuringHold[0], passesBefore, heard);
        assertThat(passesDuringHold[0])
            .as("B's recovery ran while the branches were prepared and undecided")
            .isGreaterThanOrEqualTo(2);
        assertThat(heard)
            .as("B found the prepared branches and left them in doubt")
            .anyMatch(l -> l.startsWith("pass inDoubt=") && !l.startsWith("pass inDoubt=0 "));
        assertThat(heard).noneMatch(l -> l.startsWith("pass ") && !l.contains("aborts=0 "));
        assertThat(XaFixture.await(a.tx.decision(gid[0]))).isEqualTo(Optional.of(Decision.COMMIT));
        assertThat(dbs.get(0).query("SELECT balance FROM account WHERE id = 0").get(0))
            .isEqualTo(new JsonObject().put("balance", 99));
        assertThat(dbs.get(1).query("SELECT balance FROM account WHERE id = 1").get(0))
            .isEqualTo(new JsonObject().put("balance", 101));
      } finally {
        b.getOutputStream().close();
        if (!b.waitFor(20, TimeUnit.SECONDS)) {
          b.destroyForcibly();
        }
      }
    }
  }

  private static Process startB(ShardDatabases dbs, String faketime) throws Exception {
    ProcessBuilder builder =
        XaFixture.childJvm(SkewedRecoveryMain.class, List.of(XaFixture.dataSourcesJson(dbs)));
    builder.environment().put("LD_PRELOAD", FAKETIME.toString());
    builder.environment().put("FAKETIME", faketime);
    builder.environment().put("FAKETIME_DONT_FAKE_MONOTONIC", "1");
    builder.environment().put("FAKETIME_NO_CACHE", "1");
    return builder.start();
  }
}
