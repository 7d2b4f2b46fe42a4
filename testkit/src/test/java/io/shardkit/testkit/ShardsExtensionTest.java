package io.shardkit.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

@Shards(3)
class ShardsExtensionTest {

  @Test
  void eachShardGetsItsOwnFreshDatabase(ShardDatabases databases, TestShards shards) {
    assertThat(databases.size()).isEqualTo(3);
    Set<String> actualServers =
        databases.all().stream()
            .map(d -> d.shard().host() + ":" + d.shard().port())
            .collect(Collectors.toSet());
    if (shards.provider().equals("embedded")) {
      assertThat(actualServers).hasSize(3);
    }
    for (ShardDatabase database : databases.all()) {
      List<JsonObject> tables =
          database.query(
              "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = DATABASE()");
      assertThat(tables.get(0).getLong("n")).isZero();
    }
  }

  @Test
  void rowsWrittenOnOneShardStayThere(ShardDatabases databases) {
    databases.executeOnAll("CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(20))");
    databases.get(1).execute("INSERT INTO t VALUES (1, 'one')");
    assertThat(databases.get(1).query("SELECT v FROM t WHERE id = 1"))
        .extracting(r -> r.getString("v"))
        .containsExactly("one");
    assertThat(databases.get(0).query("SELECT * FROM t")).isEmpty();
    assertThat(databases.get(2).query("SELECT * FROM t")).isEmpty();
  }

  @Test
  void dataSourcesAreNamedByPrefixAndIndex(ShardDatabases databases) {
    assertThat(databases.dataSources("ds_")).containsOnlyKeys("ds_0", "ds_1", "ds_2");
    assertThat(databases.dataSources("ds_").get("ds_2").getDatabase())
        .isEqualTo(databases.get(2).database());
  }
}
