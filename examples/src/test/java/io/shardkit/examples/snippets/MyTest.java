package io.shardkit.examples.snippets;

import io.shardkit.testkit.ShardDatabases;
import io.shardkit.testkit.Shards;
import io.vertx.mysqlclient.MySQLConnectOptions;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** testkit/README.md's first block, compiled and run (see ReadmeSnippetsTest). */
@Shards(4) // 4 shards, a fresh database on each for this class
class MyTest {
  @Test
  void something(ShardDatabases databases) {
    databases.executeOnAll("CREATE TABLE t (id INT PRIMARY KEY)");
    Map<String, MySQLConnectOptions> ds = databases.dataSources("ds_"); // ds_0..ds_3
    databases.get(1).query("SELECT * FROM t"); // blocking helper
  }
}
