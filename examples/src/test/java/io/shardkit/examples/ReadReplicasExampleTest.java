package io.shardkit.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardkit.testkit.ReplicatedShards;
import io.vertx.core.Vertx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Runs the read replicas example: its scrape has the replica meters, and every replica metric the
 * Grafana dashboard queries is in it.
 */
class ReadReplicasExampleTest {

  private static final Pattern REPLICA_METRIC =
      Pattern.compile("shardkit_(?:router|pool)_replica_[a-z_]+");

  @Test
  void lagAndReadsPerReplicaAreServedAndQueriedByTheDashboard() throws Exception {
    Vertx vertx = Vertx.vertx();
    String scrape;
    try (ReplicatedShards servers = ReplicatedShards.start(2)) {
      scrape = ReadReplicasExample.run(vertx, servers);
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().join();
    }
    assertThat(scrape)
        .contains("shardkit_router_replica_lag_seconds{replica=\"ds_0_replica_1\",shard=\"ds_0\"}")
        .contains("shardkit_router_replica_healthy{replica=\"ds_0_replica_2\",shard=\"ds_0\"} 1.0")
        .contains("shardkit_router_replica_reads_total{replica=\"ds_0_replica_2\",shard=\"ds_0\"}");
    Set<String> queried = new TreeSet<>();
    Matcher m =
        REPLICA_METRIC.matcher(Files.readString(Path.of("grafana/shardkit-dashboard.json")));
    while (m.find()) {
      queried.add(m.group());
    }
    assertThat(queried).isNotEmpty();
    Set<String> served = new TreeSet<>();
    Matcher s = REPLICA_METRIC.matcher(scrape);
    while (s.find()) {
      served.add(s.group());
    }
    assertThat(served).containsAll(queried);
  }
}
