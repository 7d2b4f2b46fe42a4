package io.shardkit.router;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardkit.testkit.ShardDatabases;
import io.shardkit.testkit.Shards;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Tuple;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The shard pools cache prepared statements by default: a routed statement run 20 times on one
 * connection is prepared once on its shard (the server's {@code Com_stmt_prepare} counter says so),
 * and 20 times with {@code statementCacheSize(0)} (Vert.x's own default).
 */
@Shards(2)
class StatementCacheTest {

  private static final String RULES =
      """
      {"tables": {"t_item": {
         "dataNodes": "ds_${0..1}.t_item",
         "databaseStrategy": {"column": "id", "algorithm": {"type": "mod"}}}}}
      """;

  @Test
  void aRoutedStatementIsPreparedOncePerConnection(ShardDatabases databases) throws Exception {
    databases.executeOnAll("CREATE TABLE t_item (id BIGINT PRIMARY KEY, name VARCHAR(20))");
    databases.get(0).execute("INSERT INTO t_item VALUES (2, 'two')");
    assertThat(preparesFor(databases, -1)).as("cache on (default)").isEqualTo(1);
    assertThat(preparesFor(databases, 0)).as("statementCacheSize(0)").isEqualTo(20);
  }

  /** Server-side prepares on ds_0 while 20 routed selects run on a one-connection pool. */
  private static long preparesFor(ShardDatabases databases, int cacheSize) throws Exception {
    Vertx vertx = Vertx.vertx();
    try {
      ShardedPool.Builder builder =
          ShardedPool.builder(vertx)
              .rules(ShardingRules.fromJson(new JsonObject(RULES)))
              .dataSources(databases.dataSources("ds_"), new PoolOptions().setMaxSize(1));
      if (cacheSize >= 0) {
        builder.statementCacheSize(cacheSize);
      }
      ShardedPool pool = builder.build();
      // the connection exists before counting
      await(pool.preparedQuery("SELECT 1 FROM t_item WHERE id = ?").execute(Tuple.of(0L)));
      long before = prepares(databases);
      for (int i = 0; i < 20; i++) {
        var rows =
            await(pool.preparedQuery("SELECT name FROM t_item WHERE id = ?").execute(Tuple.of(2L)));
        assertThat(rows.iterator().next().getString("name")).isEqualTo("two");
      }
      long after = prepares(databases);
      await(pool.close());
      return after - before;
    } finally {
      await(vertx.close());
    }
  }

  private static long prepares(ShardDatabases databases) {
    return Long.parseLong(
        String.valueOf(
            databases
                .get(0)
                .query("SHOW GLOBAL STATUS LIKE 'Com_stmt_prepare'")
                .get(0)
                .getValue("Value")));
  }

  private static <T> T await(io.vertx.core.Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }
}
