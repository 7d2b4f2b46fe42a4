package io.shardkit.tx.check;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardkit.router.ReadWriteSplittingOptions;
import io.shardkit.router.ReplicaStatus;
import io.shardkit.router.ShardedPool;
import io.shardkit.router.ShardingRules;
import io.shardkit.testkit.ReplicatedShards;
import io.shardkit.testkit.Shard;
import io.shardkit.testkit.ShardDatabases;
import io.shardkit.testkit.TestShards;
import io.shardkit.tx.Transactions;
import io.shardkit.tx.TransactionsOptions;
import io.shardkit.tx.impl.xa.Xid;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The consistency checker on real servers: every anomaly is injected for real behind the library's
 * back, and the checker must report exactly those (and nothing on the untouched data).
 */
class ConsistencyCheckerTest {

  static Vertx vertx;

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
    io.shardkit.router.impl.parse.StatementParser.warmUp();
  }

  @AfterAll
  static void stop() throws Exception {
    await(vertx.close());
  }

  static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }

  static ShardingRules rules() {
    return ShardingRules.builder()
        .table("account", t -> t.dataNodes("ds_${0..1}.account").databaseStrategy("id", "mod"))
        .broadcastTables("t_country")
        .build();
  }

  static ShardedPool pool(ShardDatabases dbs) {
    return ShardedPool.builder(vertx)
        .rules(rules())
        .dataSources(dbs.dataSources("ds_"), new PoolOptions().setMaxSize(4))
        .nonAtomicMultiNodeWrites(true)
        .build();
  }

  @Test
  void aBroadcastCopyChangedBehindTheLibrarysBackIsFoundRowByRow() throws Exception {
    try (ShardDatabases dbs = TestShards.get(2).createDatabases("check_bc", 2)) {
      dbs.executeOnAll(
          "CREATE TABLE t_country (code INT PRIMARY KEY, name VARCHAR(40), note VARCHAR(20))",
          "CREATE TABLE account (id INT PRIMARY KEY, balance INT)");
      ShardedPool pool = pool(dbs);
      try {
        List<Tuple> rows = new ArrayList<>();
        for (int i = 1; i <= 2500; i++) {
          rows.add(Tuple.of(i, "country " + i, i % 7 == 0 ? null : "n" + i));
        }
        await(
            pool.preparedQuery("INSERT INTO t_country (code, name, note) VALUES (?, ?, ?)")
                .executeBatch(rows));
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        ConsistencyChecker checker =
            ConsistencyChecker.create(
                vertx, pool, CheckOptions.defaults(null).withChunkSize(1000), meters);
        CheckReport clean = await(checker.checkCopies());
        assertThat(clean.consistent()).as(clean.summary()).isTrue();
        assertThat(clean.counts().get("rows compared")).isEqualTo(2500);
        assertThat(clean.counts().get("chunks compared")).isEqualTo(3);

        dbs.get(1)
            .execute(
                "UPDATE t_country SET name = 'Zoë' WHERE code = 1500",
                "UPDATE t_country SET note = NULL WHERE code = 2001",
                "DELETE FROM t_country WHERE code = 42",
                "INSERT INTO t_country VALUES (9999, 'extra', NULL)");
        CheckReport found = await(checker.checkCopies());
        System.out.println(found.summary());
        assertThat(found.anomalies())
            .extracting(Anomaly::kind, Anomaly::dataSource, Anomaly::table, Anomaly::keys)
            .containsExactlyInAnyOrder(
                org.assertj.core.groups.Tuple.tuple(
                    Anomaly.Kind.BROADCAST_COPY_DIFFERS, "ds_1", "t_country", "(42)"),
                org.assertj.core.groups.Tuple.tuple(
                    Anomaly.Kind.BROADCAST_COPY_DIFFERS, "ds_1", "t_country", "(1500)"),
                org.assertj.core.groups.Tuple.tuple(
                    Anomaly.Kind.BROADCAST_COPY_DIFFERS, "ds_1", "t_country", "(2001)"),
                org.assertj.core.groups.Tuple.tuple(
                    Anomaly.Kind.BROADCAST_COPY_DIFFERS, "ds_1", "t_country", "(9999)"));
        assertThat(found.anomalies().stream().filter(a -> a.keys().equals("(1500)")).findFirst())
            .get()
            .extracting(Anomaly::detail)
            .asString()
            .contains("name country 1500 vs Zoë");
        assertThat(
                meters
                    .get("shardkit.check.mismatches")
                    .tag("kind", "BROADCAST_COPY_DIFFERS")
                    .counter()
                    .count())
            .isEqualTo(4);
        assertThat(meters.get("shardkit.check.rows").counter().count()).isEqualTo(5000);
      } finally {
        await(pool.close());
      }
    }
  }

  @Test
  void aReplicaRowChangedIsFoundAndMereLagIsNot() throws Exception {
    try (ReplicatedShards servers = ReplicatedShards.start(1)) {
      Shard primary = servers.primary();
      primary.execute(null, "CREATE DATABASE ck_0", "CREATE DATABASE ck_1");
      for (String db : List.of("ck_0", "ck_1")) {
        primary.execute(
            db,
            "CREATE TABLE account (id INT PRIMARY KEY, balance INT)",
            "CREATE TABLE t_country (code INT PRIMARY KEY, name VARCHAR(40), note VARCHAR(20))");
      }
      StringBuilder values = new StringBuilder();
      for (int i = 0; i < 300; i += 2) {
        values.append(values.length() == 0 ? "" : ", ").append("(").append(i).append(", 100)");
      }
      primary.execute("ck_0", "INSERT INTO account VALUES " + values);
      servers.awaitCaughtUp(Duration.ofSeconds(30));
      ShardedPool pool =
          ShardedPool.builder(vertx)
              .rules(rules())
              .dataSource("ds_0", primary.connectOptions("ck_0"), new PoolOptions().setMaxSize(4))
              .dataSource("ds_1", primary.connectOptions("ck_1"), new PoolOptions().setMaxSize(4))
              .replica(
                  "ds_0",
                  "ds_0_r",
                  servers.replica(0).connectOptions("ck_0"),
                  new PoolOptions().setMaxSize(2))
              .readWriteSplitting(
                  ReadWriteSplittingOptions.defaults().withHeartbeatInterval(Duration.ofMillis(50)))
              .build();
      try {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!pool.replicaStatus().stream().allMatch(ReplicaStatus::healthy)
            && System.nanoTime() < until) {
          Thread.sleep(20);
        }
        ConsistencyChecker checker =
            ConsistencyChecker.create(
                vertx,
                pool,
                CheckOptions.defaults(null)
                    .withChunkSize(64)
                    .withReplicaCatchUp(Duration.ofSeconds(10)),
                new SimpleMeterRegistry());
        assertThat(await(checker.checkCopies()).consistent()).isTrue();

        // lag only: the replica stops applying, the primary changes a row, and the replica
        // applies again a second later, while the checker waits for it to catch up
        servers.replica(0).stopApplying();
        primary.execute("ck_0", "UPDATE account SET balance = 7 WHERE id = 100");
        Thread resume =
            new Thread(
                () -> {
                  try {
                    Thread.sleep(1000);
                    servers.replica(0).startApplying();
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                });
        resume.start();
        CheckReport lagging = await(checker.checkCopies());
        resume.join();
        assertThat(lagging.consistent()).as(lagging.summary()).isTrue();

        // a real difference: a row changed on the replica itself
        servers.replica(0).execute("ck_0", "UPDATE account SET balance = 1 WHERE id = 200");
        CheckReport found = await(checker.checkCopies());
        System.out.println(found.summary());
        assertThat(found.anomalies())
            .extracting(Anomaly::kind, Anomaly::dataSource, Anomaly::table, Anomaly::keys)
            .containsExactly(
                org.assertj.core.groups.Tuple.tuple(
                    Anomaly.Kind.REPLICA_DIFFERS, "ds_0/ds_0_r", "account", "(200)"));
      } finally {
        await(pool.close());
      }
    }
  }

  @Test
  void xaBranchesCommittedAndRolledBackByHandAndOneLeftPreparedAreFound() throws Exception {
    try (TestShards shards = TestShards.startWithBinaryLog(2);
        ShardDatabases dbs = shards.createDatabases("check_xa", 2)) {
      dbs.executeOnAll("CREATE TABLE account (id INT PRIMARY KEY, balance INT)");
      dbs.get(0).execute("INSERT INTO account VALUES (0, 100)");
      dbs.get(1).execute("INSERT INTO account VALUES (1, 100)");
      ShardedPool pool =
          ShardedPool.builder(vertx)
              .rules(rules())
              .dataSources(dbs.dataSources("ds_"), new PoolOptions().setMaxSize(4))
              .transactionManager(
                  p -> Transactions.create(vertx, p, TransactionsOptions.builder("ds_0").build()))
              .build();
      Transactions transactions = (Transactions) pool.transactionManager();
      try {
        await(transactions.installSchema());
        // a real cross-shard transfer through the manager: nothing to report about it
        await(
            pool.withTransaction(
                c ->
                    c.query("UPDATE account SET balance = balance - 5 WHERE id = 0")
                        .execute()
                        .compose(
                            r ->
                                c.query("UPDATE account SET balance = balance + 5 WHERE id = 1")
                                    .execute())));
        long past = System.currentTimeMillis() - 60_000;
        // by hand: both branches prepared, one committed, the other rolled back
        Xid a = new Xid("gidnotatomic000000000000a1", "ds_0", past);
        Xid b = new Xid("gidnotatomic000000000000a1", "ds_1", past);
        prepare(dbs, 0, a, "UPDATE account SET balance = balance - 10 WHERE id = 0");
        prepare(dbs, 1, b, "UPDATE account SET balance = balance + 10 WHERE id = 1");
        dbs.get(0).execute("XA COMMIT " + a.sql());
        dbs.get(1).execute("XA ROLLBACK " + b.sql());
        // by hand: a branch whose decision ds_1 keeps (COMMIT) rolled back on ds_0
        Xid c = new Xid("gidagainstdecision0000000c", "ds_0", past, "ds_1");
        prepare(dbs, 0, c, "UPDATE account SET balance = balance - 7 WHERE id = 0");
        dbs.get(1)
            .execute(
                "INSERT INTO shardkit_xa_decision (gid, state, decided_at)"
                    + " VALUES ('gidagainstdecision0000000c', 2, UTC_TIMESTAMP(3))");
        dbs.get(0).execute("XA ROLLBACK " + c.sql());
        // by hand: a branch left prepared a minute past its deadline
        Xid left = new Xid("gidleftprepared00000000000b", "ds_1", past);
        prepare(dbs, 1, left, "UPDATE account SET balance = balance + 1 WHERE id = 1");

        ConsistencyChecker checker =
            ConsistencyChecker.create(
                vertx,
                pool,
                CheckOptions.defaults(TransactionsOptions.builder("ds_0").build())
                    .withSettle(Duration.ofSeconds(30)),
                new SimpleMeterRegistry());
        CheckReport report = await(checker.checkTransactions());
        System.out.println(report.summary());
        assertThat(report.anomalies())
            .extracting(Anomaly::kind, Anomaly::globalId)
            .containsExactlyInAnyOrder(
                org.assertj.core.groups.Tuple.tuple(
                    Anomaly.Kind.XA_NOT_ATOMIC, "gidnotatomic000000000000a1"),
                org.assertj.core.groups.Tuple.tuple(
                    Anomaly.Kind.XA_AGAINST_DECISION, "gidagainstdecision0000000c"),
                org.assertj.core.groups.Tuple.tuple(
                    Anomaly.Kind.XA_BRANCH_IN_DOUBT, "gidleftprepared00000000000b"));
        assertThat(report.counts().get("XA transactions witnessed in binary logs"))
            .isGreaterThanOrEqualTo(3);
        dbs.get(1).execute("XA ROLLBACK " + left.sql());
      } finally {
        await(pool.close());
      }
    }
  }

  @Test
  void afterXaTransfersThroughAKilledShardTheBinaryLogsWitnessEveryOneAtomic() throws Exception {
    try (TestShards shards = TestShards.startWithBinaryLog(2);
        ShardDatabases dbs = shards.createDatabases("check_bank", 2)) {
      dbs.executeOnAll("CREATE TABLE account (id INT PRIMARY KEY, balance INT)");
      dbs.get(0).execute("INSERT INTO account VALUES (0, 1000), (2, 1000)");
      dbs.get(1).execute("INSERT INTO account VALUES (1, 1000), (3, 1000)");
      TransactionsOptions txOptions =
          TransactionsOptions.builder("ds_0")
              .recoveryGrace(Duration.ofMillis(500))
              .recoveryInterval(Duration.ofMillis(500))
              .build();
      ShardedPool pool =
          ShardedPool.builder(vertx)
              .rules(rules())
              .dataSources(dbs.dataSources("ds_"), new PoolOptions().setMaxSize(8))
              .transactionManager(p -> Transactions.create(vertx, p, txOptions))
              .transactionTimeout(Duration.ofSeconds(1))
              .build();
      Transactions transactions = (Transactions) pool.transactionManager();
      try {
        await(transactions.installSchema());
        await(transactions.startRecovery());
        java.util.concurrent.atomic.AtomicBoolean stop =
            new java.util.concurrent.atomic.AtomicBoolean();
        java.util.concurrent.atomic.AtomicInteger done =
            new java.util.concurrent.atomic.AtomicInteger();
        List<io.vertx.core.Promise<Void>> loops = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
          io.vertx.core.Promise<Void> loop = io.vertx.core.Promise.promise();
          loops.add(loop);
          int from = i % 2 == 0 ? 0 : 2;
          int to = i % 2 == 0 ? 1 : 3;
          vertx.runOnContext(v -> transfers(pool, from, to, stop, done, loop));
        }
        Thread.sleep(1500);
        dbs.get(1).shard().kill();
        Thread.sleep(1000);
        dbs.get(1).shard().start();
        Thread.sleep(2500);
        stop.set(true);
        for (io.vertx.core.Promise<Void> loop : loops) {
          await(loop.future());
        }
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < until && preparedBranches(dbs) > 0) {
          Thread.sleep(200);
        }
        await(transactions.stopRecovery());
        assertThat(preparedBranches(dbs)).isZero();
        CheckReport report = CheckAfterRun.assertConsistent(vertx, pool, txOptions);
        assertThat(report.counts().get("XA transactions witnessed in binary logs"))
            .as("transfers done: " + done.get())
            .isGreaterThan(30);
        long total = 0;
        for (int i = 0; i < 2; i++) {
          total += dbs.get(i).query("SELECT SUM(balance) AS s FROM account").get(0).getLong("s");
        }
        assertThat(total).isEqualTo(4000);
      } finally {
        await(pool.close());
      }
    }
  }

  private static int preparedBranches(ShardDatabases dbs) {
    int n = 0;
    for (int i = 0; i < 2; i++) {
      n += dbs.get(i).query("XA RECOVER").size();
    }
    return n;
  }

  private static void transfers(
      ShardedPool pool,
      int from,
      int to,
      java.util.concurrent.atomic.AtomicBoolean stop,
      java.util.concurrent.atomic.AtomicInteger done,
      io.vertx.core.Promise<Void> loop) {
    if (stop.get()) {
      loop.complete();
      return;
    }
    pool.withTransaction(
            c ->
                c.query("UPDATE account SET balance = balance - 1 WHERE id = " + from)
                    .execute()
                    .compose(
                        r ->
                            c.query("UPDATE account SET balance = balance + 1 WHERE id = " + to)
                                .execute()))
        .onComplete(
            ar -> {
              if (ar.succeeded()) {
                done.incrementAndGet();
              }
              // failures (the killed shard) are expected; keep going after a short pause
              vertx.setTimer(
                  ar.succeeded() ? 1 : 50, t -> transfers(pool, from, to, stop, done, loop));
            });
  }

  private static void prepare(ShardDatabases dbs, int index, Xid xid, String sql) {
    // one connection: XA START .. XA PREPARE, then it closes (the branch stays prepared)
    dbs.get(index)
        .execute("XA START " + xid.sql(), sql, "XA END " + xid.sql(), "XA PREPARE " + xid.sql());
  }

  @Test
  void tccBranchesLeftTriedOrAgainstTheDecisionAndUnfinishedRowsAreFound() throws Exception {
    try (ShardDatabases dbs = TestShards.get(2).createDatabases("check_tcc", 2)) {
      dbs.executeOnAll("CREATE TABLE account (id INT PRIMARY KEY, balance INT)");
      ShardedPool pool = pool(dbs);
      TransactionsOptions txOptions = TransactionsOptions.builder("ds_0").build();
      Transactions transactions = Transactions.create(vertx, pool, txOptions);
      try {
        await(transactions.installSchema());
        String tx = txOptions.logTable();
        String fence = txOptions.tcc().fenceTable();
        String branches =
            "[{\"branch\":\"1\",\"action\":\"debit\",\"args\":{}},"
                + "{\"branch\":\"2\",\"action\":\"credit\",\"args\":{}}]";
        // a committed transaction whose branch 2 was tried but never confirmed
        dbs.get(0)
            .execute(
                "INSERT INTO "
                    + tx
                    + " (gid, protocol, state, deadline_at, next_attempt_at, attempts, created_at,"
                    + " updated_at, branches) VALUES ('gidcommittedbad', 'TCC', 4,"
                    + " NOW(3) - INTERVAL 5 MINUTE, NULL, 0, NOW(3), NOW(3), '"
                    + branches
                    + "'), ('gidcommittedok', 'TCC', 4, NOW(3) - INTERVAL 5 MINUTE, NULL, 0,"
                    + " NOW(3), NOW(3), '"
                    + branches
                    + "'), ('gidstucktrying', 'TCC', 1, NOW(3) - INTERVAL 5 MINUTE,"
                    + " NOW(3), 0, NOW(3), NOW(3), '[]')");
        String at = "NOW(3) - INTERVAL 4 MINUTE";
        dbs.get(0)
            .execute(
                "INSERT INTO "
                    + fence
                    + " VALUES ('gidcommittedbad', '1', 1, 1, 'debit', "
                    + at
                    + "),"
                    + " ('gidcommittedbad', '1', 2, 2, 'debit', "
                    + at
                    + "),"
                    + " ('gidcommittedok', '1', 1, 1, 'debit', "
                    + at
                    + "),"
                    + " ('gidcommittedok', '1', 2, 2, 'debit', "
                    + at
                    + ")");
        dbs.get(1)
            .execute(
                "INSERT INTO "
                    + fence
                    + " VALUES ('gidcommittedbad', '2', 1, 1, 'credit', "
                    + at
                    + "),"
                    + " ('gidcommittedok', '2', 1, 1, 'credit', "
                    + at
                    + "),"
                    + " ('gidcommittedok', '2', 2, 2, 'credit', "
                    + at
                    + "),"
                    // a branch left tried, whose transaction has no log row
                    + " ('gidorphan', '1', 1, 1, 'credit', "
                    + at
                    + ")");
        ConsistencyChecker checker =
            ConsistencyChecker.create(
                vertx,
                pool,
                CheckOptions.defaults(txOptions).withSettle(Duration.ofMinutes(1)),
                new SimpleMeterRegistry());
        CheckReport report = await(checker.checkTransactions());
        System.out.println(report.summary());
        assertThat(report.anomalies())
            .extracting(Anomaly::kind, Anomaly::globalId)
            .containsExactlyInAnyOrder(
                org.assertj.core.groups.Tuple.tuple(
                    Anomaly.Kind.TX_BRANCH_AGAINST_DECISION, "gidcommittedbad"),
                org.assertj.core.groups.Tuple.tuple(Anomaly.Kind.TX_NOT_FINISHED, "gidstucktrying"),
                org.assertj.core.groups.Tuple.tuple(
                    Anomaly.Kind.TX_BRANCH_LEFT_TRIED, "gidorphan"));
        assertThat(report.notes()).anyMatch(n -> n.contains("no binary log"));
      } finally {
        await(transactions.close());
        await(pool.close());
      }
    }
  }
}
