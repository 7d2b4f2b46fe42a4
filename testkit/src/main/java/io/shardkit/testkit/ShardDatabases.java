package io.shardkit.testkit;

import io.vertx.mysqlclient.MySQLConnectOptions;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** One fresh database per shard; {@link #close()} drops them. */
public final class ShardDatabases implements AutoCloseable {

  private final List<ShardDatabase> databases;

  ShardDatabases(List<ShardDatabase> databases) {
    this.databases = List.copyOf(databases);
  }

  public List<ShardDatabase> all() {
    return databases;
  }

  public ShardDatabase get(int index) {
    return databases.get(index);
  }

  public int size() {
    return databases.size();
  }

  /**
   * Connect options keyed by data-source name {@code <prefix><index>}, e.g. {@code ds_0, ds_1}:
   * what a ShardedPool builder takes.
   */
  public Map<String, MySQLConnectOptions> dataSources(String prefix) {
    Map<String, MySQLConnectOptions> out = new LinkedHashMap<>();
    for (int i = 0; i < databases.size(); i++) {
      out.put(prefix + i, databases.get(i).connectOptions());
    }
    return out;
  }

  /** Runs the same statements in every database (e.g. the DDL of a sharded table). */
  public void executeOnAll(String... sql) {
    for (ShardDatabase database : databases) {
      database.execute(sql);
    }
  }

  /** Drops the databases; shards that are down or paused are skipped. */
  @Override
  public void close() {
    for (ShardDatabase database : databases) {
      Shard shard = database.shard();
      if (shard.isRunning() && !shard.isPaused()) {
        shard.execute(null, "DROP DATABASE IF EXISTS `" + database.database() + "`");
      }
    }
  }
}
