package io.shardkit.tx.impl.xa;

import static io.shardkit.tx.impl.xa.XaFixture.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.shardkit.context.ShardkitException;
import io.shardkit.context.TxScope;
import io.shardkit.context.junit.LeakGuardExtension;
import io.shardkit.testkit.Shard;
import io.shardkit.testkit.ShardDatabases;
import io.shardkit.testkit.Shards;
import io.shardkit.testkit.TestPostgres;
import io.shardkit.tx.PostgresSourceOptions;
import io.shardkit.tx.TransactionOutcomePendingException.Decision;
import io.shardkit.tx.TransactionsOptions;
import io.shardkit.tx.impl.xa.XaBankTest.Seen;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The bank across two MySQL shards and one PostgreSQL database: 600 accounts split over the three
 * (every third account on PostgreSQL, the others on {@code ds_0}/{@code ds_1} by id), 32 concurrent
 * transfer loops for {@code shardkit.bank.seconds} (12 s in {@code mvn verify}), while PostgreSQL
 * is killed (kill -9, postmaster and backends) in the middle of a commit (between a transaction's
 * durable COMMIT decision and its branches' commits) and restarted, {@code ds_1} is frozen
 * (SIGSTOP) and resumed, and the coordinator abandons every transaction that reaches its decision
 * during 300 ms (as if it had died there). Only a second instance runs recovery. Afterwards: the
 * total is conserved, every transfer seen committed (or pending) is applied on both accounts, every
 * one seen rolled back on neither, an abandoned one on both if the log says COMMIT and on neither
 * otherwise, no transfer is half-applied, each balance is its start plus its transfer rows, and
 * pg_prepared_xacts and XA RECOVER hold no shardkit branch.
 */
@Shards(2)
@ExtendWith(LeakGuardExtension.class)
class PgBankTest {

  static final int ACCOUNTS = 600;
  static final long START_BALANCE = 1_000;
  static final int LOOPS = 32;

  static boolean onPostgres(long id) {
    return id % 3 == 0;
  }

  @Test
  void transfersAcrossMySqlAndPostgresStayAtomicThroughFaults(ShardDatabases dbs) throws Exception {
    long seconds = Long.getLong("shardkit.bank.seconds", 60);
    XaFixture.createTables(dbs);
    try (TestPostgres pg = TestPostgres.start(100)) {
      pg.execute(
          "CREATE TABLE account (id BIGINT PRIMARY KEY, balance BIGINT NOT NULL)",
          PgXaTest.PG_TRANSFER);
      java.util.function.Supplier<TransactionsOptions.Builder> options =
          () ->
              XaFixture.options()
                  .recoveryGrace(Duration.ofSeconds(1))
                  .recoveryInterval(Duration.ofSeconds(1))
                  .logRetention(Duration.ofHours(1))
                  .postgres(
                      "pg",
                      new PostgresSourceOptions(pg.connectOptions())
                          .poolOptions(new PoolOptions().setMaxSize(16)));
      try (XaFixture fx = new XaFixture(dbs, options.get(), 16);
          XaFixture second = fx.another(options.get())) {
        await(fx.transactions.installSchema());
        reset(fx, pg);
        await(fx.transactions.warmUp());
        // only the second instance recovers: what the first abandons, the second finishes
        await(second.tx.recovery().start());

        Map<String, Seen> seen = new ConcurrentHashMap<>();
        Map<String, String> gids = new ConcurrentHashMap<>();
        List<String> abandoned = java.util.Collections.synchronizedList(new ArrayList<>());
        AtomicBoolean killAtNextCommit = new AtomicBoolean();
        AtomicInteger killedDuringCommit = new AtomicInteger();
        fx.tx.beforeCommit(
            gid -> {
              if (!killAtNextCommit.compareAndSet(true, false)) {
                return Future.succeededFuture();
              }
              // COMMIT is durable, no branch committed yet: PostgreSQL dies now
              return fx.vertx.executeBlocking(
                  () -> {
                    pg.kill();
                    killedDuringCommit.incrementAndGet();
                    return null;
                  });
            });
        // the transfers run until every fault below has been injected (a fixed end could come
        // before the last fault on a slow machine: PostgreSQL's restart alone takes seconds)
        java.util.concurrent.atomic.AtomicBoolean stopped =
            new java.util.concurrent.atomic.AtomicBoolean();
        Promise<Void> allDone = Promise.promise();
        AtomicInteger loopsLeft = new AtomicInteger(LOOPS);
        for (int loop = 0; loop < LOOPS; loop++) {
          SplittableRandom random = new SplittableRandom(loop);
          int loopId = loop;
          fx.vertx.runOnContext(
              v ->
                  loop(
                      fx,
                      random,
                      loopId,
                      new int[1],
                      stopped,
                      seen,
                      gids,
                      abandoned,
                      loopsLeft,
                      allDone));
        }

        Shard frozen = dbs.get(1).shard();
        long phase = seconds * 1000 / 6;
        Thread.sleep(phase);
        killAtNextCommit.set(true);
        Thread.sleep(phase);
        for (int i = 0; i < 100 && killedDuringCommit.get() == 0; i++) {
          Thread.sleep(50);
        }
        pg.startAgain();
        Thread.sleep(phase / 2);
        frozen.pause();
        Thread.sleep(Math.min(phase, 5_000));
        frozen.resume();
        Thread.sleep(phase / 2);
        fx.tx.stopAt(StopPoint.AFTER_DECISION);
        Thread.sleep(300);
        for (int i = 0; i < 100 && abandoned.isEmpty(); i++) {
          Thread.sleep(50);
        }
        fx.tx.stopAt(StopPoint.NONE);
        Thread.sleep(phase / 2);
        stopped.set(true);
        await(allDone.future());
        fx.tx.beforeCommit((java.util.function.Function<String, Future<Void>>) null);

        // the second instance's recovery finishes what the faults and the abandons left
        long until = System.nanoTime() + 60_000_000_000L;
        while ((fx.preparedBranchesEverywhere() > 0 || !pg.preparedTransactions().isEmpty())
            && System.nanoTime() < until) {
          Thread.sleep(500);
        }
        await(second.tx.recovery().stop());
        await(second.tx.recovery().runOnce());

        Map<Seen, Integer> counts = new EnumMap<>(Seen.class);
        seen.values().forEach(s -> counts.merge(s, 1, Integer::sum));
        System.out.printf(
            "pg bank: %d s, %d transfers: committed=%d, committed-pending=%d, rolled back=%d,"
                + " timed out (rolled back)=%d, unknown=%d, abandoned=%d; PostgreSQL killed"
                + " during a commit %d time(s)%n",
            seconds,
            seen.size() + abandoned.size(),
            counts.getOrDefault(Seen.COMMITTED, 0),
            counts.getOrDefault(Seen.PENDING, 0),
            counts.getOrDefault(Seen.ROLLED_BACK, 0),
            counts.getOrDefault(Seen.TIMED_OUT, 0),
            counts.getOrDefault(Seen.UNKNOWN, 0),
            abandoned.size(),
            killedDuringCommit.get());

        assertThat(pg.preparedTransactions()).as("pg_prepared_xacts").isEmpty();
        assertThat(fx.preparedBranchesEverywhere()).as("shardkit branches in XA RECOVER").isZero();

        Map<String, Integer> rowsPerTransfer = new HashMap<>();
        Map<Long, Long> deltaPerAccount = new HashMap<>();
        List<JsonObject> rows =
            new ArrayList<>(pg.query("SELECT tid, account, delta FROM transfer"));
        for (int i = 0; i < 2; i++) {
          rows.addAll(dbs.get(i).query("SELECT tid, account, delta FROM transfer"));
        }
        for (JsonObject row : rows) {
          rowsPerTransfer.merge(row.getString("tid"), 1, Integer::sum);
          deltaPerAccount.merge(row.getLong("account"), row.getLong("delta"), Long::sum);
        }
        long total = 0;
        Map<Long, Long> balances = balances(fx, pg);
        for (long id = 1; id <= ACCOUNTS; id++) {
          assertThat(balances.get(id))
              .as("balance of account %d", id)
              .isEqualTo(START_BALANCE + deltaPerAccount.getOrDefault(id, 0L));
          total += balances.get(id);
        }
        assertThat(total).as("total").isEqualTo(ACCOUNTS * START_BALANCE);
        for (Map.Entry<String, Seen> e : seen.entrySet()) {
          int actual = rowsPerTransfer.getOrDefault(e.getKey(), 0);
          switch (e.getValue()) {
            case COMMITTED, PENDING ->
                assertThat(actual).as("rows of %s %s", e.getValue(), e.getKey()).isEqualTo(2);
            case ROLLED_BACK, TIMED_OUT ->
                assertThat(actual).as("rows of %s %s", e.getValue(), e.getKey()).isZero();
            case UNKNOWN -> assertThat(actual).as("rows of unknown %s", e.getKey()).isIn(0, 2);
          }
        }
        int abandonedCommitted = 0;
        for (String tid : abandoned) {
          Optional<Decision> decision = await(second.transactions.decision(gids.get(tid)));
          boolean committed = decision.isPresent() && decision.get() == Decision.COMMIT;
          abandonedCommitted += committed ? 1 : 0;
          assertThat(rowsPerTransfer.getOrDefault(tid, 0))
              .as("rows of abandoned %s (decision %s)", tid, decision)
              .isEqualTo(committed ? 2 : 0);
        }
        System.out.printf(
            "pg bank: %d abandoned after their COMMIT decision, finished by the second instance%n",
            abandonedCommitted);
        assertThat(rowsPerTransfer.values()).as("no half-applied transfer").allMatch(n -> n == 2);
        assertThat(rowsPerTransfer.keySet())
            .allSatisfy(
                tid -> assertThat(seen.containsKey(tid) || abandoned.contains(tid)).isTrue());
        assertThat(counts.getOrDefault(Seen.COMMITTED, 0))
            .as("transfers committed across the faults")
            .isGreaterThan(100);
        assertThat(killedDuringCommit.get()).as("PostgreSQL killed during a commit").isEqualTo(1);
        assertThat(abandonedCommitted).as("abandoned after the decision").isPositive();
      }
    }
  }

  private static void reset(XaFixture fx, TestPostgres pg) {
    StringBuilder[] mysql = new StringBuilder[2];
    StringBuilder pgInsert = new StringBuilder("INSERT INTO account VALUES ");
    boolean firstPg = true;
    for (long id = 1; id <= ACCOUNTS; id++) {
      String value = "(" + id + ", " + START_BALANCE + ")";
      if (onPostgres(id)) {
        pgInsert.append(firstPg ? "" : ", ").append(value);
        firstPg = false;
      } else {
        int shard = (int) (id % 2);
        if (mysql[shard] == null) {
          mysql[shard] = new StringBuilder("INSERT INTO account VALUES ");
        } else {
          mysql[shard].append(", ");
        }
        mysql[shard].append(value);
      }
    }
    for (int i = 0; i < 2; i++) {
      fx.dbs.get(i).execute("DELETE FROM account", "DELETE FROM transfer", mysql[i].toString());
    }
    pg.execute("DELETE FROM account", "DELETE FROM transfer", pgInsert.toString());
  }

  private static Map<Long, Long> balances(XaFixture fx, TestPostgres pg) {
    Map<Long, Long> out = new HashMap<>();
    List<JsonObject> rows = new ArrayList<>(pg.query("SELECT id, balance FROM account"));
    for (int i = 0; i < 2; i++) {
      rows.addAll(fx.dbs.get(i).query("SELECT id, balance FROM account"));
    }
    for (JsonObject row : rows) {
      out.put(row.getLong("id"), row.getLong("balance"));
    }
    return out;
  }

  /** One leg of a transfer on the account's own database, with its transfer row. */
  private static Future<Void> leg(
      XaFixture fx, SqlConnection sql, String tid, long account, long delta) {
    if (onPostgres(account)) {
      return fx.transactions
          .postgres("pg")
          .compose(
              p ->
                  p.preparedQuery("UPDATE account SET balance = balance + $1 WHERE id = $2")
                      .execute(Tuple.of(delta, account))
                      .compose(
                          rs ->
                              p.preparedQuery(
                                      "INSERT INTO transfer (tid, account, delta) VALUES ($1, $2, $3)")
                                  .execute(Tuple.of(tid, account, delta))))
          .mapEmpty();
    }
    return sql.preparedQuery("UPDATE account SET balance = balance + ? WHERE id = ?")
        .execute(Tuple.of(delta, account))
        .compose(
            rs ->
                sql.preparedQuery("INSERT INTO transfer (tid, account, delta) VALUES (?, ?, ?)")
                    .execute(Tuple.of(tid, account, delta)))
        .mapEmpty();
  }

  private static void loop(
      XaFixture fx,
      SplittableRandom random,
      int loopId,
      int[] n,
      java.util.concurrent.atomic.AtomicBoolean stopped,
      Map<String, Seen> seen,
      Map<String, String> gids,
      List<String> abandoned,
      AtomicInteger loopsLeft,
      Promise<Void> allDone) {
    if (stopped.get()) {
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
    String tid = "P" + loopId + "-" + n[0]++;
    long target = to;
    Future<Void> f =
        fx.pool.withTransaction(
            Duration.ofSeconds(2),
            sql -> {
              gids.put(tid, TxScope.current().orElseThrow().globalId());
              return leg(fx, sql, tid, from, -amount)
                  .compose(v -> leg(fx, sql, tid, target, amount));
            });
    f.onComplete(
        ar -> {
          if (ar.failed()
              && ar.cause() instanceof ShardkitException e
              && e.getClass() == ShardkitException.class
              && String.valueOf(e.getMessage()).contains("abandoned at a test stop point")) {
            abandoned.add(tid);
          } else {
            seen.put(tid, XaBankTest.classify(ar.succeeded() ? null : ar.cause()));
          }
          long delay = ar.succeeded() ? 0 : 20;
          fx.vertx.setTimer(
              Math.max(1, delay),
              id ->
                  loop(fx, random, loopId, n, stopped, seen, gids, abandoned, loopsLeft, allDone));
        });
  }
}
