package io.shardkit.tx.tcc;

import static io.shardkit.tx.tcc.TccTestSupport.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardkit.context.junit.LeakGuardExtension;
import io.shardkit.router.ShardedPool;
import io.shardkit.testkit.Shard;
import io.shardkit.testkit.ShardDatabases;
import io.shardkit.testkit.Shards;
import io.shardkit.tx.TccOptions;
import io.shardkit.tx.TccOutcomeUnknownException;
import io.shardkit.tx.TransactionOptions;
import io.shardkit.tx.TransactionOutcomePendingException;
import io.shardkit.tx.TransactionRolledBackException;
import io.shardkit.tx.Transactions;
import io.shardkit.tx.TransactionsOptions;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.PoolOptions;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The TCC bank: 4 shards, 1,000 accounts, 32 concurrent transfer loops for {@link #RUN}, each
 * transfer a debit (freeze on try, apply on confirm, unfreeze on cancel) and a credit on random
 * accounts. One shard is killed (SIGKILL) and restarted, another paused (SIGSTOP) and resumed
 * during the run; recovery runs throughout. Afterwards, once recovery has finished everything: the
 * money is conserved (balances sum to the start, nothing frozen or incoming), no fence row is left
 * with a try and nothing after it, and every transaction ended as its caller was told (committed →
 * COMMITTED, rolled back → CANCELLED, pending → its decision).
 */
@Shards(4)
@ExtendWith(LeakGuardExtension.class)
class TccBankTest {

  static final int ACCOUNTS = 1_000;
  static final long START_BALANCE = 1_000;
  static final int LOOPS = 32;

  /**
   * How long the transfer loops run: {@code shardkit.bank.seconds}, 12 s in {@code mvn verify} and
   * 60 s in the soak profile ({@code mvn verify -Psoak}). The faults are placed at the same
   * fractions of the run whatever its length.
   */
  static final Duration RUN = Duration.ofSeconds(Long.getLong("shardkit.bank.seconds", 60));

  enum Outcome {
    COMMITTED,
    ROLLED_BACK,
    PENDING_COMMIT,
    PENDING_ROLLBACK,
    UNKNOWN,
    OTHER
  }

  @Test
  void moneyIsConservedAcrossKillsPausesAndRecovery(ShardDatabases databases) throws Exception {
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    TccOptions options =
        TccOptions.builder()
            .tablePrefix("bank_t")
            .logDataSource("ds_0")
            .phaseTimeout(Duration.ofSeconds(2))
            .completionTimeout(Duration.ofSeconds(6))
            .recoveryInterval(Duration.ofSeconds(1))
            .recoveryGrace(Duration.ofSeconds(1))
            .recoveryLease(Duration.ofSeconds(10))
            .retryInitialDelay(Duration.ofMillis(50))
            .retryMaxDelay(Duration.ofSeconds(1))
            .meterRegistry(meters)
            .build();
    Bank.reset(databases, options);
    Bank.open(databases, ACCOUNTS, START_BALANCE);
    Vertx vertx = TccTestSupport.vertx();
    ShardedPool pool =
        ShardedPool.builder(vertx)
            .rules(TccTestSupport.rules(4))
            .dataSources(databases.dataSources("ds_"), new PoolOptions().setMaxSize(24))
            .build();
    TccTestSupport.warmUp(pool);
    Bank bank = new Bank();
    Transactions coordinator =
        Transactions.create(vertx, pool, TransactionsOptions.builder("ds_0").tcc(options).build());
    coordinator.register(bank.debit).register(bank.credit);
    await(coordinator.installSchema());
    await(coordinator.startRecovery());

    Map<String, Outcome> outcomes = new ConcurrentHashMap<>();
    Map<Outcome, Integer> counts = new ConcurrentHashMap<>();
    AtomicBoolean stop = new AtomicBoolean();
    Promise<Void>[] loopsDone = newPromises(LOOPS);
    for (int i = 0; i < LOOPS; i++) {
      int loop = i;
      vertx.runOnContext(
          v -> transferLoop(coordinator, bank, stop, outcomes, counts, loopsDone[loop]));
    }

    Shard killed = databases.get(1).shard();
    Shard paused = databases.get(2).shard();
    long start = System.nanoTime();
    sleepUntil(start, RUN.multipliedBy(12).dividedBy(62));
    System.out.println("bank: kill shard 1 at " + elapsed(start));
    killed.kill();
    sleepUntil(start, RUN.multipliedBy(20).dividedBy(62));
    killed.start();
    System.out.println("bank: shard 1 restarted at " + elapsed(start));
    sleepUntil(start, RUN.multipliedBy(32).dividedBy(62));
    System.out.println("bank: pause shard 2 at " + elapsed(start));
    paused.pause();
    sleepUntil(start, RUN.multipliedBy(40).dividedBy(62));
    paused.resume();
    System.out.println("bank: shard 2 resumed at " + elapsed(start));
    sleepUntil(start, RUN);
    stop.set(true);
    for (Promise<Void> p : loopsDone) {
      await(p.future(), Duration.ofSeconds(60));
    }
    System.out.println("bank: loops stopped at " + elapsed(start) + ", outcomes " + counts);

    boolean settled =
        TccTestSupport.eventually(
            Duration.ofSeconds(90), () -> openTransactions(databases, options) == 0);
    await(coordinator.stopRecovery());
    System.out.println("bank: recovery settled at " + elapsed(start) + ": " + settled);
    printMeters(meters);

    long[] totals = Bank.totals(databases);
    int tryOnly = tryOnlyFenceRows(databases, options);
    Map<String, Integer> finalStates = finalStates(databases, options);
    Map<Outcome, Set<String>> byOutcome =
        outcomes.entrySet().stream()
            .collect(
                Collectors.groupingBy(
                    Map.Entry::getValue,
                    Collectors.mapping(Map.Entry::getKey, Collectors.toSet())));
    System.out.printf(
        "bank: %d transfers: committed %d, rolled back %d, pending commit %d, pending rollback"
            + " %d, unknown %d, other %d; totals balance=%d frozen=%d incoming=%d;"
            + " try-only fence rows %d%n",
        outcomes.size(),
        counts.getOrDefault(Outcome.COMMITTED, 0),
        counts.getOrDefault(Outcome.ROLLED_BACK, 0),
        counts.getOrDefault(Outcome.PENDING_COMMIT, 0),
        counts.getOrDefault(Outcome.PENDING_ROLLBACK, 0),
        counts.getOrDefault(Outcome.UNKNOWN, 0),
        counts.getOrDefault(Outcome.OTHER, 0),
        totals[0],
        totals[1],
        totals[2],
        tryOnly);

    if (totals[1] != 0 || totals[2] != 0) {
      diagnose(databases, options);
    }
    assertThat(settled).as("every transaction finished after recovery").isTrue();
    assertThat(totals).containsExactly(ACCOUNTS * START_BALANCE, 0, 0);
    assertThat(tryOnly).isZero();
    assertThat(counts.getOrDefault(Outcome.COMMITTED, 0))
        .as("transfers committed across the faults")
        .isGreaterThan(200);
    assertThat(counts.getOrDefault(Outcome.OTHER, 0)).isZero();
    for (String gid : byOutcome.getOrDefault(Outcome.COMMITTED, Set.of())) {
      assertThat(finalStates.get(gid)).as("committed %s", gid).isEqualTo(4);
    }
    for (String gid : byOutcome.getOrDefault(Outcome.PENDING_COMMIT, Set.of())) {
      assertThat(finalStates.get(gid)).as("pending commit %s", gid).isEqualTo(4);
    }
    for (Outcome cancelled : List.of(Outcome.ROLLED_BACK, Outcome.PENDING_ROLLBACK)) {
      for (String gid : byOutcome.getOrDefault(cancelled, Set.of())) {
        // Absent when the transaction was cancelled before its first log write committed.
        assertThat(finalStates.getOrDefault(gid, 5)).as("%s %s", cancelled, gid).isEqualTo(5);
      }
    }
    // the checker, from the data alone: every log row agrees with its branches' fence rows
    io.shardkit.tx.check.CheckAfterRun.assertConsistent(
        vertx, pool, TransactionsOptions.builder("ds_0").tcc(options).build());
    await(pool.close());
    TccTestSupport.close(vertx);
  }

  private static void transferLoop(
      Transactions coordinator,
      Bank bank,
      AtomicBoolean stop,
      Map<String, Outcome> outcomes,
      Map<Outcome, Integer> counts,
      Promise<Void> done) {
    if (stop.get()) {
      done.complete();
      return;
    }
    ThreadLocalRandom random = ThreadLocalRandom.current();
    long from = random.nextInt(ACCOUNTS);
    long to = (from + 1 + random.nextInt(ACCOUNTS - 1)) % ACCOUNTS;
    long amount = 1 + random.nextInt(50);
    String[] gid = new String[1];
    coordinator
        .<Void>tcc(
            TransactionOptions.ofTimeout(Duration.ofSeconds(3)),
            tx -> {
              gid[0] = tx.globalId();
              return bank.transfer(tx, from, to, amount);
            })
        .onComplete(
            ar -> {
              Outcome outcome;
              String id = gid[0];
              if (ar.succeeded()) {
                outcome = Outcome.COMMITTED;
              } else if (TccTestSupport.rolledBack(ar.cause()) != null) {
                TransactionRolledBackException e = TccTestSupport.rolledBack(ar.cause());
                outcome = Outcome.ROLLED_BACK;
                id = e.globalId();
              } else if (ar.cause() instanceof TransactionOutcomePendingException e) {
                outcome =
                    e.decision() == TransactionOutcomePendingException.Decision.COMMIT
                        ? Outcome.PENDING_COMMIT
                        : Outcome.PENDING_ROLLBACK;
                id = e.globalId();
              } else if (ar.cause() instanceof TccOutcomeUnknownException e) {
                outcome = Outcome.UNKNOWN;
                id = e.globalId();
              } else {
                outcome = Outcome.OTHER;
                System.out.println("bank: unexpected failure " + ar.cause());
              }
              if (id != null) {
                outcomes.put(id, outcome);
              }
              counts.merge(outcome, 1, Integer::sum);
              transferLoop(coordinator, bank, stop, outcomes, counts, done);
            });
  }

  /** Prints, for each account with a reservation left, its branches, their log and fence rows. */
  static void diagnose(ShardDatabases databases, TccOptions options) {
    for (int s = 0; s < databases.size(); s++) {
      for (JsonObject account :
          databases
              .get(s)
              .query(
                  "SELECT id, frozen, incoming FROM account WHERE frozen <> 0 OR incoming <> 0")) {
        System.out.println("bank diag: shard " + s + " account " + account.encode());
        long id = account.getLong("id");
        for (JsonObject logged :
            databases
                .get(0)
                .query(
                    "SELECT gid, state, attempts, lease_owner, created_at, updated_at, branches"
                        + " FROM "
                        + options.txTable()
                        + " WHERE branches LIKE '%\"account\":"
                        + id
                        + ",%'")) {
          io.vertx.core.json.JsonArray branches =
              new io.vertx.core.json.JsonArray(logged.getString("branches"));
          JsonObject branch = null;
          for (int b = 0; b < branches.size(); b++) {
            if (branches.getJsonObject(b).getJsonObject("args").getLong("account") == id) {
              branch =
                  branches
                      .getJsonObject(b)
                      .copy()
                      .put("gid", logged.getString("gid"))
                      .put("state", logged.getInteger("state"));
            }
          }
          List<JsonObject> fence =
              databases
                  .get(s)
                  .query(
                      "SELECT phase, origin, created_at FROM "
                          + options.fenceTable()
                          + " WHERE gid = '"
                          + branch.getString("gid")
                          + "' AND branch_id = '"
                          + branch.getString("branch")
                          + "'");
          System.out.println("bank diag:   " + branch.encode() + " fence " + fence);
        }
      }
    }
  }

  static int openTransactions(ShardDatabases databases, TccOptions options) {
    return databases
        .get(0)
        .query("SELECT COUNT(*) AS n FROM " + options.txTable() + " WHERE state IN (1, 2, 3)")
        .get(0)
        .getInteger("n");
  }

  static int tryOnlyFenceRows(ShardDatabases databases, TccOptions options) {
    int total = 0;
    for (int s = 0; s < databases.size(); s++) {
      total +=
          databases
              .get(s)
              .query(
                  "SELECT COUNT(*) AS n FROM (SELECT gid, branch_id FROM "
                      + options.fenceTable()
                      + " GROUP BY gid, branch_id HAVING MAX(phase) = 1) t")
              .get(0)
              .getInteger("n");
    }
    return total;
  }

  static Map<String, Integer> finalStates(ShardDatabases databases, TccOptions options) {
    Map<String, Integer> states = new HashMap<>();
    for (JsonObject row : databases.get(0).query("SELECT gid, state FROM " + options.txTable())) {
      states.put(row.getString("gid"), row.getInteger("state"));
    }
    return states;
  }

  static void printMeters(SimpleMeterRegistry meters) {
    for (Meter meter : meters.getMeters()) {
      if (meter.getId().getName().startsWith("shardkit.tx")) {
        StringBuilder line = new StringBuilder("bank meter ").append(meter.getId().getName());
        meter
            .getId()
            .getTags()
            .forEach(t -> line.append(' ').append(t.getKey()).append('=').append(t.getValue()));
        meter
            .measure()
            .forEach(
                m ->
                    line.append(' ')
                        .append(m.getStatistic())
                        .append('=')
                        .append((long) m.getValue()));
        System.out.println(line);
      }
    }
  }

  @SuppressWarnings("unchecked")
  static Promise<Void>[] newPromises(int n) {
    Promise<Void>[] promises = new Promise[n];
    for (int i = 0; i < n; i++) {
      promises[i] = Promise.promise();
    }
    return promises;
  }

  static void sleepUntil(long start, Duration at) throws InterruptedException {
    long left = start + at.toNanos() - System.nanoTime();
    if (left > 0) {
      Thread.sleep(left / 1_000_000);
    }
  }

  static String elapsed(long start) {
    return (System.nanoTime() - start) / 1_000_000 + " ms";
  }
}
