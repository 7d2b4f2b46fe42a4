package io.shardkit.tx.tcc;

import static io.shardkit.tx.tcc.TccTestSupport.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.shardkit.context.TxScope;
import io.shardkit.context.junit.LeakGuardExtension;
import io.shardkit.router.ShardedPool;
import io.shardkit.router.ShardingRules;
import io.shardkit.testkit.ShardDatabases;
import io.shardkit.testkit.Shards;
import io.shardkit.tx.TccOptions;
import io.shardkit.tx.TransactionOptions;
import io.shardkit.tx.Transactions;
import io.shardkit.tx.TransactionsOptions;
import io.shardkit.tx.impl.TransactionsImpl;
import io.shardkit.tx.impl.tcc.SagaCoordinatorImpl;
import io.shardkit.tx.impl.tcc.TccCoordinatorImpl.StopAt;
import io.shardkit.tx.impl.xa.StopPoint;
import io.shardkit.tx.spi.TransactionObserver;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Two application instances (two {@code Vertx}, each with its own pool and {@link Transactions})
 * run XA, TCC and Saga transfers on the same two shards, both running recovery. Instance A is then
 * made to abandon its transactions where a crash hurts most (XA: COMMIT durable, nothing committed;
 * TCC: decision durable, nothing confirmed; Saga: past its pivot with the retry-only deposit not
 * run, then before deciding, with a debit to compensate) and its Vert.x is closed under its feet.
 * Instance B's recovery must finish every one of them: nothing prepared, nothing left trying or
 * deciding in the log, money conserved, every XA transfer applied on both shards or on none, no TCC
 * branch both confirmed and cancelled (which is what two instances driving one branch could do),
 * and every saga fully applied or fully compensated (from its journal rows).
 */
@Shards(2)
@ExtendWith(LeakGuardExtension.class)
class TwoInstancesRecoveryTest {

  static final int ACCOUNTS = 16;
  static final long START_BALANCE = 1_000;
  static final int LOOPS = 6;
  static final String MOVE_DDL =
      "CREATE TABLE xa_move (gid VARCHAR(64) NOT NULL, account BIGINT NOT NULL,"
          + " delta BIGINT NOT NULL, PRIMARY KEY (gid, account)) ENGINE=InnoDB";
  static final String DEBIT =
      "UPDATE account SET balance = balance - ? WHERE id = ? AND balance >= ?";
  static final String CREDIT = "UPDATE account SET balance = balance + ? WHERE id = ?";
  static final String MOVE = "INSERT INTO xa_move (gid, account, delta) VALUES (?, ?, ?)";

  static final TccOptions TCC =
      TccOptions.builder()
          .tablePrefix("two_t")
          .phaseTimeout(Duration.ofSeconds(1))
          .completionTimeout(Duration.ofSeconds(2))
          .recoveryInterval(Duration.ofMillis(300))
          .recoveryGrace(Duration.ofMillis(300))
          .recoveryLease(Duration.ofSeconds(2))
          .retryInitialDelay(Duration.ofMillis(20))
          .retryMaxDelay(Duration.ofMillis(300))
          .build();

  /** One instance: its Vert.x, pool, manager, and what its callers saw. */
  static final class Instance {
    final String name;
    final Vertx vertx = TccTestSupport.vertx();
    final ShardedPool pool;
    final Transactions transactions;
    final Bank bank = new Bank();

    /** Saga steps "saga.debit" (compensatable) and "saga.deposit" (retry-only). */
    final SagaBank sagaBank = new SagaBank("saga.");

    /** Global ids whose body started here and whose caller was not answered yet. */
    final Set<String> inFlight = ConcurrentHashMap.newKeySet();

    /** Sagas abandoned with their pivot durable (the deposit's step reached the stop point). */
    final Set<String> abandonedPastPivot = ConcurrentHashMap.newKeySet();

    /** Sagas whose body gave up after its debit succeeded. */
    final Set<String> gaveUp = ConcurrentHashMap.newKeySet();

    /** ... and that were abandoned before deciding, their debit applied. */
    final Set<String> abandonedAfterDebit = ConcurrentHashMap.newKeySet();

    final Map<String, AtomicInteger> outcomes = new ConcurrentHashMap<>();
    final AtomicInteger xaRecovered = new AtomicInteger();

    Instance(String name, ShardDatabases databases) {
      this.name = name;
      ShardingRules rules =
          ShardingRules.builder()
              .table(
                  "account", t -> t.dataNodes("ds_${0..1}.account").databaseStrategy("id", "mod"))
              .table(
                  "xa_move",
                  t -> t.dataNodes("ds_${0..1}.xa_move").databaseStrategy("account", "mod"))
              .build();
      TransactionObserver observer =
          new TransactionObserver() {
            @Override
            public void recovered(
                String mode, String dataSource, String action, boolean decidedByRecovery) {
              xaRecovered.incrementAndGet();
            }
          };
      TransactionsOptions options =
          TransactionsOptions.builder("ds_0")
              .recoveryGrace(Duration.ofMillis(300))
              .recoveryInterval(Duration.ofMillis(300))
              .rollbackTimeout(Duration.ofSeconds(1))
              .addObserver(observer)
              .tcc(TCC.toBuilder().instanceId(name).build())
              .build();
      pool =
          ShardedPool.builder(vertx)
              .rules(rules)
              .dataSources(databases.dataSources("ds_"), new PoolOptions().setMaxSize(12))
              .transactionManager(p -> Transactions.create(vertx, p, options))
              .build();
      TccTestSupport.warmUp(pool);
      for (String sql : List.of(DEBIT, CREDIT, MOVE)) {
        int params = (int) sql.chars().filter(c -> c == '?').count();
        Object[] values = new Object[params];
        java.util.Arrays.fill(values, 1L);
        pool.dataSourcesFor(sql, Tuple.from(values));
      }
      transactions = Transactions.of(pool);
      transactions
          .register(bank.debit)
          .register(bank.credit)
          .register(sagaBank.debit)
          .register(sagaBank.deposit);
    }

    String started(String gid) {
      inFlight.add(gid);
      return gid;
    }

    TransactionsImpl impl() {
      return (TransactionsImpl) transactions;
    }

    void count(String outcome) {
      outcomes.computeIfAbsent(outcome, k -> new AtomicInteger()).incrementAndGet();
    }

    int count(String prefix, String suffix) {
      int n = 0;
      for (var e : outcomes.entrySet()) {
        if (e.getKey().startsWith(prefix) && e.getKey().endsWith(suffix)) {
          n += e.getValue().get();
        }
      }
      return n;
    }
  }

  static Future<Void> xaTransfer(SqlClient sql, long from, long to, long amount) {
    String gid = TxScope.current().orElseThrow().globalId();
    return sql.preparedQuery(DEBIT)
        .execute(Tuple.of(amount, from, amount))
        .compose(
            rs ->
                rs.rowCount() == 1
                    ? sql.preparedQuery(CREDIT).execute(Tuple.of(amount, to))
                    : Future.failedFuture(new IllegalStateException("insufficient funds")))
        .compose(
            rs ->
                sql.preparedQuery(MOVE)
                    .executeBatch(List.of(Tuple.of(gid, from, -amount), Tuple.of(gid, to, amount))))
        .mapEmpty();
  }

  static void loop(Instance at, AtomicBoolean stop, int round, Promise<Void> done) {
    if (stop.get()) {
      done.complete();
      return;
    }
    ThreadLocalRandom random = ThreadLocalRandom.current();
    long from = random.nextInt(ACCOUNTS);
    long to = (from + 1 + random.nextInt(ACCOUNTS - 1)) % ACCOUNTS;
    long amount = 1 + random.nextInt(20);
    TransactionOptions timeout = TransactionOptions.ofTimeout(Duration.ofSeconds(2));
    // one in three sagas gives up after its debit (its body fails: the debit is compensated)
    boolean giveUp = random.nextInt(3) == 0;
    String mode =
        switch (round % 3) {
          case 0 -> "xa";
          case 1 -> "tcc";
          default -> giveUp ? "saga-giveup" : "saga";
        };
    String[] gid = new String[1];
    Future<Void> one =
        switch (mode) {
          case "xa" ->
              at.pool.withTransaction(
                  timeout.timeout(),
                  sql -> {
                    gid[0] = at.started(TxScope.current().orElseThrow().globalId());
                    return xaTransfer(sql, from, to, amount);
                  });
          case "tcc" ->
              at.transactions.tcc(
                  timeout,
                  tx -> {
                    gid[0] = at.started(tx.globalId());
                    return at.bank.transfer(tx, from, to, amount);
                  });
          default ->
              at.transactions.saga(
                  timeout,
                  saga -> {
                    gid[0] = at.started(saga.globalId());
                    return sagaTransfer(at, saga, from, to, amount, giveUp);
                  });
        };
    one.onComplete(
        ar -> {
          boolean abandoned =
              ar.failed() && String.valueOf(ar.cause().getMessage()).contains("abandoned");
          if (gid[0] != null) {
            at.inFlight.remove(gid[0]);
          }
          if (abandoned && gid[0] != null && at.gaveUp.contains(gid[0])) {
            at.abandonedAfterDebit.add(gid[0]);
          }
          at.count(
              mode
                  + ':'
                  + (ar.succeeded()
                      ? "committed"
                      : abandoned ? "abandoned" : ar.cause().getClass().getSimpleName()));
          loop(at, stop, round + 1, done);
        });
  }

  /** A debit, then either a retry-only deposit (the pivot) or the body giving up. */
  static Future<Void> sagaTransfer(
      Instance at,
      io.shardkit.tx.SagaTransaction saga,
      long from,
      long to,
      long amount,
      boolean giveUp) {
    String gid = saga.globalId();
    return saga.step(at.sagaBank.debit, new Bank.Move(from, amount))
        .compose(
            debited -> {
              if (giveUp) {
                at.gaveUp.add(gid);
                return Future.<Void>failedFuture(new IllegalStateException("gave up"));
              }
              // the deposit's step only reaches the AFTER_PIVOT stop point once its log write,
              // which moves the saga to COMMIT, succeeded
              return saga.step(at.sagaBank.deposit, new Bank.Move(to, amount))
                  .onFailure(
                      e -> {
                        if (String.valueOf(e.getMessage()).contains("abandoned")) {
                          at.abandonedPastPivot.add(gid);
                        }
                      });
            });
  }

  @Test
  void survivorRecoversEverythingTheDeadInstanceLeftAndNoBranchIsDrivenByBoth(
      ShardDatabases databases) throws Exception {
    SagaBank.reset(databases, TCC);
    databases.executeOnAll(
        "DROP TABLE IF EXISTS xa_move", "DROP TABLE IF EXISTS two_t_xa_lease", MOVE_DDL);
    Bank.open(databases, ACCOUNTS, START_BALANCE);
    Instance a = new Instance("app-a", databases);
    Instance b = new Instance("app-b", databases);
    await(a.transactions.installSchema());
    await(b.transactions.installSchema());
    await(a.transactions.startRecovery());
    await(b.transactions.startRecovery());
    // warm-up, one at a time: JSON encoding and each path's first use do not race on class
    // initialisation in two event loops at once (a lock wait the blocked-thread guard fails)
    new io.vertx.core.json.JsonArray().add(new JsonObject().put("warm", 1)).encode();
    TransactionOptions warmUp = TransactionOptions.ofTimeout(Duration.ofSeconds(10));
    for (Instance at : List.of(a, b)) {
      await(at.pool.withTransaction(warmUp.timeout(), sql -> xaTransfer(sql, 0, 1, 1)));
      await(at.transactions.tcc(warmUp, tx -> at.bank.transfer(tx, 1, 0, 1)));
      await(at.transactions.saga(warmUp, saga -> sagaTransfer(at, saga, 0, 1, 1, false)));
    }

    AtomicBoolean stopA = new AtomicBoolean();
    AtomicBoolean stopB = new AtomicBoolean();
    List<Promise<Void>> doneB = new ArrayList<>();
    for (int i = 0; i < LOOPS; i++) {
      int first = i;
      a.vertx.runOnContext(v -> loop(a, stopA, first, Promise.promise()));
      Promise<Void> done = Promise.promise();
      doneB.add(done);
      b.vertx.runOnContext(v -> loop(b, stopB, first, done));
    }
    Thread.sleep(1_500);
    // A crashes: its recovery is the first thing to go (so whatever A leaves is B's to finish);
    // its transactions stop where it hurts most, decisions durable and nothing applied; then its
    // Vert.x closes under its feet
    await(a.transactions.stopRecovery());
    a.impl().xa().stopAt(StopPoint.AFTER_DECISION);
    a.impl().tccCoordinator().stopAt(StopAt.AFTER_DECISION);
    a.impl().tccCoordinator().saga().stopAt(SagaCoordinatorImpl.StopAt.AFTER_PIVOT);
    // until A has left a few of each behind (on a loaded machine this takes longer than usual)
    TccTestSupport.eventually(
        Duration.ofSeconds(20),
        () ->
            a.count("xa:", "abandoned") >= 2
                && a.count("tcc:", "abandoned") >= 2
                && a.abandonedPastPivot.size() >= 2);
    // then sagas abandoned before deciding: a give-up saga's debit is left for B to compensate
    a.impl().tccCoordinator().saga().stopAt(SagaCoordinatorImpl.StopAt.BEFORE_DECISION);
    TccTestSupport.eventually(Duration.ofSeconds(20), () -> !a.abandonedAfterDebit.isEmpty());
    stopA.set(true);
    a.vertx.close(); // abruptly: no close of its manager or pool, transactions in flight
    Thread.sleep(1_000);
    stopB.set(true);
    for (Promise<Void> done : doneB) {
      await(done.future(), Duration.ofSeconds(30));
    }
    TccTestSupport.close(a.vertx);

    boolean settled =
        TccTestSupport.eventually(
            Duration.ofSeconds(40),
            () ->
                preparedXaBranches(databases) == 0
                    && unfinished(databases, "TCC") == 0
                    && unfinished(databases, "SAGA") == 0
                    && Bank.totals(databases)[1] == 0
                    && Bank.totals(databases)[2] == 0);
    System.out.printf(
        "two instances: A %s, B %s, B's XA recovery acted on %d branches%n",
        a.outcomes, b.outcomes, b.xaRecovered.get());
    await(b.transactions.close());
    await(b.pool.close());
    TccTestSupport.close(b.vertx);
    List<String> dropped = dropScopesOfDeadInstance(a);
    System.out.printf("scopes of A's closed Vert.x dropped: %s%n", dropped);

    assertThat(a.count("xa:", "abandoned"))
        .as("A left XA transactions with a durable COMMIT for recovery")
        .isPositive();
    assertThat(a.count("tcc:", "abandoned"))
        .as("A left TCC transactions with a durable decision for recovery")
        .isPositive();
    assertThat(a.abandonedPastPivot)
        .as("A left sagas past their pivot (COMMIT durable), deposit not run")
        .isNotEmpty();
    assertThat(a.abandonedAfterDebit)
        .as("A left sagas undecided, their debit applied")
        .isNotEmpty();
    assertThat(b.count("", "committed")).as("B kept working").isPositive();
    assertThat(settled).as("B's recovery finished every transaction A left").isTrue();
    assertThat(b.xaRecovered.get())
        .as("B's recovery committed the prepared branches of A's abandoned XA transactions")
        .isGreaterThanOrEqualTo(2 * a.count("xa:", "abandoned"));
    long[] totals = Bank.totals(databases);
    assertThat(totals).containsExactly(ACCOUNTS * START_BALANCE, 0L, 0L);
    // every XA transfer applied on both shards (its two move rows) or on none
    Map<String, Integer> rowsPerGid = new HashMap<>();
    for (int s = 0; s < databases.size(); s++) {
      for (JsonObject row : databases.get(s).query("SELECT gid FROM xa_move")) {
        rowsPerGid.merge(row.getString("gid"), 1, Integer::sum);
      }
    }
    assertThat(rowsPerGid).isNotEmpty();
    assertThat(rowsPerGid.values()).as("move rows per XA transfer").containsOnly(2);
    // no TCC branch both confirmed and cancelled
    for (int s = 0; s < databases.size(); s++) {
      List<JsonObject> both =
          databases
              .get(s)
              .query(
                  "SELECT gid, branch_id FROM "
                      + TCC.fenceTable()
                      + " GROUP BY gid, branch_id"
                      + " HAVING SUM(phase = 2) > 0 AND SUM(phase = 3) > 0");
      assertThat(both).as("branches confirmed and cancelled on ds_%d", s).isEmpty();
    }
    // every TCC transaction of A that decided COMMIT was confirmed, by A or by B's recovery
    List<JsonObject> open =
        databases
            .get(0)
            .query(
                "SELECT gid, state FROM "
                    + TCC.txTable()
                    + " WHERE state IN (1, 2, 3) AND protocol = 'TCC'");
    assertThat(open).as("TCC transactions left open").isEmpty();
    // every saga fully applied (debit + deposit) or fully compensated (debit + its compensation),
    // from the journal rows its steps wrote in their own local transactions
    Map<String, List<String>> journal = new HashMap<>();
    for (JsonObject row : SagaBank.journal(databases)) {
      journal
          .computeIfAbsent(row.getString("gid"), k -> new ArrayList<>())
          .add(row.getString("step") + "." + row.getString("kind"));
    }
    Map<String, Integer> states = sagaStates(databases);
    assertThat(journal).isNotEmpty();
    for (var e : journal.entrySet()) {
      assertThat(e.getValue())
          .as("saga %s (log state %s)", e.getKey(), states.get(e.getKey()))
          .isIn(
              List.of("saga.debit.action", "saga.deposit.action"),
              List.of("saga.debit.action", "saga.debit.compensation"));
      boolean applied = e.getValue().contains("saga.deposit.action");
      assertThat(states.get(e.getKey()))
          .as("log state of saga %s", e.getKey())
          .isEqualTo(applied ? 4 : 5);
    }
    // A's abandoned sagas: past their pivot, B finished them forward; undecided, B compensated
    for (String gid : a.abandonedPastPivot) {
      assertThat(journal.get(gid))
          .as("abandoned saga %s past its pivot", gid)
          .containsExactly("saga.debit.action", "saga.deposit.action");
    }
    for (String gid : a.abandonedAfterDebit) {
      assertThat(journal.get(gid))
          .as("abandoned undecided saga %s", gid)
          .containsExactly("saga.debit.action", "saga.debit.compensation");
    }
  }

  static int preparedXaBranches(ShardDatabases databases) {
    int count = 0;
    for (int s = 0; s < databases.size(); s++) {
      for (JsonObject row : databases.get(s).shard().query(null, "XA RECOVER")) {
        if (io.shardkit.tx.impl.xa.Xid.isShardkit(row.getInteger("formatID"))) {
          count++;
        }
      }
    }
    return count;
  }

  /**
   * A's Vert.x was closed under transactions still running (e.g. a saga whose retry-only deposit
   * waits on a retry timer): their scopes wait on timers of a closed Vert.x and can never close,
   * and the registry is one per JVM. Only such scopes may be left open once everything else had
   * time to close; they are dropped, so that the leak guard checks the rest.
   */
  static List<String> dropScopesOfDeadInstance(Instance dead) throws Exception {
    io.shardkit.context.ScopeRegistry registry = TxScope.registry();
    TccTestSupport.eventually(Duration.ofSeconds(2), registry::isIdle);
    List<String> open = new ArrayList<>();
    java.util.regex.Matcher gids =
        java.util.regex.Pattern.compile("scope gid=(\\w+)").matcher(registry.describe());
    while (gids.find()) {
      open.add(gids.group(1));
    }
    assertThat(dead.inFlight).as("scopes left open: %s", registry.describe()).containsAll(open);
    for (int i = 0; i < 100 && !registry.isIdle(); i++) {
      try {
        registry.forceCloseAll("closed with " + dead.name + "'s Vert.x");
      } catch (java.util.concurrent.RejectedExecutionException deadEventLoop) {
        // the scope is closed; telling its caller needs A's event loop, which is gone
      }
    }
    assertThat(registry.isIdle()).as("registry after dropping: %s", registry.describe()).isTrue();
    return open;
  }

  /** Rows of {@code protocol} still TRYING, COMMIT or CANCEL in the log. */
  static int unfinished(ShardDatabases databases, String protocol) {
    return databases
        .get(0)
        .query(
            "SELECT COUNT(*) AS n FROM "
                + TCC.txTable()
                + " WHERE state IN (1, 2, 3) AND protocol = '"
                + protocol
                + "'")
        .get(0)
        .getInteger("n");
  }

  /** Log state of every saga: gid → state. */
  static Map<String, Integer> sagaStates(ShardDatabases databases) {
    Map<String, Integer> states = new HashMap<>();
    for (JsonObject row :
        databases
            .get(0)
            .query("SELECT gid, state FROM " + TCC.txTable() + " WHERE protocol = 'SAGA'")) {
      states.put(row.getString("gid"), row.getInteger("state"));
    }
    return states;
  }
}
