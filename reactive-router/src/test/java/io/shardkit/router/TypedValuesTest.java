package io.shardkit.router;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardkit.testkit.ShardDatabases;
import io.shardkit.testkit.Shards;
import io.shardkit.testkit.ShardsExtension;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.mysqlclient.MySQLBuilder;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The schema decides: sharding values are converted by the column's type as the server converts
 * them (a string for an integer key, every datetime literal form for an interval key), and ENUM and
 * SET columns merge in declaration order. The tables are created through the pool after it started,
 * so the types come from the reload after DDL. Every read is compared with one reference table
 * holding the same rows.
 */
@Shards(2)
@ExtendWith(ShardsExtension.class)
class TypedValuesTest {

  static final String ORDER_COLUMNS =
      " (id BIGINT PRIMARY KEY, user_id INT NOT NULL,"
          + " status ENUM('new','paid','shipped','cancelled') NOT NULL, flags SET('z','b','a'),"
          + " note VARCHAR(32))";
  static final String EVENT_COLUMNS = " (id BIGINT PRIMARY KEY, created DATETIME NOT NULL)";

  static Vertx vertx;
  static ShardedPool pool;
  static Pool reference;
  static ShardDatabases databases;

  @BeforeAll
  static void setUp(ShardDatabases dbs) throws Exception {
    databases = dbs;
    vertx = Vertx.vertx();
    ShardingRules rules =
        ShardingRules.builder()
            .table(
                "t_order",
                t ->
                    t.dataNodes("ds_${0..1}.t_order_${0..1}")
                        .databaseStrategy("user_id", "hash-mod")
                        .tableStrategy("id", "mod"))
            .table(
                "t_event",
                new io.vertx.core.json.JsonObject(
                    """
                    {"dataNodes": "ds_0.t_event_2026${['01','02','03','04']}",
                     "tableStrategy": {"column": "created", "algorithm": {"type": "interval",
                        "props": {"start": "2026-01-01", "unit": "MONTHS", "suffix": "yyyyMM"}}}}
                    """))
            .table(
                "t_big",
                new io.vertx.core.json.JsonObject(
                    """
                    {"dataNodes": "ds_${0..1}.t_big",
                     "databaseStrategy": {"column": "k", "algorithm": {"type": "range",
                        "props": {"boundaries": [9007199254740997]}}}}
                    """))
            .build();
    pool =
        ShardedPool.builder(vertx)
            .nonAtomicMultiNodeWrites(true)
            .rules(rules)
            .dataSources(dbs.dataSources("ds_"), new PoolOptions().setMaxSize(4))
            .build();
    reference = MySQLBuilder.pool().connectingTo(dbs.get(0).connectOptions()).using(vertx).build();
    await(pool.query("CREATE TABLE t_order" + ORDER_COLUMNS).execute());
    await(pool.query("CREATE TABLE t_event" + EVENT_COLUMNS).execute());
    await(reference.query("CREATE TABLE ref_order" + ORDER_COLUMNS).execute());
    await(reference.query("CREATE TABLE ref_event" + EVENT_COLUMNS).execute());
    String[] statuses = {"new", "paid", "shipped", "cancelled"};
    String[] flags = {"a", "b", "z", "a,b", "b,z", null, "a,z"};
    for (int i = 1; i <= 40; i++) {
      Tuple row = Tuple.of((long) i, i % 9, statuses[i % 4], flags[i % 7], "n" + i);
      String insert = " (id, user_id, status, flags, note) VALUES (?, ?, ?, ?, ?)";
      await(pool.preparedQuery("INSERT INTO t_order" + insert).execute(row));
      await(reference.preparedQuery("INSERT INTO ref_order" + insert).execute(row));
    }
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

  @ParameterizedTest
  @ValueSource(
      strings = {
        "SELECT id FROM %s WHERE user_id = '7' ORDER BY id",
        "SELECT id FROM %s WHERE user_id = '007' ORDER BY id",
        "SELECT id FROM %s WHERE user_id = ' 7' ORDER BY id",
        "SELECT id FROM %s WHERE user_id = '7abc' ORDER BY id",
        "SELECT id FROM %s WHERE user_id = '7.0' ORDER BY id",
        "SELECT id FROM %s WHERE user_id = 'abc' ORDER BY id",
        "SELECT id FROM %s WHERE user_id = '7e0' ORDER BY id",
        "SELECT id FROM %s WHERE user_id IN ('3', '07', 5.0) ORDER BY id",
        "SELECT id FROM %s WHERE user_id = 7.0 ORDER BY id",
        "SELECT id, status FROM %s ORDER BY status, id",
        "SELECT id, status FROM %s ORDER BY status DESC, id",
        "SELECT status, COUNT(*) FROM %s GROUP BY status ORDER BY status",
        "SELECT status, COUNT(*) FROM %s GROUP BY status",
        "SELECT DISTINCT status FROM %s ORDER BY status",
        "SELECT id, flags FROM %s ORDER BY flags, id",
        "SELECT flags, COUNT(*) FROM %s GROUP BY flags ORDER BY flags",
        "SELECT MIN(status), MAX(status), MIN(flags), MAX(flags) FROM %s",
        "SELECT user_id, MAX(flags) m FROM %s GROUP BY user_id ORDER BY m, user_id",
        "SELECT user_id, MIN(status) FROM %s GROUP BY user_id ORDER BY MIN(status) DESC, user_id",
        "SELECT user_id, MAX(id), MIN(note) FROM %s GROUP BY user_id ORDER BY 2",
        "SELECT o.status, COUNT(*) FROM %s o GROUP BY o.status ORDER BY o.status DESC",
        "SELECT status, COUNT(*) FROM %s GROUP BY status HAVING status = 'PAID' ORDER BY status",
        "SELECT status, COUNT(*) FROM %s GROUP BY status HAVING status > 'new' ORDER BY status",
        "SELECT user_id, COUNT(*) FROM %s GROUP BY user_id HAVING COUNT(*) >= '5' ORDER BY 1",
        "SELECT id, note FROM %s ORDER BY note, id",
      })
  void readsEqualOneDatabase(String query) throws Exception {
    assertThat(rows(pool, String.format(query, "t_order"), null))
        .as(query)
        .containsExactlyInAnyOrderElementsOf(
            rows(reference, String.format(query, "ref_order"), null));
    if (query.contains("ORDER BY")) {
      assertThat(rows(pool, String.format(query, "t_order"), null))
          .as(query)
          .containsExactlyElementsOf(rows(reference, String.format(query, "ref_order"), null));
    }
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "SELECT MAX(x.flags) FROM t_order x HAVING MAX(x.flags) <> 0",
        "SELECT MAX(flags) FROM t_order HAVING MAX(flags) <> 0",
        "SELECT MIN(status) FROM t_order HAVING 1 < MIN(status)",
        "SELECT user_id, MAX(flags) FROM t_order GROUP BY user_id HAVING MAX(flags) > 1",
        "SELECT user_id FROM t_order o GROUP BY user_id HAVING MAX(o.status) IN (1, 'new')",
      })
  void minOrMaxOfAnEnumOrSetComparedWithANumberIsRefusedBeforeAnyIo(String query) {
    assertThatThrownBy(() -> await(pool.query(query).execute()))
        .as(query)
        .cause()
        .isInstanceOf(UnsupportedSqlException.class)
        .hasMessageContaining("ENUM or SET");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "SELECT id FROM t_order WHERE user_id = '7.5'",
        "SELECT id FROM t_order WHERE user_id = 7.5",
        "SELECT id FROM t_order WHERE user_id IN (3, 2.5)",
        "UPDATE t_order SET note = 'x' WHERE user_id = ' 7.5'",
      })
  void anIntegerKeyComparedForEqualityWithAFractionIsRefused(String query) {
    // MariaDB: a scan rounds 2.5 to 3, an index lookup matches nothing; no single answer exists
    assertThatThrownBy(() -> await(pool.query(query).execute()))
        .as(query)
        .cause()
        .isInstanceOf(UnsupportedSqlException.class)
        .hasMessageContaining("t_order.user_id")
        .hasMessageContaining("not an integer");
    assertThatThrownBy(
            () ->
                await(
                    pool.preparedQuery("SELECT id FROM t_order WHERE user_id = ?")
                        .execute(Tuple.of(new java.math.BigDecimal("7.5")))))
        .cause()
        .isInstanceOf(UnsupportedSqlException.class);
  }

  @Test
  void aNullShardingKeyGetsTheServersOwnAnswer() throws Exception {
    // user_id is NOT NULL: the server refuses the row (1048) exactly as one database does
    String insert = "INSERT INTO %s (id, user_id, status) VALUES (300, NULL, 'new')";
    Throwable routed =
        org.assertj.core.api.Assertions.catchThrowable(
            () -> await(pool.query(String.format(insert, "t_order")).execute()));
    Throwable single =
        org.assertj.core.api.Assertions.catchThrowable(
            () -> await(reference.query(String.format(insert, "ref_order")).execute()));
    assertThat(routed).cause().isInstanceOf(io.vertx.mysqlclient.MySQLException.class);
    assertThat(((io.vertx.mysqlclient.MySQLException) routed.getCause()).getErrorCode())
        .isEqualTo(((io.vertx.mysqlclient.MySQLException) single.getCause()).getErrorCode())
        .isEqualTo(1048);
    assertThat(rows(pool, "SELECT id FROM t_order WHERE id = 300", null)).isEmpty();
  }

  @Test
  void aBetweenTheServerComparesAsDoublesRoutesToEveryNodeItsDoublesReach() throws Exception {
    // fuzz seed 113 showed MariaDB comparing an integer key with a BETWEEN's bounds as doubles
    // (measured on 11.4, table scan): k BETWEEN ? AND ? with the BigIntegers 2^53 + 5 and 2^63,
    // sent as text, on a BIGINT k (2^63 does not convert to a BIGINT) holds for k = 2^53 + 4 (2^53
    // + 5 is 2^53 + 4 as a double), which the range places on ds_0; the exact range [2^53 + 5,
    // 2^63] names ds_1 only
    String columns = " (id INT, k BIGINT)";
    await(pool.query("CREATE TABLE t_big" + columns).execute());
    await(reference.query("CREATE TABLE ref_big" + columns).execute());
    for (Tuple row :
        List.of(Tuple.of(1, 5L), Tuple.of(2, 9007199254740996L), Tuple.of(3, 9007199254741000L))) {
      await(pool.preparedQuery("INSERT INTO t_big (id, k) VALUES (?, ?)").execute(row));
      await(reference.preparedQuery("INSERT INTO ref_big (id, k) VALUES (?, ?)").execute(row));
    }
    java.math.BigInteger low = new java.math.BigInteger("9007199254740997");
    java.math.BigInteger high = java.math.BigInteger.ONE.shiftLeft(63);
    List<Object[]> cases =
        List.of(
            new Object[] {"SELECT id FROM %s WHERE k BETWEEN ? AND ? ORDER BY id", low, high},
            new Object[] {
              "SELECT id FROM %s WHERE k BETWEEN ? AND ? ORDER BY id", "9007199254740997", high
            },
            new Object[] {
              "SELECT id FROM %s WHERE k BETWEEN ? AND ? ORDER BY id", new BigDecimal(low), high
            },
            // an integer literal makes the comparison exact: 2^53 + 4 is out, on both
            new Object[] {
              "SELECT id FROM %s WHERE k BETWEEN ? AND 9223372036854775808 ORDER BY id", low
            });
    for (Object[] c : cases) {
      String sql = (String) c[0];
      Tuple params = Tuple.tuple();
      for (int i = 1; i < c.length; i++) {
        params.addValue(c[i]);
      }
      List<List<Object>> expected = rows(reference, String.format(sql, "ref_big"), params);
      assertThat(rows(pool, String.format(sql, "t_big"), params))
          .as("%s %s", sql, params.deepToString())
          .containsExactlyElementsOf(expected);
      assertThat(expected)
          .as(sql)
          .contains(List.of(3))
          .hasSize(sql.contains("9223372036854775808") ? 1 : 2);
    }
  }

  @Test
  void aStringParameterForAnIntegerKeyIsTheNumberItReadsAs() throws Exception {
    String insert = "INSERT INTO %s (id, user_id, status) VALUES (?, ?, 'new')";
    await(pool.preparedQuery(String.format(insert, "t_order")).execute(Tuple.of(101L, "017")));
    await(
        reference.preparedQuery(String.format(insert, "ref_order")).execute(Tuple.of(101L, "017")));
    for (Object key : List.<Object>of(17, 17L, "17", "017", " 17", "17.0", 17.0)) {
      String read = "SELECT id FROM %s WHERE user_id = ? ORDER BY id";
      assertThat(rows(pool, String.format(read, "t_order"), Tuple.of(key)))
          .as("user_id = %s (%s)", key, key.getClass().getSimpleName())
          .containsExactlyElementsOf(
              rows(reference, String.format(read, "ref_order"), Tuple.of(key)))
          .contains(List.of(101L));
    }
    String update = "UPDATE %s SET note = 'updated' WHERE user_id = ? AND id = 101";
    assertThat(
            await(pool.preparedQuery(String.format(update, "t_order")).execute(Tuple.of("017")))
                .rowCount())
        .isEqualTo(1);
    await(reference.preparedQuery(String.format(update, "ref_order")).execute(Tuple.of("017")));
    // the row is in the node the number 17 names: a plain pool on that node sees it
    String ds =
        pool.dataSourcesFor("SELECT * FROM t_order WHERE user_id = 17", null).iterator().next();
    int shard = Integer.parseInt(ds.substring(3));
    Pool direct =
        MySQLBuilder.pool()
            .connectingTo(databases.get(shard).connectOptions())
            .using(vertx)
            .build();
    try {
      long found = 0;
      for (String table : List.of("t_order_0", "t_order_1")) {
        found +=
            await(direct.query("SELECT COUNT(*) FROM " + table + " WHERE id = 101").execute())
                .iterator()
                .next()
                .getLong(0);
      }
      assertThat(found).isEqualTo(1);
    } finally {
      await(direct.close());
    }
  }

  @Test
  void anInsertWhoseKeyTheServerWouldRoundIsRefusedAndNothingIsWritten() throws Exception {
    for (Object key : List.<Object>of("17.5", "abc", "17abc", 17.5)) {
      assertThatThrownBy(
              () ->
                  await(
                      pool.preparedQuery(
                              "INSERT INTO t_order (id, user_id, status) VALUES (200, ?, 'new')")
                          .execute(Tuple.of(key))))
          .as("user_id = %s", key)
          .isInstanceOf(java.util.concurrent.ExecutionException.class)
          .cause()
          .isInstanceOf(UnsupportedSqlException.class)
          .hasMessageContaining("t_order.user_id")
          .hasMessageContaining(String.valueOf(key));
    }
    assertThat(rows(pool, "SELECT id FROM t_order WHERE id = 200", null)).isEmpty();
  }

  @Test
  void everyDatetimeLiteralFormRoutesAnIntervalKey() throws Exception {
    String insert = "INSERT INTO %s (id, created) VALUES (?, ?)";
    List<Object> forms =
        List.of(
            "2026/03/01",
            "2026-2-1",
            "20260115",
            20260301000000L,
            "2026-04-30 23:59:59",
            "26-04-01 10.15.00",
            java.time.LocalDateTime.of(2026, 1, 31, 8, 0));
    long id = 1;
    for (Object created : forms) {
      Tuple row = Tuple.of(id++, created);
      await(pool.preparedQuery(String.format(insert, "t_event")).execute(row));
      await(reference.preparedQuery(String.format(insert, "ref_event")).execute(row));
    }
    for (Object created : forms) {
      String read = "SELECT id, created FROM %s WHERE created = ? ORDER BY id";
      assertThat(rows(pool, String.format(read, "t_event"), Tuple.of(created)))
          .as("created = %s", created)
          .isNotEmpty()
          .containsExactlyElementsOf(
              rows(reference, String.format(read, "ref_event"), Tuple.of(created)));
    }
    String having =
        "SELECT created, COUNT(*) FROM %s GROUP BY created"
            + " HAVING created IN ('2026/03/01', '20260115') OR MAX(created) > '2026-4-30 12:00'"
            + " ORDER BY created";
    assertThat(rows(pool, String.format(having, "t_event"), null))
        .hasSize(3)
        .containsExactlyElementsOf(rows(reference, String.format(having, "ref_event"), null));
    String range = "SELECT id FROM %s WHERE created BETWEEN '2026/2/1' AND '20260331' ORDER BY id";
    assertThat(rows(pool, String.format(range, "t_event"), null))
        .containsExactlyElementsOf(rows(reference, String.format(range, "ref_event"), null));
    assertThat(pool.dataSourcesFor("SELECT * FROM t_event WHERE created = '2026/03/05'", null))
        .containsExactly("ds_0");
  }

  @Test
  void theServerFlagsEnumAndSetResultColumnsAsTheMergeGuardExpects() throws Exception {
    io.vertx.sqlclient.RowSet<Row> rs =
        await(reference.query("SELECT status, flags, note FROM ref_order LIMIT 1").execute());
    List<Integer> flags = new ArrayList<>();
    for (io.vertx.sqlclient.desc.ColumnDescriptor d : rs.columnDescriptors()) {
      flags.add(((io.vertx.mysqlclient.impl.protocol.ColumnDefinition) d).flags() & (256 | 2048));
    }
    assertThat(flags).containsExactly(256, 2048, 0);
  }

  @Test
  void aTableCreatedDirectlyOnTheShardsIsReadOnFirstUse() throws Exception {
    String ddl = " (id BIGINT PRIMARY KEY, k INT NOT NULL, s SET('y','x','z'))";
    for (int shard = 0; shard < 2; shard++) {
      Pool direct =
          MySQLBuilder.pool()
              .connectingTo(databases.get(shard).connectOptions())
              .using(vertx)
              .build();
      try {
        for (int t = 0; t < 2; t++) {
          await(direct.query("CREATE TABLE t_late_" + t + ddl).execute());
        }
      } finally {
        await(direct.close());
      }
    }
    await(reference.query("CREATE TABLE ref_late" + ddl).execute());
    ShardingRules rules =
        ShardingRules.builder()
            .table(
                "t_late",
                t ->
                    t.dataNodes("ds_${0..1}.t_late_${0..1}")
                        .databaseStrategy("k", "hash-mod")
                        .tableStrategy("id", "mod"))
            .build();
    ShardedPool late =
        ShardedPool.builder(vertx)
            .nonAtomicMultiNodeWrites(true)
            .rules(rules)
            .dataSources(databases.dataSources("ds_"), new PoolOptions().setMaxSize(2))
            .build();
    try {
      String[] sets = {"y,z", "x,z", "", "y", "x", "z", "y,x", "y,x,z"};
      for (int i = 0; i < 16; i++) {
        Tuple row = Tuple.of((long) i, String.valueOf(i % 5 == 0 ? "01" + i : i), sets[i % 8]);
        await(late.preparedQuery("INSERT INTO t_late (id, k, s) VALUES (?, ?, ?)").execute(row));
        await(
            reference
                .preparedQuery("INSERT INTO ref_late (id, k, s) VALUES (?, ?, ?)")
                .execute(row));
      }
      for (String q :
          List.of(
              "SELECT s, id FROM %s ORDER BY s, id",
              "SELECT s, COUNT(*) FROM %s GROUP BY s ORDER BY s",
              "SELECT id FROM %s WHERE k = '010' ORDER BY id")) {
        assertThat(rows(late, String.format(q, "t_late"), null))
            .as(q)
            .containsExactlyElementsOf(rows(reference, String.format(q, "ref_late"), null));
      }
    } finally {
      await(late.close());
    }
  }

  private static List<List<Object>> rows(SqlClient client, String sql, Tuple params)
      throws Exception {
    List<List<Object>> out = new ArrayList<>();
    Iterable<Row> rs =
        params == null
            ? await(client.query(sql).execute())
            : await(client.preparedQuery(sql).execute(params));
    for (Row row : rs) {
      List<Object> values = new ArrayList<>();
      for (int i = 0; i < row.size(); i++) {
        values.add(row.getValue(i));
      }
      out.add(values);
    }
    return out;
  }
}
