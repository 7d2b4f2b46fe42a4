package io.shardkit.router.replica;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardkit.context.RoutingHint;
import io.shardkit.context.ScopeOptions;
import io.shardkit.context.ShardkitTimeoutException;
import io.shardkit.context.TxScope;
import io.shardkit.router.ReadWriteSplittingOptions;
import io.shardkit.router.ReadWriteSplittingOptions.LoadBalancer;
import io.shardkit.router.ReplicaStatus;
import io.shardkit.router.ShardedPool;
import io.shardkit.router.ShardingRules;
import io.shardkit.testkit.Replica;
import io.shardkit.testkit.ReplicatedShards;
import io.shardkit.testkit.Shard;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Read/write splitting on real MariaDB replication: one primary server holding the databases of
 * ds_0 and ds_1, two replica servers following it. ds_0 has both replicas (server ids 2 and 3),
 * ds_1 none. Which server answered a read is read from the data itself ({@code @@server_id} of the
 * server that ran the statement: 1 is the primary).
 */
class ReadWriteSplittingTest {

  static final String POINT = "SELECT id, @@server_id AS sid FROM t_acct WHERE id = ?";

  static ReplicatedShards servers;
  static Vertx vertx;
  ShardedPool pool;
  SimpleMeterRegistry meters;

  @BeforeAll
  static void start() {
    servers = ReplicatedShards.start(2);
    Shard primary = servers.primary();
    for (String db : new String[] {"rw_0", "rw_1"}) {
      primary.execute(null, "CREATE DATABASE " + db);
      primary.execute(db, "CREATE TABLE t_acct (id INT PRIMARY KEY, balance INT NOT NULL)");
    }
    primary.execute("rw_0", "INSERT INTO t_acct VALUES (0, 100), (2, 200)");
    primary.execute("rw_1", "INSERT INTO t_acct VALUES (1, 100)");
    servers.awaitCaughtUp(Duration.ofSeconds(30));
    vertx = Vertx.vertx();
    io.shardkit.router.impl.parse.StatementParser.warmUp();
  }

  @AfterAll
  static void stop() throws Exception {
    if (vertx != null) {
      vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
    if (servers != null) {
      servers.close();
    }
  }

  @BeforeEach
  void meters() {
    meters = new SimpleMeterRegistry();
  }

  @AfterEach
  void closePool() throws Exception {
    if (pool != null) {
      await(pool.close());
    }
    for (Replica r : servers.replicas()) {
      if (!r.isRunning()) {
        r.start();
      }
      r.startApplying();
    }
    servers.awaitCaughtUp(Duration.ofSeconds(30));
  }

  ShardedPool build(ReadWriteSplittingOptions options, int weight0, int weight1) {
    return builder(options, weight0, weight1).build();
  }

  /** ds_0 on the primary with its two replicas, ds_1 on the primary alone. */
  ShardedPool.Builder builder(ReadWriteSplittingOptions options, int weight0, int weight1) {
    ShardingRules rules =
        ShardingRules.builder()
            .table("t_acct", t -> t.dataNodes("ds_${0..1}.t_acct").databaseStrategy("id", "mod"))
            .build();
    PoolOptions small = new PoolOptions().setMaxSize(4);
    return ShardedPool.builder(vertx)
        .rules(rules)
        .dataSource("ds_0", servers.primary().connectOptions("rw_0"), small)
        .dataSource("ds_1", servers.primary().connectOptions("rw_1"), small)
        .replica("ds_0", "ds_0_r1", servers.replica(0).connectOptions("rw_0"), small, weight0)
        .replica("ds_0", "ds_0_r2", servers.replica(1).connectOptions("rw_0"), small, weight1)
        .readWriteSplitting(options)
        .meterRegistry(meters);
  }

  /**
   * A read a replica runs, cut by its caller's deadline, is killed on that replica (not on the
   * primary, whose thread ids are other connections'), with adaptive admission (the default) and
   * without it.
   */
  @Test
  void aReplicaReadPastItsDeadlineIsKilledOnTheReplicaThatRanIt() throws Exception {
    for (Duration target :
        new Duration[] {ShardedPool.Builder.DEFAULT_QUEUE_DELAY_TARGET, Duration.ZERO}) {
      pool = builder(fast(LoadBalancer.ROUND_ROBIN), 1, 1).queueDelayTarget(target).build();
      awaitStatus(s -> healthy(s, "ds_0_r1") && healthy(s, "ds_0_r2"));
      assertThat(sid(pool.preparedQuery(POINT).execute(Tuple.of(0)))).isGreaterThan(1); // warm
      Throwable cut =
          TxScope.run(
                  vertx,
                  ScopeOptions.ofTimeout(Duration.ofMillis(300)),
                  () ->
                      pool.preparedQuery("SELECT SLEEP(5) AS s, id FROM t_acct WHERE id = ?")
                          .execute(Tuple.of(0)))
              .transform(ar -> Future.succeededFuture(ar.cause()))
              .toCompletionStage()
              .toCompletableFuture()
              .get(10, TimeUnit.SECONDS);
      assertThat(cut)
          .as("queueDelayTarget %s", target)
          .isInstanceOf(ShardkitTimeoutException.class);
      long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
      int running = sleeping();
      while (running > 0 && System.nanoTime() < until) {
        Thread.sleep(20);
        running = sleeping();
      }
      assertThat(running)
          .as(
              "the replicas' SLEEP(5) read 2 s after its 300 ms deadline (queueDelayTarget %s)",
              target)
          .isZero();
      await(pool.close());
      pool = null;
    }
  }

  /** The SLEEP(5) reads still running on either replica. */
  static int sleeping() {
    int n = 0;
    for (Replica r : servers.replicas()) {
      n +=
          r.query(
                  null,
                  "SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE INFO LIKE"
                      + " 'SELECT SLEEP(5)%'")
              .get(0)
              .getInteger("n");
    }
    return n;
  }

  static ReadWriteSplittingOptions fast(LoadBalancer balancer) {
    return ReadWriteSplittingOptions.defaults()
        .withLoadBalancer(balancer)
        .withHeartbeatInterval(Duration.ofMillis(50))
        .withMaxReplicationLag(Duration.ofMillis(400));
  }

  /** Waits until the replicas' health is what {@code expected} says. */
  void awaitStatus(Predicate<Map<String, ReplicaStatus>> expected) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    Map<String, ReplicaStatus> now = new HashMap<>();
    while (System.nanoTime() < deadline) {
      now.clear();
      for (ReplicaStatus s : pool.replicaStatus()) {
        now.put(s.replica(), s);
      }
      if (expected.test(now)) {
        return;
      }
      Thread.sleep(20);
    }
    throw new AssertionError("replica status never became as expected: " + now);
  }

  static boolean healthy(Map<String, ReplicaStatus> s, String replica) {
    return s.containsKey(replica) && s.get(replica).healthy();
  }

  int sid(Future<RowSet<Row>> rows) throws Exception {
    RowSet<Row> rs = await(rows);
    return rs.iterator().next().getInteger("sid");
  }

  Map<Integer, Integer> readsByServer(String sql, int id, int reads) throws Exception {
    Map<Integer, Integer> by = new HashMap<>();
    for (int i = 0; i < reads; i++) {
      by.merge(sid(pool.preparedQuery(sql).execute(Tuple.of(id))), 1, Integer::sum);
    }
    return by;
  }

  @Test
  void roundRobinSpreadsReadsEvenlyAndWritesGoToThePrimary() throws Exception {
    pool = build(fast(LoadBalancer.ROUND_ROBIN), 1, 1);
    awaitStatus(s -> healthy(s, "ds_0_r1") && healthy(s, "ds_0_r2"));
    assertThat(readsByServer(POINT, 0, 100)).isEqualTo(Map.of(2, 50, 3, 50));
    // ds_1 has no replicas: its reads stay on the primary
    assertThat(readsByServer(POINT, 1, 5)).isEqualTo(Map.of(1, 5));
    // a locking read is the primary's, also outside a transaction
    assertThat(readsByServer(POINT + " FOR UPDATE", 0, 5)).isEqualTo(Map.of(1, 5));
    // a write lands on the primary and reaches the replicas through replication only
    await(
        pool.preparedQuery("INSERT INTO t_acct (id, balance) VALUES (?, ?)")
            .execute(Tuple.of(4, 400)));
    assertThat(servers.primary().query("rw_0", "SELECT balance FROM t_acct WHERE id = 4"))
        .hasSize(1);
    servers.awaitCaughtUp(Duration.ofSeconds(20));
    assertThat(servers.replica(0).query("rw_0", "SELECT balance FROM t_acct WHERE id = 4"))
        .hasSize(1);
    // scatter reads run on replicas too and merge exactly
    RowSet<Row> all =
        await(pool.query("SELECT COUNT(*) AS n, SUM(balance) AS s FROM t_acct").execute());
    Row row = all.iterator().next();
    assertThat(row.getLong("n")).isEqualTo(4);
    assertThat(row.getNumeric("s").intValue()).isEqualTo(800);
    double routed =
        meters.get("shardkit.router.replica.reads").tag("replica", "ds_0_r1").counter().count()
            + meters
                .get("shardkit.router.replica.reads")
                .tag("replica", "ds_0_r2")
                .counter()
                .count();
    assertThat(routed).isGreaterThanOrEqualTo(101);
  }

  @Test
  void weightedBalancerFollowsTheWeights() throws Exception {
    pool = build(fast(LoadBalancer.WEIGHT), 1, 3);
    awaitStatus(s -> healthy(s, "ds_0_r1") && healthy(s, "ds_0_r2"));
    Map<Integer, Integer> by = readsByServer(POINT, 2, 800);
    assertThat(by.keySet()).containsOnly(2, 3);
    // expected 200 : 600; binomial sd ~12, allow 5 sd
    assertThat(by.get(2)).isBetween(140, 260);
    assertThat(by.get(3)).isBetween(540, 660);
  }

  @Test
  void aLaggingReplicaGetsNoReadsAndWithNoneHealthyReadsGoToThePrimary() throws Exception {
    pool = build(fast(LoadBalancer.RANDOM), 1, 1);
    awaitStatus(s -> healthy(s, "ds_0_r1") && healthy(s, "ds_0_r2"));
    assertThat(readsByServer(POINT, 0, 60).keySet()).containsOnly(2, 3);

    servers.replica(0).stopApplying();
    awaitStatus(s -> !healthy(s, "ds_0_r1") && healthy(s, "ds_0_r2"));
    ReplicaStatus lagging =
        pool.replicaStatus().stream().filter(s -> s.replica().equals("ds_0_r1")).findFirst().get();
    assertThat(lagging.reason()).contains("lags");
    assertThat(lagging.lag()).isGreaterThan(Duration.ofMillis(400));
    assertThat(meters.get("shardkit.router.replica.lag").tag("replica", "ds_0_r1").gauge().value())
        .isGreaterThan(0.4);
    assertThat(readsByServer(POINT, 0, 40)).isEqualTo(Map.of(3, 40));

    servers.replica(1).stopApplying();
    awaitStatus(s -> !healthy(s, "ds_0_r1") && !healthy(s, "ds_0_r2"));
    assertThat(readsByServer(POINT, 0, 10)).isEqualTo(Map.of(1, 10));

    servers.replica(0).startApplying();
    servers.replica(1).startApplying();
    awaitStatus(s -> healthy(s, "ds_0_r1") && healthy(s, "ds_0_r2"));
    assertThat(readsByServer(POINT, 0, 60).keySet()).containsOnly(2, 3);
  }

  @Test
  void readYourWritesUnderTheHintInTransactionsAndOnAConnectionThatWrote() throws Exception {
    // a lag bound no loaded machine reaches during the test: the stale replicas must stay in use
    // (with 400 ms a slow CI run judged them lagging and sent the first read to the primary)
    pool =
        build(fast(LoadBalancer.ROUND_ROBIN).withMaxReplicationLag(Duration.ofSeconds(60)), 1, 1);
    awaitStatus(s -> healthy(s, "ds_0_r1") && healthy(s, "ds_0_r2"));
    servers.replica(0).stopApplying();
    servers.replica(1).stopApplying();
    // both replicas now miss the next write, and are not judged lagging
    await(
        pool.preparedQuery("UPDATE t_acct SET balance = balance + 1 WHERE id = ?")
            .execute(Tuple.of(2)));
    int expected =
        servers
            .primary()
            .query("rw_0", "SELECT balance FROM t_acct WHERE id = 2")
            .get(0)
            .getInteger("balance");
    String read = "SELECT balance, @@server_id AS sid FROM t_acct WHERE id = 2";

    // the hint: every read of the scope on the primary
    Row hinted =
        await(
                TxScope.run(
                    vertx,
                    ScopeOptions.builder().routingHint(RoutingHint.primary()).build(),
                    () -> pool.query(read).execute()))
            .iterator()
            .next();
    assertThat(hinted.getInteger("sid")).isEqualTo(1);
    assertThat(hinted.getInteger("balance")).isEqualTo(expected);

    // inside a transaction: the primary
    Row inTx = await(pool.withTransaction(c -> c.query(read).execute())).iterator().next();
    assertThat(inTx.getInteger("sid")).isEqualTo(1);
    assertThat(inTx.getInteger("balance")).isEqualTo(expected);

    // a connection outside a transaction: replicas until it writes, the primary afterwards
    SqlConnection conn = await(pool.getConnection());
    try {
      assertThat(await(conn.query(read).execute()).iterator().next().getInteger("sid")).isIn(2, 3);
      await(conn.query("UPDATE t_acct SET balance = balance + 1 WHERE id = 2").execute());
      Row after = await(conn.query(read).execute()).iterator().next();
      assertThat(after.getInteger("sid")).isEqualTo(1);
      assertThat(after.getInteger("balance")).isEqualTo(expected + 1);
    } finally {
      await(conn.close());
    }
  }

  @Test
  void aKilledReplicaIsSkippedWithoutFailingReadsAndReadAgainAfterItsRestart() throws Exception {
    pool = build(fast(LoadBalancer.ROUND_ROBIN), 1, 1);
    awaitStatus(s -> healthy(s, "ds_0_r1") && healthy(s, "ds_0_r2"));
    servers.replica(1).kill();
    // no read fails: one that meets the dead replica runs again on the primary
    Map<Integer, Integer> by = readsByServer(POINT, 0, 40);
    assertThat(by.keySet()).doesNotContain(3);
    assertThat(by.get(2)).isGreaterThanOrEqualTo(19);
    awaitStatus(s -> healthy(s, "ds_0_r1") && !healthy(s, "ds_0_r2"));
    assertThat(readsByServer(POINT, 0, 20)).isEqualTo(Map.of(2, 20));
    servers.replica(1).start();
    awaitStatus(s -> healthy(s, "ds_0_r1") && healthy(s, "ds_0_r2"));
    assertThat(readsByServer(POINT, 0, 20)).isEqualTo(Map.of(2, 10, 3, 10));
  }

  static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }
}
