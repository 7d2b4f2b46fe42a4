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
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A hash-mod key of a DECIMAL, DOUBLE, DATE, DATETIME or YEAR column is hashed by the value the
 * server stores, not by the value as written: an INSERT of {@code 1.005} into a DECIMAL(10,2) key
 * stores 1.01, {@code '1e10'} into a DOUBLE stores 10000000000, {@code '2024-01-15 10:00:00'} into
 * a DATE stores 2024-01-15, {@code 24} into a YEAR stores 2024; and a condition compares as the
 * server does ({@code double_k = 9007199254740993} holds for 2^53, {@code year_k = '24'} for 2024).
 * Found by the fuzzer's second generation (seed 130): each such row was on another node than a read
 * of its stored value looked. Every read is compared with one reference table.
 */
@Shards(2)
@ExtendWith(ShardsExtension.class)
class HashedKeyConversionTest {

  static Vertx vertx;
  static ShardedPool pool;
  static Pool reference;

  static final String[][] TABLES = {
    {"t_dec", "DECIMAL(10,2)"},
    {"t_dbl", "DOUBLE"},
    {"t_date", "DATE"},
    {"t_dt", "DATETIME"},
    {"t_yr", "YEAR"},
    {"t_tm", "TIME"},
  };

  @BeforeAll
  static void setUp(ShardDatabases dbs) throws Exception {
    vertx = Vertx.vertx();
    JsonObject tables = new JsonObject();
    for (String[] t : TABLES) {
      tables.put(t[0], hashedTable(t[0], "k"));
    }
    pool =
        ShardedPool.builder(vertx)
            .nonAtomicMultiNodeWrites(true)
            .rules(ShardingRules.fromJson(new JsonObject().put("tables", tables)))
            .dataSources(dbs.dataSources("ds_"), new PoolOptions().setMaxSize(4))
            .build();
    reference = MySQLBuilder.pool().connectingTo(dbs.get(0).connectOptions()).using(vertx).build();
    for (String[] t : TABLES) {
      await(pool.query("CREATE TABLE " + t[0] + " (id INT, k " + t[1] + ")").execute());
      await(reference.query("CREATE TABLE ref_" + t[0] + " (id INT, k " + t[1] + ")").execute());
    }
  }

  /** {@code name} over ds_0..1 x 2 tables, hash-mod on {@code column} for both. */
  static JsonObject hashedTable(String name, String column) {
    return new JsonObject()
        .put("dataNodes", "ds_${0..1}." + name + "_${0..1}")
        .put("databaseStrategy", strategy(column, null))
        .put("tableStrategy", strategy(column, 2));
  }

  private static JsonObject strategy(Integer count) {
    return strategy("k", count);
  }

  private static JsonObject strategy(String column, Integer count) {
    JsonObject algorithm = new JsonObject().put("type", "hash-mod");
    if (count != null) {
      algorithm.put("props", new JsonObject().put("count", count));
    }
    return new JsonObject().put("column", column).put("algorithm", algorithm);
  }

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
      {"t_dec", "1.005", null},
      {"t_dec", "'01.50'", null},
      {"t_dec", "3.999", null},
      {"t_dec", "?", new BigDecimal("-2.345")},
      {"t_dec", "?", " 7.1"},
      {"t_dbl", "0.1000000000000000055", null},
      {"t_dbl", "'1e10'", null},
      {"t_dbl", "9007199254740993", null},
      {"t_dbl", "?", 0.5f},
      {"t_date", "'2024-01-15 10:00:00'", null},
      {"t_date", "20240116103000", null},
      {"t_date", "?", java.time.LocalDateTime.of(2024, 1, 17, 23, 59)},
      {"t_dt", "'2024-01-15 10:00:00.4'", null},
      {"t_yr", "24", null},
      {"t_yr", "'99'", null},
      {"t_yr", "?", "00"},
      {"t_yr", "' 1901'", null},
      {"t_tm", "'12:30'", null},
      {"t_tm", "' 25:00:00'", null},
      {"t_tm", "?", java.time.LocalTime.of(1, 2, 3)},
      {"t_tm", "?", java.time.Duration.ofMinutes(-61).minusMillis(400)},
    };
    int id = 0;
    for (Object[] row : inserts) {
      id++;
      String sql = "INSERT INTO %s (id, k) VALUES (" + id + ", " + row[1] + ")";
      Tuple params = row[2] == null ? Tuple.tuple() : Tuple.of(row[2]);
      await(reference.preparedQuery(String.format(sql, "ref_" + row[0])).execute(params));
      await(pool.preparedQuery(String.format(sql, row[0])).execute(params));
    }
    for (String[] t : TABLES) {
      List<String> stored =
          rows(reference, "SELECT DISTINCT CAST(k AS CHAR) FROM ref_" + t[0], Tuple.tuple());
      assertThat(stored).isNotEmpty();
      // numbers unquoted: a string compared with a number column reads every node
      String quote =
          t[1].startsWith("D") && !t[1].startsWith("DATE") || t[0].equals("t_yr") ? "" : "'";
      for (String k : stored) {
        String sql = "SELECT id, k FROM %s WHERE k = " + quote + k + quote + " ORDER BY id";
        assertThat(rows(pool, String.format(sql, t[0]), Tuple.tuple()))
            .as("%s.k = '%s'", t[0], k)
            .isEqualTo(rows(reference, String.format(sql, "ref_" + t[0]), Tuple.tuple()))
            .isNotEmpty();
      }
    }
    // conditions the server compares in the column's type
    String[][] reads = {
      {"t_dbl", "k = 9007199254740992"},
      {"t_dbl", "k = 0.1000000000000000055"},
      {"t_dbl", "k = 10000000000"},
      {"t_dbl", "k = 0.5"},
      {"t_dec", "k = 1.01e0"},
      {"t_dec", "k IN (1.5, 4)"},
      {"t_yr", "k = 24"},
      {"t_yr", "k = '24'"},
      {"t_yr", "k IN ('0', 99)"},
      {"t_yr", "k = 1901"},
      {"t_tm", "k = '12:30:00.000'"},
      {"t_tm", "k IN ('1:02:03', '-1:01:00')"},
    };
    for (String[] r : reads) {
      String sql = "SELECT id, k FROM %s WHERE " + r[1] + " ORDER BY id";
      assertThat(rows(pool, String.format(sql, r[0]), Tuple.tuple()))
          .as("%s: %s", r[0], r[1])
          .isEqualTo(rows(reference, String.format(sql, "ref_" + r[0]), Tuple.tuple()))
          .isNotEmpty();
    }
  }

  /**
   * The client sends a BigDecimal parameter as its text, and MariaDB compares a DECIMAL key with it
   * as doubles in {@code k IN (?, 7)} ({@code 1.0100000000000000001} holds for 1.01) but as a
   * DECIMAL in {@code k = ?}, which a unit's IN list pruned to one item became (fuzz seed 130: a
   * DELETE missed a row), and through an index it may round the value to the column's scale ({@code
   * k IN (?)} with 1.005 found 1.01 on one database and not on the shard holding it, seed 144). A
   * value with more decimals than the key is refused, literal or parameter; values the key holds
   * route as before.
   */
  @Test
  void aDecimalKeyComparedWithMoreDecimalsThanItHoldsIsRefused() throws Exception {
    for (SqlClient c : List.of(pool, reference)) {
      String table = c == pool ? "t_dec" : "ref_t_dec";
      await(c.query("INSERT INTO " + table + " (id, k) VALUES (500, 1.01), (501, 1.5)").execute());
    }
    for (Tuple params :
        List.of(
            Tuple.of(new BigDecimal("1.50"), new BigDecimal("1.0100000000000000001")),
            Tuple.of(new BigDecimal("1.005"), new BigDecimal("1.5")),
            Tuple.of("1.005", 1.5))) {
      assertThatThrownBy(
              () ->
                  await(
                      pool.preparedQuery("SELECT id FROM t_dec WHERE k IN (?, ?)").execute(params)))
          .as("%s", params.deepToString())
          .isInstanceOf(ExecutionException.class)
          .cause()
          .isInstanceOf(UnsupportedSqlException.class)
          .hasMessageContaining("cannot answer t_dec.k");
    }
    String sql = "SELECT id, k FROM %s WHERE k IN (?, ?) ORDER BY id";
    Tuple params = Tuple.of(new BigDecimal("1.50"), new BigDecimal("1.010"));
    List<String> expected = rows(reference, String.format(sql, "ref_t_dec"), params);
    assertThat(expected).contains("500:1.01", "501:1.50");
    assertThat(rows(pool, String.format(sql, "t_dec"), params)).isEqualTo(expected);
  }

  /**
   * Where MariaDB truncates extra fractional seconds and MySQL (or TIME_ROUND_FRACTIONAL) rounds,
   * and the two disagree, a hashed DATETIME key has no single stored value: refused before any I/O;
   * so is a string a DECIMAL key cannot read as a number.
   */
  @Test
  void anInsertWhoseStoredKeyDependsOnTheServerIsRefused() {
    assertInsertsRefused(
        pool,
        new String[][] {
          {"t_dt", "'2024-01-15 10:00:01.6'"},
          {"t_dec", "'1.5abc'"},
          {"t_yr", "2156"},
          {"t_tm", "'10:00:01.6'"},
          {"t_tm", "123000"},
        });
  }

  /**
   * Each {@code {table, value}}: {@code INSERT INTO table (id, k) VALUES (900, value)} is refused
   * before any I/O, naming {@code table.k}.
   */
  static void assertInsertsRefused(ShardedPool pool, String[][] rows) {
    for (String[] row : rows) {
      assertThatThrownBy(
              () ->
                  await(
                      pool.query("INSERT INTO " + row[0] + " (id, k) VALUES (900, " + row[1] + ")")
                          .execute()))
          .as("%s", row[1])
          .isInstanceOf(ExecutionException.class)
          .cause()
          .isInstanceOf(UnsupportedSqlException.class)
          .hasMessageContaining(row[0] + ".k");
    }
  }

  /**
   * An equality with a value finer than a temporal key (a time of day for a DATE, more fractional
   * seconds than a TIME or DATETIME holds) has no single answer on one MariaDB (its index lookup
   * cuts the value, its table scan does not; fuzz gen 3, seed 142): refused before any I/O.
   */
  @Test
  void anEqualityFinerThanATemporalKeyIsRefused() {
    for (String[] q :
        new String[][] {
          {"t_tm", "k IN ('12:30:00.400000')"},
          {"t_tm", "k = '12:30:00.4'"},
          {"t_dt", "k = '2024-01-15 10:00:00.4'"},
          {"t_date", "k = '2024-01-15 10:00:00'"},
          {"t_date", "k IN ('2024-01-15', 20240115100000)"},
          {"t_dec", "k IN (1.005)"},
          {"t_dec", "k = '1.005'"},
        }) {
      assertThatThrownBy(
              () -> await(pool.query("SELECT id FROM " + q[0] + " WHERE " + q[1]).execute()))
          .as(q[1])
          .isInstanceOf(ExecutionException.class)
          .cause()
          .isInstanceOf(UnsupportedSqlException.class)
          .hasMessageContaining("cannot answer " + q[0] + ".k");
    }
  }

  /**
   * HAVING compares a DATE with a LocalDateTime parameter (sent as DATETIME) as datetimes: the
   * merge compared their Java texts ('1999-12-31' < '1999-12-31T00:00') and dropped the group (fuzz
   * gen 3, seed 143).
   */
  @Test
  void havingComparesADateWithADatetimeParameterAsDatetimes() throws Exception {
    for (SqlClient c : List.of(pool, reference)) {
      String table = c == pool ? "t_date" : "ref_t_date";
      await(
          c.query(
                  "INSERT INTO "
                      + table
                      + " (id, k) VALUES (600, '1999-12-31'), (601, '2000-01-02')")
              .execute());
    }
    String sql = "SELECT k, COUNT(*) FROM %s GROUP BY k HAVING k BETWEEN ? AND ? ORDER BY k";
    Tuple params =
        Tuple.of(
            java.time.LocalDateTime.of(1999, 12, 31, 0, 0), java.time.LocalDate.of(2024, 2, 29));
    List<String> expected = rows(reference, String.format(sql, "ref_t_date"), params);
    assertThat(expected).anyMatch(r -> r.startsWith("1999-12-31"));
    assertThat(rows(pool, String.format(sql, "t_date"), params)).isEqualTo(expected);
    String ge = "SELECT k FROM %s GROUP BY k HAVING k >= ? ORDER BY k";
    Tuple late = Tuple.of(java.time.LocalDateTime.of(2000, 1, 1, 12, 0));
    assertThat(rows(pool, String.format(ge, "t_date"), late))
        .isEqualTo(rows(reference, String.format(ge, "ref_t_date"), late));
  }

  /**
   * The client sends an OffsetDateTime parameter as its text, seconds left out when zero ({@code
   * 2024-03-01T10:05+02:00}), and the server reads that by its digit groups as 10:05:02: the router
   * read it as 10:05:00 and looked on that value's node.
   */
  @Test
  void anOffsetDateTimeParameterIsReadAsTheServerReadsItsText() throws Exception {
    for (SqlClient c : List.of(pool, reference)) {
      String table = c == pool ? "t_dt" : "ref_t_dt";
      for (int m = 0; m < 4; m++) {
        String at = "'2024-03-01 10:0" + m + ":0";
        await(
            c.query(
                    "INSERT INTO "
                        + table
                        + " (id, k) VALUES ("
                        + (700 + 2 * m)
                        + ", "
                        + at
                        + "0'), ("
                        + (701 + 2 * m)
                        + ", "
                        + at
                        + "2')")
                .execute());
      }
    }
    for (int m = 0; m < 4; m++) {
      Tuple params =
          Tuple.of(
              java.time.OffsetDateTime.of(
                  2024, 3, 1, 10, m, 0, 0, java.time.ZoneOffset.ofHours(2)));
      String sql = "SELECT id FROM %s WHERE k = ?";
      List<String> expected = rows(reference, String.format(sql, "ref_t_dt"), params);
      assertThat(expected).containsExactly(String.valueOf(701 + 2 * m));
      assertThat(rows(pool, String.format(sql, "t_dt"), params))
          .as("10:0%d+02:00", m)
          .isEqualTo(expected);
    }
  }

  /**
   * HAVING compares a DOUBLE with a decimal or integer literal as doubles, as the server does: the
   * merge compared them as decimals, so {@code HAVING k IN (0.1000000000000000055)} dropped the
   * group 0.1 (the double that literal reads as) that one database returns (fuzz gen 4, seed 151).
   */
  @Test
  void havingComparesADoubleWithADecimalAsDoubles() throws Exception {
    for (SqlClient c : List.of(pool, reference)) {
      String table = c == pool ? "t_dbl" : "ref_t_dbl";
      await(c.query("INSERT INTO " + table + " (id, k) VALUES (700, 0.1), (701, 2.5)").execute());
    }
    for (String having :
        List.of(
            "k IN (0.1000000000000000055, 7)",
            "k = 0.1000000000000000055",
            "k <= 0.1000000000000000055",
            "MAX(k) IN (2.5000000000000000001, 0.1000000000000000055)")) {
      String sql = "SELECT k, COUNT(*) FROM %s GROUP BY k HAVING " + having + " ORDER BY k";
      List<String> expected = rows(reference, String.format(sql, "ref_t_dbl"), Tuple.tuple());
      assertThat(expected).as(having).anyMatch(r -> r.startsWith("0.1:"));
      assertThat(rows(pool, String.format(sql, "t_dbl"), Tuple.tuple()))
          .as(having)
          .isEqualTo(expected);
    }
  }

  static List<String> rows(SqlClient client, String sql, Tuple params) throws Exception {
    List<String> out = new ArrayList<>();
    for (Row row : await(client.preparedQuery(sql).execute(params))) {
      StringBuilder b = new StringBuilder();
      for (int i = 0; i < row.size(); i++) {
        b.append(i == 0 ? "" : ":").append(row.getValue(i));
      }
      out.add(b.toString());
    }
    return out;
  }
}
