package io.shardkit.router;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardkit.testkit.ShardDatabases;
import io.shardkit.testkit.Shards;
import io.shardkit.testkit.ShardsExtension;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.mysqlclient.MySQLBuilder;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * An ORDER BY expression in the {@code _bin} collation of a single-byte character set ({@code c
 * COLLATE latin1_bin}): MariaDB sorts {@code 'a'} before {@code 'a '} in a plain single-table sort,
 * but through a temporary table (a join, GROUP BY, DISTINCT) it sorts them as the equal values they
 * are and the next key decides. The merge applied the single-table rule to a join (fuzz gen 4, seed
 * 156). Each statement is compared with one database holding all rows; the two rows are on
 * different nodes.
 */
@Shards(2)
@ExtendWith(ShardsExtension.class)
class BinCollationSortTest {

  static Vertx vertx;
  static ShardedPool pool;
  static Pool reference;

  static final String A =
      " (id INT, k INT, c5 VARCHAR(20) CHARACTER SET latin1 COLLATE latin1_general_ci)";
  static final String B = " (id INT, k INT, c4 BIGINT)";

  @BeforeAll
  static void setUp(ShardDatabases dbs) throws Exception {
    vertx = Vertx.vertx();
    JsonObject tables = new JsonObject();
    for (String t : List.of("t_pa", "t_pb")) {
      tables.put(
          t,
          new JsonObject()
              .put("dataNodes", "ds_${0..1}." + t)
              .put(
                  "databaseStrategy",
                  new JsonObject()
                      .put("column", "k")
                      .put("algorithm", new JsonObject().put("type", "mod"))));
    }
    JsonObject rules =
        new JsonObject()
            .put("tables", tables)
            .put("bindingGroups", new JsonArray().add(new JsonArray().add("t_pa").add("t_pb")));
    pool =
        ShardedPool.builder(vertx)
            .nonAtomicMultiNodeWrites(true)
            .rules(ShardingRules.fromJson(rules))
            .dataSources(dbs.dataSources("ds_"), new PoolOptions().setMaxSize(4))
            .build();
    reference = MySQLBuilder.pool().connectingTo(dbs.get(0).connectOptions()).using(vertx).build();
    for (SqlClient c : List.of(pool, reference)) {
      String prefix = c == pool ? "" : "ref_";
      HashedKeyConversionTest.await(c.query("CREATE TABLE " + prefix + "t_pa" + A).execute());
      HashedKeyConversionTest.await(c.query("CREATE TABLE " + prefix + "t_pb" + B).execute());
      HashedKeyConversionTest.await(
          c.query(
                  "INSERT INTO "
                      + prefix
                      + "t_pa (id, k, c5) VALUES (21, 5, 'a'), (100063, 2024, 'a ')")
              .execute());
      HashedKeyConversionTest.await(
          c.query(
                  "INSERT INTO "
                      + prefix
                      + "t_pb (id, k, c4) VALUES (100024, 2024, -5), (100025, 5, NULL)")
              .execute());
    }
  }

  @AfterAll
  static void tearDown() throws Exception {
    HashedKeyConversionTest.await(pool.close());
    HashedKeyConversionTest.await(reference.close());
    HashedKeyConversionTest.await(vertx.close());
  }

  @Test
  void trailingSpacesSortAsOneDatabaseSortsThem() throws Exception {
    for (String q :
        List.of(
            "SELECT COALESCE(b.c4, 0), CONCAT('[', a.c5, ']') FROM %1$s a JOIN %2$s b ON a.k = b.k"
                + " ORDER BY a.c5 COLLATE latin1_bin ASC, 1 ASC",
            "SELECT id, CONCAT('[', c5, ']') FROM %1$s ORDER BY c5 COLLATE latin1_bin, id DESC",
            "SELECT id, CONCAT('[', c5, ']') FROM %1$s GROUP BY id, c5"
                + " ORDER BY c5 COLLATE latin1_bin, id DESC",
            "SELECT DISTINCT id, CONCAT('[', c5, ']') FROM %1$s"
                + " ORDER BY c5 COLLATE latin1_bin, id DESC")) {
      List<String> expected =
          HashedKeyConversionTest.rows(
              reference, String.format(q, "ref_t_pa", "ref_t_pb"), Tuple.tuple());
      assertThat(expected).hasSize(2);
      assertThat(
              HashedKeyConversionTest.rows(pool, String.format(q, "t_pa", "t_pb"), Tuple.tuple()))
          .as(q)
          .isEqualTo(expected);
    }
  }
}
