package io.shardkit.router;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardkit.testkit.ShardDatabases;
import io.shardkit.testkit.Shards;
import io.shardkit.testkit.ShardsExtension;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.mysqlclient.MySQLBuilder;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;
import io.vertx.sqlclient.desc.ColumnDescriptor;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * An unaliased expression's column is labelled with its text as the user wrote it ({@code TRIM(c)},
 * {@code COUNT( * )}, {@code k+1}), comments kept and cut at 255 characters, a string literal by
 * its value: the labels and values through the router equal one database's for a point read (one
 * node), a scatter read and a grouped scatter, on the text and the binary protocol.
 */
@Shards(2)
@ExtendWith(ShardsExtension.class)
class ColumnLabelTest {

  static final String COLUMNS =
      " (id BIGINT PRIMARY KEY, k INT, name VARCHAR(32), grp INT) DEFAULT CHARSET=utf8mb4";

  static Vertx vertx;
  static ShardedPool pool;
  static Pool reference;

  @BeforeAll
  static void setUp(ShardDatabases dbs) throws Exception {
    vertx = Vertx.vertx();
    ShardingRules rules =
        ShardingRules.builder()
            .table(
                "t_lab",
                t ->
                    t.dataNodes("ds_${0..1}.t_lab_${0..1}")
                        .databaseStrategy("k", "mod")
                        .tableStrategy("id", "mod"))
            .build();
    pool =
        ShardedPool.builder(vertx)
            .nonAtomicMultiNodeWrites(true)
            .rules(rules)
            .dataSources(dbs.dataSources("ds_"), new PoolOptions().setMaxSize(2))
            .build();
    reference = MySQLBuilder.pool().connectingTo(dbs.get(0).connectOptions()).using(vertx).build();
    await(pool.query("CREATE TABLE t_lab" + COLUMNS).execute());
    await(reference.query("CREATE TABLE ref_lab" + COLUMNS).execute());
    List<Tuple> rows = new ArrayList<>();
    String[] names = {"  Zürich x", "bern", null, "Åsa"};
    for (int i = 0; i < 8; i++) {
      rows.add(Tuple.of((long) i, i % 4, names[i % names.length], i % 3));
    }
    String insert = " (id, k, name, grp) VALUES (?, ?, ?, ?)";
    await(pool.preparedQuery("INSERT INTO t_lab" + insert).executeBatch(rows));
    await(reference.preparedQuery("INSERT INTO ref_lab" + insert).executeBatch(rows));
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
        "TRIM(name)",
        "trim(both 'x' from name)",
        "COUNT( * )",
        "count(*)",
        "grp+1",
        "t.grp  *  2",
        "- grp",
        "CAST(grp AS CHAR)",
        "cast(grp as char)",
        "b'101'",
        "0x41",
        "1 /* a comment */ + grp",
        "'abc'",
        "N'x'",
        "_utf8mb4'x'",
        "UPPER( name )",
        "CASE WHEN grp > 0 THEN 'p' ELSE 'n' END",
        "IFNULL(name,'-')",
        "name",
        "t.name",
        "`grp`+0",
        "MAX(id)+0",
        "concat(\"a\", name)",
        "LONG"
      })
  void labelsAndValuesAreOneDatabases(String written) throws Exception {
    // longer than the 255 characters the server keeps of a label
    String item = written.equals("LONG") ? "grp" + "+1".repeat(140) : written;
    boolean aggregate = item.toUpperCase().contains("COUNT") || item.contains("MAX(");
    for (String where : new String[] {" WHERE t.k = 1", "", " WHERE t.id < 6"}) {
      String tail = aggregate ? where : where + " ORDER BY t.id";
      String sql =
          "SELECT "
              + item
              + ", t.grp AS g FROM %s t"
              + tail
              + (aggregate ? " GROUP BY t.grp ORDER BY t.grp" : "");
      RowSet<Row> expected = await(reference.query(String.format(sql, "ref_lab")).execute());
      RowSet<Row> text = await(pool.query(String.format(sql, "t_lab")).execute());
      RowSet<Row> binary = await(pool.preparedQuery(String.format(sql, "t_lab")).execute());
      assertThat(labels(text)).as(sql).isEqualTo(labels(expected));
      assertThat(labels(binary)).as(sql + " (prepared)").isEqualTo(labels(expected));
      assertThat(values(text)).as(sql).isEqualTo(values(expected));
    }
  }

  static List<String> labels(RowSet<Row> rs) {
    return rs.columnDescriptors().stream().map(ColumnDescriptor::name).toList();
  }

  static List<String> values(RowSet<Row> rs) {
    List<String> out = new ArrayList<>();
    for (Row r : rs) {
      List<String> row = new ArrayList<>();
      for (int i = 0; i < r.size(); i++) {
        Object v = r.getValue(i);
        row.add(v instanceof io.vertx.core.buffer.Buffer b ? b.toString() : String.valueOf(v));
      }
      out.add(String.join("|", row));
    }
    return out;
  }
}
