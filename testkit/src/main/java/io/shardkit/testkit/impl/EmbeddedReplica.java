package io.shardkit.testkit.impl;

import io.shardkit.testkit.Replica;
import io.shardkit.testkit.Shard;
import io.shardkit.testkit.TestShardsException;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** An embedded MariaDB server that replicates from another embedded one. */
final class EmbeddedReplica extends EmbeddedShard implements Replica {

  private final Shard primary;
  private final int number;

  EmbeddedReplica(
      int index,
      int number,
      EmbeddedMariaDb binaries,
      Path dir,
      int port,
      List<String> extraArgs,
      Shard primary) {
    super(index, binaries, dir, port, extraArgs);
    this.primary = primary;
    this.number = number;
  }

  @Override
  String label() {
    return "replica-" + number + " of " + ((EmbeddedShard) primary).label();
  }

  @Override
  public Shard primary() {
    return primary;
  }

  /** Points this replica at the primary and starts both replication threads. */
  void follow() {
    execute(
        null,
        "CHANGE MASTER TO MASTER_HOST='"
            + primary.host()
            + "', MASTER_PORT="
            + primary.port()
            + ", MASTER_USER='"
            + primary.user()
            + "', MASTER_PASSWORD='"
            + primary.password()
            + "', MASTER_USE_GTID=slave_pos, MASTER_SSL=0, MASTER_CONNECT_RETRY=1",
        "START SLAVE");
  }

  @Override
  public void stopApplying() {
    execute(null, "STOP SLAVE SQL_THREAD");
  }

  @Override
  public void startApplying() {
    execute(null, "START SLAVE SQL_THREAD");
  }

  @Override
  public void awaitCaughtUp(Duration timeout) {
    List<JsonObject> pos = primary.query(null, "SELECT @@gtid_binlog_pos AS pos");
    String gtid = pos.get(0).getString("pos");
    if (gtid == null || gtid.isEmpty()) {
      return; // nothing written yet
    }
    double seconds = Math.max(0.001, timeout.toMillis() / 1000.0);
    List<JsonObject> waited =
        query(null, "SELECT MASTER_GTID_WAIT('" + gtid + "', " + seconds + ") AS r");
    Object r = waited.get(0).getValue("r");
    if (!(r instanceof Number n) || n.intValue() != 0) {
      throw new TestShardsException(
          "testkit: "
              + name()
              + " has not applied the primary's "
              + gtid
              + " within "
              + timeout.toMillis()
              + " ms (MASTER_GTID_WAIT answered "
              + r
              + "; replica status: "
              + query(null, "SHOW SLAVE STATUS")
              + ")");
    }
  }
}
