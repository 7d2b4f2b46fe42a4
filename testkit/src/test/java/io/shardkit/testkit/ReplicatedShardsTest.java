package io.shardkit.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Real MariaDB replication: writes on the primary arrive on the replicas; faults make them lag. */
class ReplicatedShardsTest {

  private static ReplicatedShards set;

  @BeforeAll
  static void start() {
    set = ReplicatedShards.start(2);
  }

  @AfterAll
  static void stop() {
    if (set != null) {
      set.close();
    }
  }

  private static long count(Shard shard) {
    List<JsonObject> rows = shard.query("repl_t", "SELECT COUNT(*) AS n FROM t");
    return rows.get(0).getLong("n");
  }

  @Test
  void writesArriveLaggingReplicaFallsBehindAndCatchesUp() {
    Shard primary = set.primary();
    primary.execute(null, "CREATE DATABASE repl_t");
    primary.execute(
        "repl_t", "CREATE TABLE t (id INT PRIMARY KEY)", "INSERT INTO t VALUES (1), (2)");
    set.awaitCaughtUp(Duration.ofSeconds(20));
    assertThat(count(set.replica(0))).isEqualTo(2);
    assertThat(count(set.replica(1))).isEqualTo(2);
    assertThat(set.replica(1).name()).startsWith("replica-2 of shard-");

    set.replica(0).stopApplying();
    primary.execute("repl_t", "INSERT INTO t VALUES (3)");
    set.replica(1).awaitCaughtUp(Duration.ofSeconds(20));
    assertThat(count(set.replica(1))).isEqualTo(3);
    assertThat(count(set.replica(0))).as("the lagging replica").isEqualTo(2);
    assertThatThrownBy(() -> set.replica(0).awaitCaughtUp(Duration.ofMillis(300)))
        .isInstanceOf(TestShardsException.class)
        .hasMessageContaining("has not applied");

    set.replica(0).startApplying();
    set.replica(0).awaitCaughtUp(Duration.ofSeconds(20));
    assertThat(count(set.replica(0))).isEqualTo(3);
  }

  @Test
  void aKilledReplicaResumesReplicationAfterRestart() {
    Shard primary = set.primary();
    primary.execute(null, "CREATE DATABASE IF NOT EXISTS repl_k");
    primary.execute("repl_k", "CREATE TABLE IF NOT EXISTS k (id INT PRIMARY KEY)");
    Replica replica = set.replica(1);
    replica.kill();
    assertThat(replica.isRunning()).isFalse();
    primary.execute("repl_k", "INSERT INTO k VALUES (10), (11)");
    replica.start();
    replica.awaitCaughtUp(Duration.ofSeconds(30));
    assertThat(replica.query("repl_k", "SELECT COUNT(*) AS n FROM k").get(0).getLong("n"))
        .isEqualTo(2);
  }
}
