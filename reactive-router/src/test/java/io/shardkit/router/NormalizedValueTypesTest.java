package io.shardkit.router;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardkit.testkit.ShardDatabases;
import io.shardkit.testkit.Shards;
import io.shardkit.testkit.ShardsExtension;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.mysqlclient.MySQLBuilder;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Column types whose stored value or order is not their text: MariaDB's UUID (stored lower case
 * with hyphens at fixed places whatever form was written, ordered by its own segment rules), INET6
 * (stored as 16 bytes, {@code 2001:DB8::1} = {@code 2001:db8:0::1}, ordered by those bytes) and BIT
 * (a number stores its bits, a string its bytes: {@code '7'} stores 55). Hashed keys of these types
 * were hashed by the value as written, so a row inserted as {@code 'AAAA...'} (no hyphens) was
 * where a read of its stored value did not look; and a scatter ORDER BY of a UUID or INET6 column
 * was merged by the text's sort key, in another order than one database's. Every read is compared
 * with one reference table.
 */
@Shards(2)
@ExtendWith(ShardsExtension.class)
class NormalizedValueTypesTest {

  static Vertx vertx;
  static ShardedPool pool;
  static Pool reference;

  static final String[][] KEYED = {
    {"t_bit", "BIT(8)"},
    {"t_uuid", "UUID"},
    {"t_inet", "INET6"},
  };

  static final String VALUES =
      "t_vals (id INT, u UUID, i INET6, e ENUM('zeta','alpha','Mid'), s SET('x','a'), b BIT(8))";

  @BeforeAll
  static void setUp(ShardDatabases dbs) throws Exception {
    vertx = Vertx.vertx();
    JsonObject tables = new JsonObject();
    for (String[] t : KEYED) {
      tables.put(t[0], HashedKeyConversionTest.hashedTable(t[0], "k"));
    }
    tables.put("t_vals", HashedKeyConversionTest.hashedTable("t_vals", "id"));
    tables.put("t_bitx", HashedKeyConversionTest.hashedTable("t_bitx", "k"));
    pool =
        ShardedPool.builder(vertx)
            .nonAtomicMultiNodeWrites(true)
            .rules(ShardingRules.fromJson(new JsonObject().put("tables", tables)))
            .dataSources(dbs.dataSources("ds_"), new PoolOptions().setMaxSize(4))
            .build();
    reference = MySQLBuilder.pool().connectingTo(dbs.get(0).connectOptions()).using(vertx).build();
    for (String[] t : KEYED) {
      await(pool.query("CREATE TABLE " + t[0] + " (id INT, k " + t[1] + ")").execute());
      await(reference.query("CREATE TABLE ref_" + t[0] + " (id INT, k " + t[1] + ")").execute());
    }
    await(pool.query("CREATE TABLE " + VALUES).execute());
    await(reference.query("CREATE TABLE ref_" + VALUES).execute());
    await(pool.query("CREATE TABLE " + INDEXED_BIT).execute());
    await(reference.query("CREATE TABLE ref_" + INDEXED_BIT).execute());
  }

  static final String INDEXED_BIT = "t_bitx (id INT, k BIT(16), KEY (k))";

  @AfterAll
  static void tearDown() throws Exception {
    await(pool.close());
    await(reference.close());
    await(vertx.close());
  }

  static <T> T await(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  /** Inserts on both sides (text and prepared), then reads every stored key back by its value. */
  @Test
  void aRowIsWhereAReadOfItsStoredValueLooks() throws Exception {
    Object[][] inserts = {
      {"t_bit", "5", null},
      {"t_bit", "200", null},
      {"t_bit", "?", 6},
      {"t_bit", "?", 7L},
      {"t_uuid", "'123E4567E89B12D3A456426655440000'", null},
      {"t_uuid", "'aaaaaaaa-bbbb-1ccc-8ddd-eeeeeeeeeeee'", null},
      {"t_uuid", "'0-0000000-0000-0000-0000-00000000001f'", null},
      {"t_uuid", "?", "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF0"},
      {"t_uuid", "?", "01234567-89AB-4DEF-8123-456789ABCDEF"},
    };
    int id = 0;
    for (Object[] row : inserts) {
      id++;
      String sql = "INSERT INTO %s (id, k) VALUES (" + id + ", " + row[1] + ")";
      Tuple params = row[2] == null ? Tuple.tuple() : Tuple.of(row[2]);
      await(reference.preparedQuery(String.format(sql, "ref_" + row[0])).execute(params));
      await(pool.preparedQuery(String.format(sql, row[0])).execute(params));
    }
    for (String[] t : new String[][] {{"t_bit", "k + 0", ""}, {"t_uuid", "k", "'"}}) {
      List<String> stored =
          rows(reference, "SELECT DISTINCT CAST(" + t[1] + " AS CHAR) FROM ref_" + t[0], null);
      assertThat(stored).hasSizeGreaterThan(3);
      for (String k : stored) {
        String sql = "SELECT id FROM %s WHERE k = " + t[2] + k + t[2] + " ORDER BY id";
        assertThat(rows(pool, String.format(sql, t[0]), null))
            .as("%s.k = %s", t[0], k)
            .isEqualTo(rows(reference, String.format(sql, "ref_" + t[0]), null))
            .isNotEmpty();
      }
    }
    // conditions in other forms than the stored one
    Object[][] reads = {
      {"t_bit", "k = 5.0", null},
      {"t_bit", "k IN (6, 200)", null},
      {"t_bit", "k = ?", 7},
      {"t_bit", "k = '5'", null},
      {"t_uuid", "k = '123e4567-e89b-12d3-a456-426655440000'", null},
      {"t_uuid", "k IN ('AAAAAAAABBBB1CCC8DDDEEEEEEEEEEEE', 'x')", null},
      {"t_uuid", "k = ?", "0000000000000000000000000000001F"},
      {"t_uuid", "k = ?", java.util.UUID.fromString("01234567-89ab-4def-8123-456789abcdef")},
    };
    for (Object[] r : reads) {
      String sql = "SELECT id FROM %s WHERE " + r[1] + " ORDER BY id";
      assertThat(rows(pool, String.format(sql, r[0]), r[2]))
          .as("%s: %s", r[0], r[1])
          .isEqualTo(rows(reference, String.format(sql, "ref_" + r[0]), r[2]));
    }
    assertThat(
            rows(pool, "SELECT id FROM t_uuid WHERE k = '123E4567-E89B12D3A456426655440000'", null))
        .containsExactly("5");
  }

  /**
   * Keys whose stored value the router cannot tell are refused before any I/O: a string into a BIT
   * key (its bytes are stored), what MariaDB does not read as a UUID, any INET6 value (the server
   * normalizes addresses).
   */
  @Test
  void anInsertWhoseStoredKeyTheRouterCannotTellIsRefused() {
    HashedKeyConversionTest.assertInsertsRefused(
        pool,
        new String[][] {
          {"t_bit", "'7'"},
          {"t_uuid", "'{123e4567-e89b-12d3-a456-426655440000}'"},
          {"t_uuid", "'123e4567-e89b-12d3-a456-42665544000'"},
          {"t_inet", "'2001:db8::1'"},
        });
  }

  /**
   * A scatter over columns whose text does not order like their values: INET6 is merged by its
   * binary form, ENUM and SET by position, BIT as an unsigned number; UUID (whose order MariaDB
   * defines by its own rules) is grouped and made DISTINCT by equality and refused where the merge
   * would order it.
   */
  @Test
  void aScatterOrdersAndGroupsValuesAsOneDatabase() throws Exception {
    String rows =
        "(1, '00000001-0000-1000-8000-000000000002', '2001:db8::1', 'zeta', 'x', 200),"
            + " (2, '00000002-0000-1000-8000-000000000001', '::1', 'alpha', 'a', 3),"
            + " (3, '00000003-0000-4000-8000-000000000001', '::ffff:1.2.3.4', 'Mid', 'x,a', 10),"
            + " (4, '00000004-0000-4000-8000-000000000000', 'fe80::1', 'zeta', 'a', 128),"
            + " (5, '00000001-0000-1000-8000-000000000002', '2001:DB8:0::1', 'alpha', 'x', 1),"
            + " (6, NULL, NULL, NULL, NULL, NULL),"
            + " (7, '00000004-0000-4000-8000-000000000000', '10.0.0.1', 'Mid', 'x,a', 255),"
            + " (8, 'ffffffff-0000-1000-8000-000000000000', '::', 'zeta', '', 0)";
    await(pool.query("INSERT INTO t_vals (id, u, i, e, s, b) VALUES " + rows).execute());
    await(reference.query("INSERT INTO ref_t_vals (id, u, i, e, s, b) VALUES " + rows).execute());
    for (String q :
        List.of(
            "SELECT id, i FROM %s ORDER BY i, id",
            "SELECT id, i FROM %s ORDER BY i DESC, id LIMIT 4",
            "SELECT MIN(i), MAX(i) FROM %s",
            "SELECT i, COUNT(*) FROM %s GROUP BY i ORDER BY i",
            "SELECT id, e FROM %s ORDER BY e, id",
            "SELECT id, s FROM %s ORDER BY s DESC, id",
            "SELECT id, b + 0 FROM %s ORDER BY b, id")) {
      assertThat(rows(pool, String.format(q, "t_vals"), null))
          .as(q)
          .isEqualTo(rows(reference, String.format(q, "ref_t_vals"), null));
    }
    for (String q :
        List.of(
            "SELECT u, COUNT(*) FROM %s GROUP BY u",
            "SELECT DISTINCT u FROM %s", "SELECT u, SUM(id) FROM %s WHERE id > 1 GROUP BY u")) {
      List<String> expected = rows(reference, String.format(q, "ref_t_vals"), null);
      assertThat(rows(pool, String.format(q, "t_vals"), null))
          .as(q)
          .containsExactlyInAnyOrderElementsOf(expected);
    }
    for (String q :
        List.of(
            "SELECT id FROM t_vals ORDER BY u",
            "SELECT id, u FROM t_vals ORDER BY u DESC LIMIT 2",
            "SELECT MIN(u) FROM t_vals",
            "SELECT u, COUNT(*) FROM t_vals GROUP BY u HAVING u > '1'",
            "SELECT i, COUNT(*) FROM t_vals GROUP BY i HAVING MIN(i) > '::2'")) {
      assertThatThrownBy(() -> await(pool.query(q).execute()))
          .as(q)
          .isInstanceOf(ExecutionException.class)
          .cause()
          .isInstanceOf(UnsupportedSqlException.class)
          .hasMessageMatching("(?s).*(uuid|inet6).*");
    }
  }

  /**
   * An IN list on a BIT key that mixes a string with numbers reads every node (a string compares by
   * its bytes), and each unit gets the list as written. MariaDB 11.4.5 reads {@code bit_k IN ('7',
   * 7)} through an index on {@code k} as {@code bit_k = '7'} (to it the two items are one constant,
   * and the first one's bytes, 55, are looked up), so it finds no 7, where a table scan or the
   * longer list {@code (8, '7', 7)} finds it (measured). A unit's list pruned to its node's items
   * was such a list: fuzz seed 150 (generation 4), {@code k IN (12599, '7', 7, 12599)} missed the
   * row 7 that one database returns.
   */
  @Test
  void anInListWithAnItemForEveryNodeIsNotPruned() throws Exception {
    // 7 and 8 hash to different nodes (CRC32 of "7" and "8" differ in their last bit)
    String rows = "(1, 7), (2, 8), (3, 55)";
    await(pool.query("INSERT INTO t_bitx (id, k) VALUES " + rows).execute());
    await(reference.query("INSERT INTO ref_t_bitx (id, k) VALUES " + rows).execute());
    Object[][] reads = {
      {"k IN (8, '7', 7)", null},
      {"k IN (?, '7', 7)", 8},
      {"k IN (8, 7, '7')", null},
    };
    for (Object[] r : reads) {
      String sql = "SELECT id FROM %s WHERE " + r[0] + " ORDER BY id";
      List<String> expected = rows(reference, String.format(sql, "ref_t_bitx"), r[1]);
      assertThat(expected).as("reference: %s", r[0]).contains("1", "2");
      assertThat(rows(pool, String.format(sql, "t_bitx"), r[1])).as("%s", r[0]).isEqualTo(expected);
    }
  }

  static List<String> rows(SqlClient client, String sql, Object param) throws Exception {
    return HashedKeyConversionTest.rows(
        client, sql, param == null ? Tuple.tuple() : Tuple.of(param));
  }
}
