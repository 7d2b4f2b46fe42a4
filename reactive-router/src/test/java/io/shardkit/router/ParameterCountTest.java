package io.shardkit.router;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardkit.context.junit.LeakGuardExtension;
import io.shardkit.testkit.ShardDatabases;
import io.shardkit.testkit.Shards;
import io.shardkit.testkit.ShardsExtension;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxException;
import io.vertx.mysqlclient.MySQLBuilder;
import io.vertx.mysqlclient.MySQLException;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Tuple;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A statement executed with more or fewer values than it has placeholders fails on a ShardedPool as
 * it fails on a plain Vert.x MySQL pool (same message), before any I/O: nothing is written on any
 * shard, neither the NULLs of missing values nor the tuples of a batch before the wrong one.
 */
@Shards(2)
@ExtendWith({ShardsExtension.class, LeakGuardExtension.class})
class ParameterCountTest {

  static final String INSERT = "INSERT INTO %s (order_id, user_id, status) VALUES (?, ?, ?)";

  static Vertx vertx;
  static ShardedPool sharded;
  static Pool plain;
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
                        .databaseStrategy("user_id", "mod")
                        .tableStrategy("order_id", "mod"))
            .build();
    sharded =
        ShardedPool.builder(vertx)
            .nonAtomicMultiNodeWrites(true)
            .rules(rules)
            .dataSources(dbs.dataSources("ds_"), new PoolOptions().setMaxSize(2))
            .build();
    String columns = " (order_id BIGINT PRIMARY KEY, user_id INT, status VARCHAR(16))";
    dbs.executeOnAll(
        "CREATE TABLE t_order_0" + columns,
        "CREATE TABLE t_order_1" + columns,
        "CREATE TABLE t_plain" + columns);
    plain = MySQLBuilder.pool().connectingTo(dbs.get(0).connectOptions()).using(vertx).build();
  }

  @AfterAll
  static void tearDown() throws Exception {
    await(sharded.close());
    await(plain.close());
    await(vertx.close());
  }

  @Test
  void tooFewValuesFailLikeAPlainPoolAndStoreNoNulls() {
    Throwable expected = failure(plain.preparedQuery(insert("t_plain")).execute(Tuple.of(1L, 2)));
    Throwable actual = failure(sharded.preparedQuery(insert("t_order")).execute(Tuple.of(1L, 2)));

    assertThat(expected).isInstanceOf(VertxException.class);
    assertThat(expected.getMessage())
        .isEqualTo(
            "The number of parameters to execute should be consistent with the expected number of"
                + " parameters = [3] but the actual number is [2].");
    assertThat(actual)
        .isInstanceOf(ParameterCountException.class)
        .isNotInstanceOf(UnsupportedSqlException.class)
        .hasMessage(expected.getMessage());
    ParameterCountException count = (ParameterCountException) actual;
    assertThat(List.of(count.expected(), count.actual(), count.batchIndex()))
        .containsExactly(3, 2, -1);
    assertNothingWritten();
  }

  @Test
  void tooManyValuesFailLikeAPlainPool() {
    Tuple four = Tuple.of(3L, 1, "new", "extra");
    Throwable expected = failure(plain.preparedQuery(insert("t_plain")).execute(four));
    Throwable actual = failure(sharded.preparedQuery(insert("t_order")).execute(four));

    assertThat(expected.getMessage()).contains("= [3] but the actual number is [4].");
    assertThat(actual)
        .isInstanceOf(ParameterCountException.class)
        .hasMessage(expected.getMessage());
    Throwable select =
        failure(
            sharded
                .preparedQuery("SELECT * FROM t_order WHERE user_id = ? AND order_id = ?")
                .execute(Tuple.of(1, 3L, 4L)));
    assertThat(select).isInstanceOf(ParameterCountException.class).hasMessageContaining("[2]");
    assertNothingWritten();
  }

  @Test
  void aWrongTupleFailsTheWholeBatchBeforeAnyTupleRuns() {
    List<Tuple> batch =
        List.of(Tuple.of(5L, 1, "new"), Tuple.of(6L, 0, "new"), Tuple.of(7L, 1), Tuple.of(8L, 0));
    Throwable expected = failure(plain.preparedQuery(insert("t_plain")).executeBatch(batch));
    Throwable actual = failure(sharded.preparedQuery(insert("t_order")).executeBatch(batch));

    assertThat(expected.getMessage())
        .isEqualTo(
            "The number of parameters to execute should be consistent with the expected number of"
                + " parameters = [3] but the actual number is [2].");
    assertThat(actual)
        .isInstanceOf(ParameterCountException.class)
        .hasMessage(
            expected.getMessage()
                + " (batch tuple at index [2]; no tuple of the batch was executed)");
    assertThat(((ParameterCountException) actual).batchIndex()).isEqualTo(2);
    Throwable tooMany =
        failure(
            sharded
                .preparedQuery(insert("t_order"))
                .executeBatch(List.of(Tuple.of(9L, 1, "a", "b"), Tuple.of(10L, 0, "new"))));
    assertThat(tooMany).hasMessageContaining("[4]").hasMessageContaining("index [0]");
    assertNothingWritten();
  }

  @Test
  void aTextQueryWithPlaceholdersIsASyntaxErrorOnBoth() {
    Throwable expected =
        failure(plain.query("INSERT INTO t_plain (order_id, user_id) VALUES (11, ?)").execute());
    Throwable actual =
        failure(sharded.query("INSERT INTO t_order (order_id, user_id) VALUES (11, ?)").execute());

    // the server answers a ? in a text query with a syntax error (1064) near the ?
    assertThat(expected).isInstanceOf(MySQLException.class);
    assertThat(((MySQLException) expected).getErrorCode()).isEqualTo(1064);
    assertThat(expected.getMessage()).contains("near '?)'");
    // the router refuses it as a syntax error near the same place, without sending it
    assertThat(actual)
        .isInstanceOf(SqlParseException.class)
        .hasMessageStartingWith("cannot parse SQL near \"?)\" (line 1, column 53)")
        .hasMessageContaining("preparedQuery");
    assertNothingWritten();
  }

  @Test
  void exactCountsStillRunAndWrite() {
    await(sharded.preparedQuery(insert("t_order")).execute(Tuple.of(100L, 1, "new")));
    await(
        sharded
            .preparedQuery(insert("t_order"))
            .executeBatch(List.of(Tuple.of(101L, 0, "new"), Tuple.of(102L, 1, "new"))));
    assertThat(await(sharded.query("SELECT COUNT(*) FROM t_order").execute()).iterator().next())
        .extracting(r -> r.getLong(0))
        .isEqualTo(3L);
    await(sharded.query("DELETE FROM t_order WHERE order_id >= 100").execute());
  }

  private static String insert(String table) {
    return String.format(INSERT, table);
  }

  private static void assertNothingWritten() {
    for (int i = 0; i < databases.size(); i++) {
      for (String table : List.of("t_order_0", "t_order_1", "t_plain")) {
        assertThat(databases.get(i).query("SELECT * FROM " + table))
            .as("ds_%d.%s", i, table)
            .isEmpty();
      }
    }
  }

  private static Throwable failure(Future<?> future) {
    try {
      future.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      return e.getCause();
    } catch (Exception e) {
      throw new AssertionError(e);
    }
    throw new AssertionError("expected a failure");
  }

  private static <T> T await(Future<T> future) {
    try {
      return future.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }
}
