package io.shardkit.examples;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.shardkit.context.RoutingHint;
import io.shardkit.context.ScopeOptions;
import io.shardkit.context.TxScope;
import io.shardkit.router.ReadWriteSplittingOptions;
import io.shardkit.router.ReplicaStatus;
import io.shardkit.router.ShardedPool;
import io.shardkit.router.ShardingRules;
import io.shardkit.testkit.ReplicatedShards;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * Read/write splitting on real replication: one primary server (the databases of {@code ds_0} and
 * {@code ds_1}) and two replica servers following it; {@code ds_0} reads from both replicas. The
 * program writes through the pool, shows which server answered each read ({@code @@server_id}: 1 is
 * the primary), makes one replica lag for real (its SQL thread stopped) and shows that it gets no
 * reads, reads its own write through the primary hint, and prints the replica meters as Prometheus
 * serves them.
 */
public final class ReadReplicasExample {

  static final String WHO = "SELECT id, @@server_id AS server FROM t_acct WHERE id = ?";

  private ReadReplicasExample() {}

  public static void main(String[] args) throws Exception {
    try (ReplicatedShards servers = ReplicatedShards.start(2)) {
      Vertx vertx = Vertx.vertx();
      try {
        String scrape = run(vertx, servers);
        System.out.println("replica meters (Prometheus):");
        scrape
            .lines()
            .filter(l -> l.startsWith("shardkit_router_replica_"))
            .forEach(l -> System.out.println("  " + l));
        System.out.println("read replicas example: done");
      } finally {
        vertx.close().toCompletionStage().toCompletableFuture().join();
      }
    }
  }

  /** The example's work; returns the Prometheus scrape taken at its end. */
  static String run(Vertx vertx, ReplicatedShards servers) throws Exception {
    servers.primary().execute(null, "CREATE DATABASE rr_0", "CREATE DATABASE rr_1");
    for (String db : List.of("rr_0", "rr_1")) {
      servers.primary().execute(db, "CREATE TABLE t_acct (id INT PRIMARY KEY, balance INT)");
    }
    servers.awaitCaughtUp(Duration.ofSeconds(30));
    PrometheusMeterRegistry prometheus = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    PoolOptions small = new PoolOptions().setMaxSize(4);
    ShardedPool pool =
        ShardedPool.builder(vertx)
            .rules(
                ShardingRules.builder()
                    .table(
                        "t_acct",
                        t -> t.dataNodes("ds_${0..1}.t_acct").databaseStrategy("id", "mod"))
                    .build())
            .dataSource("ds_0", servers.primary().connectOptions("rr_0"), small)
            .dataSource("ds_1", servers.primary().connectOptions("rr_1"), small)
            .replica("ds_0", "ds_0_replica_1", servers.replica(0).connectOptions("rr_0"), small)
            .replica("ds_0", "ds_0_replica_2", servers.replica(1).connectOptions("rr_0"), small)
            .readWriteSplitting(
                ReadWriteSplittingOptions.defaults()
                    .withMaxReplicationLag(Duration.ofMillis(500))
                    .withHeartbeatInterval(Duration.ofMillis(100)))
            .meterRegistry(prometheus)
            .build();
    try {
      await(
          pool.preparedQuery("INSERT INTO t_acct (id, balance) VALUES (?, ?)")
              .executeBatch(List.of(Tuple.of(0, 100), Tuple.of(2, 200))));
      servers.awaitCaughtUp(Duration.ofSeconds(30));
      awaitHealth(pool, 2);
      System.out.println("ds_0 reads by server, both replicas healthy: " + readsByServer(pool, 10));

      servers.replica(0).stopApplying();
      await(
          pool.preparedQuery("UPDATE t_acct SET balance = balance + 1 WHERE id = ?")
              .execute(Tuple.of(2)));
      awaitHealth(pool, 1);
      for (ReplicaStatus s : pool.replicaStatus()) {
        System.out.printf(
            "  %s: %s%n", s.replica(), s.healthy() ? "healthy" : "no reads, " + s.reason());
      }
      System.out.println("ds_0 reads by server, replica 1 lagging: " + readsByServer(pool, 10));
      Row own =
          await(
                  TxScope.run(
                      vertx,
                      ScopeOptions.builder().routingHint(RoutingHint.primary()).build(),
                      () ->
                          pool.query(
                                  "SELECT balance, @@server_id AS server FROM t_acct WHERE id = 2")
                              .execute()))
              .iterator()
              .next();
      System.out.printf(
          "read your write under RoutingHint.primary(): balance %d from server %d%n",
          own.getInteger("balance"), own.getInteger("server"));
      servers.replica(0).startApplying();
      awaitHealth(pool, 2);
      return prometheus.scrape();
    } finally {
      await(pool.close());
    }
  }

  static Map<Integer, Integer> readsByServer(ShardedPool pool, int reads) throws Exception {
    List<Integer> servers = new ArrayList<>();
    for (int i = 0; i < reads; i++) {
      servers.add(
          await(pool.preparedQuery(WHO).execute(Tuple.of(0))).iterator().next().getInteger(1));
    }
    return servers.stream().collect(Collectors.toMap(s -> s, s -> 1, Integer::sum, TreeMap::new));
  }

  static void awaitHealth(ShardedPool pool, int healthy) throws InterruptedException {
    long until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (System.nanoTime() < until) {
      if (pool.replicaStatus().stream().filter(ReplicaStatus::healthy).count() == healthy) {
        return;
      }
      Thread.sleep(50);
    }
    throw new IllegalStateException(
        "expected " + healthy + " healthy replicas, have " + pool.replicaStatus());
  }

  static <T> T await(Future<T> future) throws Exception {
    return future
        .toCompletionStage()
        .toCompletableFuture()
        .get(30, java.util.concurrent.TimeUnit.SECONDS);
  }
}
