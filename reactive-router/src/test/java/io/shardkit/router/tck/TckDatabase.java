package io.shardkit.router.tck;

import io.shardkit.router.ShardedPool;
import io.shardkit.router.ShardingRules;
import io.shardkit.testkit.ShardDatabase;
import io.shardkit.testkit.ShardDatabases;
import io.shardkit.testkit.TestShards;
import io.vertx.core.AsyncResult;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.tests.sqlclient.tck.Connector;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The TCK's schema on a testkit shard, and ShardedPools over it. The TCK tables are single tables
 * of data source {@code ds_0} (which is also the default data source), so every statement is routed
 * to one data source and the pool is held to a plain MySQL pool's behaviour.
 *
 * <p>The schema is {@code init.sql} from vertx-mysql-client's tests jar, without what needs a
 * server-wide change (users, grants, other databases) or the stored procedure that fills the {@code
 * world} table, which no test base run here reads.
 */
final class TckDatabase {

  static final List<String> TABLES =
      List.of(
          "immutable",
          "mutable",
          "Fortune",
          "datatype",
          "basicdatatype",
          "collector_test",
          "duplicate_test",
          "localinfile");

  private static ShardDatabases databases;

  private TckDatabase() {}

  static synchronized ShardDatabases databases() {
    if (databases == null) {
      ShardDatabases created = TestShards.get(1).createDatabases("tck", 1);
      load(created.get(0));
      databases = created;
    }
    return databases;
  }

  /** A ShardedPool over the TCK database. */
  static ShardedPool pool(Vertx vertx) {
    ShardingRules.Builder rules = ShardingRules.builder().dataSources("ds_0");
    TABLES.forEach(table -> rules.singleTable(table, "ds_0"));
    return ShardedPool.builder(vertx)
        .nonAtomicMultiNodeWrites(true)
        .rules(rules.defaultDataSource("ds_0").build())
        .dataSources(databases().dataSources("ds_"), new PoolOptions().setMaxSize(4))
        .build();
  }

  /** The TCK's connector: each connection a routed connection of one ShardedPool. */
  static Connector<SqlConnection> connector(Vertx vertx) {
    // -Dshardkit.tck.plain=true runs the same bases on a plain Vert.x MySQL pool: the control that
    // tells a router difference from a server or TCK one (see the README's TCK table)
    io.vertx.sqlclient.Pool pool =
        Boolean.getBoolean("shardkit.tck.plain")
            ? io.vertx.mysqlclient.MySQLBuilder.pool()
                .connectingTo(databases().get(0).connectOptions())
                .using(vertx)
                .build()
            : pool(vertx);
    return new Connector<>() {
      @Override
      public void connect(Handler<AsyncResult<SqlConnection>> handler) {
        pool.getConnection().onComplete(handler);
      }

      @Override
      public void close() {
        pool.close();
      }
    };
  }

  private static void load(ShardDatabase database) {
    String script;
    try (InputStream in = TckDatabase.class.getClassLoader().getResourceAsStream("init.sql")) {
      if (in == null) {
        throw new IllegalStateException("init.sql of vertx-mysql-client's tests jar not found");
      }
      script = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    for (String sql : statements(script)) {
      database.execute(sql);
    }
  }

  /** The script's statements from its first {@code USE testschema}, minus the skipped parts. */
  static List<String> statements(String script) {
    List<String> out = new ArrayList<>();
    boolean started = false;
    boolean inProcedure = false;
    StringBuilder current = new StringBuilder();
    for (String line : script.split("\n")) {
      String trimmed = line.trim();
      if (trimmed.startsWith("USE testschema")) {
        started = true;
        continue;
      }
      if (trimmed.startsWith("DELIMITER #")) {
        inProcedure = true;
        continue;
      }
      if (inProcedure) {
        inProcedure = !trimmed.startsWith("DELIMITER ;");
        continue;
      }
      if (!started || trimmed.startsWith("--") || trimmed.startsWith("#") || trimmed.isEmpty()) {
        continue;
      }
      current.append(line).append('\n');
      if (trimmed.endsWith(";")) {
        String sql = current.toString().trim();
        sql = sql.substring(0, sql.length() - 1);
        current.setLength(0);
        String upper = sql.toUpperCase(java.util.Locale.ROOT);
        if (upper.startsWith("CREATE DATABASE")
            || upper.startsWith("CREATE USER")
            || upper.startsWith("GRANT")
            || upper.startsWith("CALL")
            || upper.contains(" WORLD")) {
          continue;
        }
        out.add(sql);
      }
    }
    return out;
  }
}
