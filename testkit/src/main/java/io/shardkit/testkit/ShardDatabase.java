package io.shardkit.testkit;

import io.vertx.core.json.JsonObject;
import io.vertx.mysqlclient.MySQLConnectOptions;
import java.util.List;

/** A database on one shard, created fresh for a test class. */
public record ShardDatabase(Shard shard, String database) {

  public MySQLConnectOptions connectOptions() {
    return shard.connectOptions(database);
  }

  /** Runs each statement in order in this database. Blocking: test code only. */
  public void execute(String... sql) {
    shard.execute(database, sql);
  }

  /** Runs one query in this database and returns its rows as JSON. Blocking: test code only. */
  public List<JsonObject> query(String sql) {
    return shard.query(database, sql);
  }
}
