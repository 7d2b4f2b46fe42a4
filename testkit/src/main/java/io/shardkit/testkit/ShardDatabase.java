package io.shardkit.testkit;

import io.vertx.core.json.JsonObject;
import io.vertx.mysqlclient.MySQLConnectOptions;
import java.time.Duration;
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

  /**
   * How many statements beginning with {@code sqlPrefix} the shard's server is running now (its
   * process list, every database). Blocking: test code only.
   */
  public int running(String sqlPrefix) {
    String pattern =
        sqlPrefix
            .replace("\\", "\\\\\\\\") // escaped for LIKE, then for the string literal
            .replace("%", "\\%")
            .replace("_", "\\_")
            .replace("'", "''");
    return query(
            "SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE INFO LIKE '"
                + pattern
                + "%'")
        .get(0)
        .getInteger("n");
  }

  /**
   * {@link #running} once it has stayed zero for {@code quiet} (a single look may fall in a gap
   * between two statements, e.g. a killed one and the one queued behind it), or what it is after
   * {@code atMost}. Blocking: test code only.
   */
  public int runningOnceSettled(String sqlPrefix, Duration quiet, Duration atMost)
      throws InterruptedException {
    long until = System.nanoTime() + atMost.toNanos();
    long quietSince = System.nanoTime();
    int left = running(sqlPrefix);
    while (System.nanoTime() < until) {
      if (left > 0) {
        quietSince = System.nanoTime();
      } else if (System.nanoTime() - quietSince >= quiet.toNanos()) {
        return 0;
      }
      Thread.sleep(20);
      left = running(sqlPrefix);
    }
    return left;
  }
}
