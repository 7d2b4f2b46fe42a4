package io.shardkit.tx.tcc;

import static io.shardkit.tx.tcc.TccTestSupport.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardkit.context.junit.LeakGuardExtension;
import io.shardkit.router.ShardedPool;
import io.shardkit.testkit.Shard;
import io.shardkit.testkit.ShardDatabases;
import io.shardkit.testkit.Shards;
import io.shardkit.tx.SagaTransaction;
import io.shardkit.tx.TccOptions;
import io.shardkit.tx.TransactionOptions;
import io.shardkit.tx.TransactionOutcomePendingException;
import io.shardkit.tx.TransactionOutcomeUnknownException;
import io.shardkit.tx.TransactionRolledBackException;
import io.shardkit.tx.Transactions;
import io.shardkit.tx.TransactionsOptions;
import io.shardkit.tx.impl.TransactionsImpl;
import io.shardkit.tx.impl.tcc.SagaCoordinatorImpl.StopAt;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.PoolOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The saga bank, as harsh as {@link TccBankTest}: 4 shards, 1,000 accounts, 32 concurrent saga
 * loops on one instance for {@link TccBankTest#RUN} ({@code shardkit.bank.seconds}), while one
 * shard is killed (SIGKILL) and restarted and another paused (SIGSTOP) and resumed, and a second
 * instance (its own Vert.x, pool and manager, no recovery of its own) abandons sagas before
 * deciding and past their pivot, then dies; the first instance's recovery finishes them.
 *
 * <p>A transfer saga debits two accounts in parallel (compensatable: a debit refuses to go below
 * zero, its compensation adds back) and then deposits the sum on a third (retry-only: the pivot; a
 * deposit only adds, so it can always succeed). Sagas expose intermediate state, so the only money
 * that can be undone is money taken by a debit, which nobody else can spend meanwhile: no balance
 * ever goes negative and a compensation never fails for business reasons. One saga in ten fails its
 * body after the debits (the user changed their mind).
 *
 * <p>Afterwards, from the data alone (each step's journal row is written in its local transaction):
 * money is conserved, no balance is negative, every saga is fully applied (both debits and the
 * deposit, nothing compensated) or fully compensated (every debit that ran undone, no deposit), its
 * caller was told accordingly, and no log row is left TRYING, COMMIT or CANCEL.
 */
@Shards(4)
@ExtendWith(LeakGuardExtension.class)
class SagaBankTest {

  static final int ACCOUNTS = 1_000;
  static final long START_BALANCE = 1_000;
  static final int LOOPS = 32;
  static final int ABANDONING_LOOPS = 4;

  static final TccOptions OPTIONS =
      TccOptions.builder()
          .tablePrefix("bank_s")
          .logDataSource("ds_0")
          .phaseTimeout(Duration.ofSeconds(2))
          .completionTimeout(Duration.ofSeconds(6))
          .recoveryInterval(Duration.ofSeconds(1))
          .recoveryGrace(Duration.ofSeconds(1))
          .recoveryLease(Duration.ofSeconds(10))
          .retryInitialDelay(Duration.ofMillis(50))
          .retryMaxDelay(Duration.ofSeconds(1))
          .build();

  /** What a caller was told. */
  enum Told {
    COMMITTED,
    ROLLED_BACK,
    PENDING_COMMIT,
    PENDING_ROLLBACK,
    UNKNOWN,
    ABANDONED,
    OTHER
  }

  static final class Instance {
    final Vertx vertx = TccTestSupport.vertx();
    final ShardedPool pool;
    final Transactions transactions;
    final SagaBank bank = new SagaBank();
    final int giveUpOneIn;

    Instance(
        String name,
        ShardDatabases databases,
        SimpleMeterRegistry meters,
        int poolSize,
        int giveUpOneIn) {
      this.giveUpOneIn = giveUpOneIn;
      pool =
          ShardedPool.builder(vertx)
              .rules(TccTestSupport.rules(4))
              .dataSources(databases.dataSources("ds_"), new PoolOptions().setMaxSize(poolSize))
              .build();
      TccTestSupport.warmUp(pool);
      transactions =
          Transactions.create(
              vertx,
              pool,
              TransactionsOptions.builder("ds_0")
                  .tcc(OPTIONS.toBuilder().instanceId(name).meterRegistry(meters).build())
                  .build());
      transactions.register(bank.debit).register(bank.credit).register(bank.deposit);
    }

    StopAt stopAt(StopAt at) {
      ((TransactionsImpl) transactions).tccCoordinator().saga().stopAt(at);
      return at;
    }
  }

  @Test
  void everySagaIsFullyAppliedOrFullyCompensatedAcrossKillsPausesAndADeadCoordinator(
      ShardDatabases databases) throws Exception {
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    SagaBank.reset(databases, OPTIONS);
    Bank.open(databases, ACCOUNTS, START_BALANCE);
    Instance main = new Instance("main", databases, meters, 24, 10);
    Instance doomed = new Instance("doomed", databases, meters, 8, 2);
    await(main.transactions.installSchema());
    await(main.transactions.startRecovery());
    // first use of each path on the test thread (class loading off the event loops)
    await(
        main.transactions.saga(
            TransactionOptions.ofTimeout(Duration.ofSeconds(10)),
            saga -> transfer(saga, main.bank, 0, 1, 2, 1, false)));
    await(
        doomed.transactions.saga(
            TransactionOptions.ofTimeout(Duration.ofSeconds(10)),
            saga -> transfer(saga, doomed.bank, 2, 1, 0, 1, false)));

    Map<String, Told> told = new ConcurrentHashMap<>();
    Map<Told, Integer> counts = new ConcurrentHashMap<>();
    AtomicBoolean stop = new AtomicBoolean();
    AtomicBoolean stopDoomed = new AtomicBoolean();
    Promise<Void>[] done = TccBankTest.newPromises(LOOPS);
    for (int i = 0; i < LOOPS; i++) {
      int loop = i;
      main.vertx.runOnContext(v -> loop(main, stop, told, counts, done[loop]));
    }
    for (int i = 0; i < ABANDONING_LOOPS; i++) {
      doomed.vertx.runOnContext(v -> loop(doomed, stopDoomed, told, counts, Promise.promise()));
    }

    Duration run = TccBankTest.RUN;
    Shard killed = databases.get(1).shard();
    Shard paused = databases.get(2).shard();
    long start = System.nanoTime();
    TccBankTest.sleepUntil(start, run.multipliedBy(12).dividedBy(62));
    System.out.println("saga bank: kill shard 1 at " + TccBankTest.elapsed(start));
    killed.kill();
    TccBankTest.sleepUntil(start, run.multipliedBy(20).dividedBy(62));
    killed.start();
    System.out.println("saga bank: shard 1 restarted at " + TccBankTest.elapsed(start));
    TccBankTest.sleepUntil(start, run.multipliedBy(32).dividedBy(62));
    System.out.println("saga bank: pause shard 2 at " + TccBankTest.elapsed(start));
    paused.pause();
    TccBankTest.sleepUntil(start, run.multipliedBy(40).dividedBy(62));
    paused.resume();
    System.out.println("saga bank: shard 2 resumed at " + TccBankTest.elapsed(start));
    TccBankTest.sleepUntil(start, run.multipliedBy(44).dividedBy(62));
    // the second instance stops deciding, then stops past its pivots, then dies
    doomed.stopAt(StopAt.BEFORE_DECISION);
    TccTestSupport.eventually(Duration.ofSeconds(10), () -> abandoned(counts) >= 3);
    int beforeDecision = abandoned(counts);
    doomed.stopAt(StopAt.AFTER_PIVOT);
    TccTestSupport.eventually(
        Duration.ofSeconds(10), () -> abandoned(counts) >= beforeDecision + 3);
    stopDoomed.set(true);
    doomed.vertx.close(); // abruptly: its manager and pool are never closed
    System.out.println(
        "saga bank: second instance abandoned "
            + abandoned(counts)
            + " sagas and died at "
            + TccBankTest.elapsed(start));
    TccBankTest.sleepUntil(start, run);
    stop.set(true);
    for (Promise<Void> p : done) {
      await(p.future(), Duration.ofSeconds(60));
    }
    TccTestSupport.close(doomed.vertx);
    System.out.println("saga bank: loops stopped at " + TccBankTest.elapsed(start) + ", " + counts);

    boolean settled =
        TccTestSupport.eventually(
            Duration.ofSeconds(90), () -> TccBankTest.openTransactions(databases, OPTIONS) == 0);
    await(main.transactions.stopRecovery());
    System.out.println("saga bank: settled at " + TccBankTest.elapsed(start) + ": " + settled);
    TccBankTest.printMeters(meters);

    long[] totals = Bank.totals(databases);
    int negative = 0;
    for (int s = 0; s < databases.size(); s++) {
      negative +=
          databases
              .get(s)
              .query("SELECT COUNT(*) AS n FROM account WHERE balance < 0")
              .get(0)
              .getInteger("n");
    }
    Map<String, String> fromData = sagasFromJournal(databases);
    Map<String, Integer> states = TccBankTest.finalStates(databases, OPTIONS);
    Map<String, Integer> shapes = new HashMap<>();
    fromData.values().forEach(v -> shapes.merge(v, 1, Integer::sum));
    System.out.println(
        "saga bank: "
            + told.size()
            + " sagas; from the journal "
            + shapes
            + "; totals balance="
            + totals[0]
            + ", negative balances "
            + negative);

    assertThat(settled).as("every saga finished after recovery").isTrue();
    assertThat(totals[0]).as("money conserved").isEqualTo(ACCOUNTS * START_BALANCE);
    assertThat(negative).as("negative balances").isZero();
    assertThat(fromData.values())
        .as("every saga applied or compensated, nothing half")
        .allMatch(v -> v.equals("applied") || v.equals("compensated"));
    assertThat(counts.getOrDefault(Told.COMMITTED, 0))
        .as("sagas committed across the faults")
        .isGreaterThan(150);
    assertThat(counts.getOrDefault(Told.ROLLED_BACK, 0)).isPositive();
    assertThat(counts.getOrDefault(Told.OTHER, 0)).isZero();
    assertThat(abandoned(counts)).isGreaterThanOrEqualTo(6);
    assertThat(recovered(meters, "cancel")).as("sagas compensated by recovery").isPositive();
    assertThat(recovered(meters, "commit")).as("sagas finished forward by recovery").isPositive();
    for (Map.Entry<String, Told> e : told.entrySet()) {
      String gid = e.getKey();
      String data = fromData.getOrDefault(gid, "nothing");
      Integer state = states.get(gid);
      switch (e.getValue()) {
        case COMMITTED, PENDING_COMMIT -> {
          assertThat(data).as("%s %s", e.getValue(), gid).isEqualTo("applied");
          assertThat(state).as("log of %s", gid).isEqualTo(4);
        }
        case ROLLED_BACK, PENDING_ROLLBACK ->
            assertThat(data).as("%s %s", e.getValue(), gid).isIn("compensated", "nothing");
        default ->
            assertThat(data)
                .as("%s %s", e.getValue(), gid)
                .isIn("applied", "compensated", "nothing");
      }
      if (data.equals("applied")) {
        assertThat(state).as("log of applied %s", gid).isEqualTo(4);
      } else if (data.equals("compensated")) {
        assertThat(state).as("log of compensated %s", gid).isEqualTo(5);
      }
    }
    // the checker, from the data alone: every saga's log row agrees with its steps' fence rows
    io.shardkit.tx.check.CheckAfterRun.assertConsistent(
        main.vertx, main.pool, TransactionsOptions.builder("ds_0").tcc(OPTIONS).build());
    await(main.transactions.close());
    await(main.pool.close());
    TccTestSupport.close(main.vertx);
  }

  static double recovered(SimpleMeterRegistry meters, String decision) {
    io.micrometer.core.instrument.Counter counter =
        meters
            .find("shardkit.tx.recovered.transactions")
            .tag("mode", "saga")
            .tag("decision", decision)
            .counter();
    return counter == null ? 0 : counter.count();
  }

  static int abandoned(Map<Told, Integer> counts) {
    return counts.getOrDefault(Told.ABANDONED, 0);
  }

  /** Two debits in parallel, then (unless the body gives up) the deposit of their sum. */
  static Future<Void> transfer(
      SagaTransaction saga, SagaBank bank, long a, long b, long to, long amount, boolean giveUp) {
    return Future.all(
            saga.step(bank.debit, new Bank.Move(a, amount)),
            saga.step(bank.debit, new Bank.Move(b, amount)))
        .compose(
            debited ->
                giveUp
                    ? Future.failedFuture(new IllegalStateException("the user changed their mind"))
                    : saga.step(bank.deposit, new Bank.Move(to, 2 * amount)));
  }

  static void loop(
      Instance at,
      AtomicBoolean stop,
      Map<String, Told> told,
      Map<Told, Integer> counts,
      Promise<Void> done) {
    if (stop.get()) {
      done.complete();
      return;
    }
    ThreadLocalRandom random = ThreadLocalRandom.current();
    long a = random.nextInt(ACCOUNTS);
    long b = (a + 1 + random.nextInt(ACCOUNTS - 1)) % ACCOUNTS;
    long to = random.nextInt(ACCOUNTS);
    long amount = 1 + random.nextInt(100);
    boolean giveUp = random.nextInt(at.giveUpOneIn) == 0;
    String[] gid = new String[1];
    at.transactions
        .<Void>saga(
            TransactionOptions.ofTimeout(Duration.ofSeconds(3)),
            saga -> {
              gid[0] = saga.globalId();
              return transfer(saga, at.bank, a, b, to, amount, giveUp);
            })
        .onComplete(
            ar -> {
              Told outcome;
              String id = gid[0];
              if (ar.succeeded()) {
                outcome = Told.COMMITTED;
              } else if (TccTestSupport.rolledBack(ar.cause()) != null) {
                TransactionRolledBackException e = TccTestSupport.rolledBack(ar.cause());
                outcome = Told.ROLLED_BACK;
                id = e.globalId();
              } else if (ar.cause() instanceof TransactionOutcomePendingException e) {
                outcome =
                    e.decision() == TransactionOutcomePendingException.Decision.COMMIT
                        ? Told.PENDING_COMMIT
                        : Told.PENDING_ROLLBACK;
                id = e.globalId();
              } else if (ar.cause() instanceof TransactionOutcomeUnknownException e) {
                outcome = Told.UNKNOWN;
                id = e.globalId();
              } else if (String.valueOf(ar.cause().getMessage()).contains("abandoned")) {
                outcome = Told.ABANDONED;
              } else {
                outcome = Told.OTHER;
                System.out.println("saga bank: unexpected failure " + ar.cause());
              }
              if (id != null) {
                told.put(id, outcome);
              }
              counts.merge(outcome, 1, Integer::sum);
              loop(at, stop, told, counts, done);
            });
  }

  /**
   * Per saga, from the journal: "applied" (both debits and the deposit ran, nothing compensated),
   * "compensated" (no deposit, every debit that ran was compensated once), else what is wrong.
   */
  static Map<String, String> sagasFromJournal(ShardDatabases databases) {
    Map<String, List<JsonObject>> byGid = new HashMap<>();
    for (JsonObject row : SagaBank.journal(databases)) {
      byGid.computeIfAbsent(row.getString("gid"), k -> new ArrayList<>()).add(row);
    }
    Map<String, String> shapes = new HashMap<>();
    byGid.forEach(
        (gid, rows) -> {
          int debits = 0;
          int deposits = 0;
          Map<String, Integer> undone = new HashMap<>();
          int compensations = 0;
          for (JsonObject r : rows) {
            String step = r.getString("step");
            String kind = r.getString("kind");
            if (step.equals("debit") && kind.equals("action")) {
              debits++;
              undone.merge(r.getString("branch_id"), 1, Integer::sum);
            } else if (step.equals("debit") && kind.equals("compensation")) {
              compensations++;
              undone.merge(r.getString("branch_id"), -1, Integer::sum);
            } else if (step.equals("deposit")) {
              deposits++;
            }
          }
          String shape;
          if (deposits == 1 && debits == 2 && compensations == 0) {
            shape = "applied";
          } else if (deposits == 0 && undone.values().stream().allMatch(n -> n == 0)) {
            shape = "compensated";
          } else {
            shape = "HALF: " + rows;
          }
          shapes.put(gid, shape);
        });
    return shapes;
  }
}
