package io.shardkit.router;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardkit.testkit.ShardDatabases;
import io.shardkit.testkit.Shards;
import io.shardkit.testkit.ShardsExtension;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.mysqlclient.MySQLBuilder;
import io.vertx.mysqlclient.MySQLException;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * String sharding keys under a case- and accent-insensitive collation behave as on one database:
 * {@code 'Zoë@example.com'}, {@code 'zoe@example.com'} and {@code 'ZOE@EXAMPLE.COM '} are one key
 * of a {@code utf8mb4_general_ci} column, so they route to one node, and the unique key refuses the
 * second spelling with 1062. Each step runs on the router and on an unsharded reference table; the
 * physical tables are read directly afterwards.
 */
@Shards(2)
@ExtendWith(ShardsExtension.class)
class StringKeyCollationTest {

  static final String USER_COLUMNS =
      " (email VARCHAR(100) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci NOT NULL,"
          + " name VARCHAR(32), UNIQUE KEY uk_email (email))";
  static final String ACCOUNT_COLUMNS =
      " (account_code VARCHAR(16) CHARACTER SET utf8mb4 COLLATE utf8mb4_uca1400_ai_ci NOT NULL,"
          + " note VARCHAR(32))";

  static Vertx vertx;
  static ShardedPool pool;
  static Pool reference;
  static ShardDatabases databases;
  static List<Pool> direct = new ArrayList<>();

  @BeforeAll
  static void setUp(ShardDatabases dbs) throws Exception {
    databases = dbs;
    vertx = Vertx.vertx();
    ShardingRules rules =
        ShardingRules.builder()
            .table(
                "t_user",
                t ->
                    t.dataNodes("ds_${0..1}.t_user_${0..1}")
                        .databaseStrategy("email", "hash-mod")
                        .tableStrategy(
                            List.of("email"),
                            "hash-mod",
                            new io.vertx.core.json.JsonObject().put("count", 2)))
            .table(
                "t_account",
                t ->
                    t.dataNodes("ds_${0..1}.t_account")
                        .databaseStrategy("account_code", "hash-mod"))
            .build();
    pool =
        ShardedPool.builder(vertx)
            .rules(rules)
            .dataSources(dbs.dataSources("ds_"), new PoolOptions().setMaxSize(4))
            .build();
    reference = MySQLBuilder.pool().connectingTo(dbs.get(0).connectOptions()).using(vertx).build();
    for (int i = 0; i < 2; i++) {
      direct.add(
          MySQLBuilder.pool().connectingTo(dbs.get(i).connectOptions()).using(vertx).build());
    }
    await(pool.query("CREATE TABLE t_user" + USER_COLUMNS).execute());
    await(pool.query("CREATE TABLE t_account" + ACCOUNT_COLUMNS).execute());
    await(reference.query("CREATE TABLE ref_user" + USER_COLUMNS).execute());
    await(reference.query("CREATE TABLE ref_account" + ACCOUNT_COLUMNS).execute());
  }

  @AfterAll
  static void tearDown() throws Exception {
    await(pool.close());
    await(reference.close());
    for (Pool p : direct) {
      await(p.close());
    }
    await(vertx.close());
  }

  static <T> T await(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  /** Runs on both, returns [router result, reference result] as row texts or the error code. */
  static List<String> both(String sql, Object... params) throws Exception {
    return List.of(
        run(pool, sql.replace("%s", sql.contains("account") ? "t_account" : "t_user"), params),
        run(
            reference,
            sql.replace("%s", sql.contains("account") ? "ref_account" : "ref_user"),
            params));
  }

  static String run(SqlClient client, String sql, Object... params) throws Exception {
    try {
      RowSet<Row> rows = await(client.preparedQuery(sql).execute(Tuple.wrap(List.of(params))));
      List<String> out = new ArrayList<>();
      for (Row row : rows) {
        List<String> values = new ArrayList<>();
        for (int i = 0; i < row.size(); i++) {
          values.add(String.valueOf(row.getValue(i)));
        }
        out.add(String.join("|", values));
      }
      out.sort(null);
      // a SELECT's rowCount is not compared: the router counts merged rows, a plain pool says 0
      return (sql.startsWith("SELECT") ? "" : "rows=" + rows.rowCount() + " ") + out;
    } catch (ExecutionException e) {
      if (e.getCause() instanceof MySQLException m) {
        return "error " + m.getErrorCode();
      }
      throw e;
    }
  }

  /** Every row of every physical t_user table, read directly from the shards. */
  static List<String> physicalUsers() throws Exception {
    List<String> out = new ArrayList<>();
    for (int ds = 0; ds < 2; ds++) {
      for (int t = 0; t < 2; t++) {
        for (Row row :
            await(direct.get(ds).query("SELECT email, name FROM t_user_" + t).execute())) {
          out.add("ds_" + ds + ".t_user_" + t + ": " + row.getString(0) + "|" + row.getString(1));
        }
      }
    }
    return out;
  }

  @Test
  void collationEqualSpellingsAreOneKey() throws Exception {
    List<String> r = both("INSERT INTO %s (email, name) VALUES (?, ?)", "Zoë@example.com", "Zoë");
    assertThat(r.get(0)).isEqualTo(r.get(1)).isEqualTo("rows=1 []");
    for (String spelling :
        List.of("Zoë@example.com", "zoe@example.com", "ZOE@EXAMPLE.COM ", "zoë@Example.Com   ")) {
      r = both("SELECT email, name FROM %s WHERE email = ?", spelling);
      assertThat(r.get(0)).as(spelling).isEqualTo(r.get(1)).contains("Zoë@example.com|Zoë");
      assertThat(pool.dataSourcesFor("SELECT * FROM t_user WHERE email = ?", Tuple.of(spelling)))
          .as(spelling)
          .hasSize(1);
    }
    r = both("SELECT name FROM %s WHERE email IN ('ZOE@example.com', 'nobody@example.com')");
    assertThat(r.get(0)).isEqualTo(r.get(1)).isEqualTo("[Zoë]");

    r = both("UPDATE %s SET name = ? WHERE email = ?", "Zoe", "zoe@example.com");
    assertThat(r.get(0)).isEqualTo(r.get(1)).isEqualTo("rows=1 []");

    // the second spelling collides on the unique key as on one server
    r = both("INSERT INTO %s (email, name) VALUES (?, ?)", "zoe@example.com", "other");
    assertThat(r.get(0)).isEqualTo(r.get(1)).isEqualTo("error 1062");
    r = both("INSERT INTO %s (email, name) VALUES ('ZOE@EXAMPLE.COM  ', 'third')");
    assertThat(r.get(0)).isEqualTo(r.get(1)).isEqualTo("error 1062");
    assertThat(physicalUsers()).hasSize(1).allMatch(s -> s.endsWith("Zoë@example.com|Zoe"));

    // a key that keeps the sharding column the same class stays on its node
    r = both("UPDATE %s SET email = ? WHERE email = ?", "ZOË@example.com", "zoe@example.com");
    assertThat(r.get(0)).isEqualTo(r.get(1)).isEqualTo("rows=1 []");

    r = both("DELETE FROM %s WHERE email = ?", "zoe@EXAMPLE.com ");
    assertThat(r.get(0)).isEqualTo(r.get(1)).isEqualTo("rows=1 []");
    assertThat(physicalUsers()).isEmpty();
  }

  @Test
  void aKeyWithoutAnExactSortKeyReadsEveryNodeAndIsNotInserted() throws Exception {
    // 'e' + U+0301 (a combining acute): under UCA collations a mark may contract with the letter
    // before it, so the router keys no string with one (under general_ci it is keyed: there a
    // mark is a character of its own)
    String decomposed = "Ame\u0301lie";
    both("INSERT INTO %s (account_code, note) VALUES (?, ?)", "amelie", "plain");
    both("INSERT INTO %s (account_code, note) VALUES (?, ?)", "Amélie", "accent");
    List<String> r = both("SELECT note FROM %s WHERE account_code = ?", decomposed);
    assertThat(r.get(0)).isEqualTo(r.get(1)).contains("plain", "accent");
    assertThat(
            pool.dataSourcesFor(
                "SELECT * FROM t_account WHERE account_code = ?", Tuple.of(decomposed)))
        .hasSize(2);
    assertThatThrownBy(
            () ->
                await(
                    pool.preparedQuery("INSERT INTO t_account (account_code, note) VALUES (?, ?)")
                        .execute(Tuple.of(decomposed, "x"))))
        .isInstanceOf(ExecutionException.class)
        .cause()
        .isInstanceOf(UnsupportedSqlException.class)
        .hasMessageContaining("t_account.account_code")
        .hasMessageContaining("utf8mb4_uca1400_ai_ci")
        .hasMessageContaining(decomposed);
    // under general_ci the decomposed spelling is a key of its own, different from 'é'
    r = both("SELECT email FROM %s WHERE email = ?", "zoe\u0301@example.com");
    assertThat(r.get(0)).isEqualTo(r.get(1));
    both("DELETE FROM %s WHERE account_code IN ('amelie', 'Amélie')");
  }

  @Test
  void aNumberAgainstAStringKeyComparesNumericallyOnEveryNode() throws Exception {
    for (String code : List.of("123", "0123", "123.0", " 123", "abc", "１２３")) {
      List<String> r = both("INSERT INTO %s (account_code, note) VALUES (?, ?)", code, "n" + code);
      assertThat(r.get(0)).isEqualTo(r.get(1));
    }
    // the rows the server matches live on both data sources (else this test proves nothing)
    assertThat(
            pool.dataSourcesFor("SELECT * FROM t_account WHERE account_code = ?", Tuple.of("123")))
        .isNotEqualTo(
            pool.dataSourcesFor(
                "SELECT * FROM t_account WHERE account_code = ?", Tuple.of("0123")));
    for (String sql :
        List.of(
            "SELECT note FROM %s WHERE account_code = 123",
            "SELECT note FROM %s WHERE account_code IN (123, 7)",
            "SELECT note FROM %s WHERE account_code = '123'",
            "SELECT note FROM %s WHERE account_code = '１２３ '")) {
      List<String> r = both(sql);
      assertThat(r.get(0)).as(sql).isEqualTo(r.get(1));
    }
    List<String> r = both("SELECT note FROM %s WHERE account_code = ?", 123);
    assertThat(r.get(0)).isEqualTo(r.get(1)).contains("n0123", "n123.0");
    // uca1400_ai_ci: the full-width digits are the same key as '123'
    r = both("SELECT note FROM %s WHERE account_code = ?", "123");
    assertThat(r.get(0)).isEqualTo(r.get(1)).contains("n123", "n１２３");
  }
}
