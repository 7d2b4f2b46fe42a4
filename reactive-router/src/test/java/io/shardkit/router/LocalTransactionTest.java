package io.shardkit.router;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardkit.context.ShardkitTimeoutException;
import io.shardkit.context.TxScope;
import io.shardkit.context.junit.LeakGuardExtension;
import io.shardkit.testkit.ShardDatabases;
import io.shardkit.testkit.Shards;
import io.shardkit.testkit.ShardsExtension;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.PrepareOptions;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Transaction;
import io.vertx.sqlclient.TransactionPropagation;
import io.vertx.sqlclient.TransactionRollbackException;
import io.vertx.sqlclient.Tuple;
import io.vertx.sqlclient.templates.SqlTemplate;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Transactions of a pool without a transaction manager, on 2 real shards: {@code t_acct} is split
 * by {@code id} mod 2 (even ids on ds_0, odd on ds_1). Outcomes are checked by reading the physical
 * tables directly, not through the pool.
 */
@Shards(2)
@ExtendWith({ShardsExtension.class, LeakGuardExtension.class})
class LocalTransactionTest {

  static final String INSERT = "INSERT INTO t_acct (id, balance) VALUES (?, ?)";

  static Vertx vertx;
  static ShardDatabases databases;
  static ShardingRules rules;
  SimpleMeterRegistry meters;
  ShardedPool pool;

  @BeforeAll
  static void setUp(ShardDatabases dbs) {
    databases = dbs;
    vertx = Vertx.vertx();
    rules =
        ShardingRules.builder()
            .table("t_acct", t -> t.dataNodes("ds_${0..1}.t_acct").databaseStrategy("id", "mod"))
            .build();
    dbs.executeOnAll("CREATE TABLE t_acct (id INT PRIMARY KEY, balance INT NOT NULL)");
    // load the parser here, not on an event loop in the first test
    io.shardkit.router.impl.parse.StatementParser.warmUp();
  }

  @AfterAll
  static void tearDown() throws Exception {
    await(vertx.close());
  }

  @BeforeEach
  void newPool() {
    databases.executeOnAll("DELETE FROM t_acct");
    meters = new SimpleMeterRegistry();
    pool = build(Duration.ofSeconds(10));
  }

  ShardedPool build(Duration transactionTimeout) {
    return ShardedPool.builder(vertx)
        .rules(rules)
        .dataSources(databases.dataSources("ds_"), new PoolOptions().setMaxSize(4))
        .meterRegistry(meters)
        .transactionTimeout(transactionTimeout)
        .build();
  }

  @AfterEach
  void closePool() throws Exception {
    await(pool.close());
  }

  static <T> T await(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  static Throwable failure(Future<?> future) {
    try {
      await(future);
    } catch (ExecutionException e) {
      return e.getCause();
    } catch (Exception e) {
      throw new AssertionError(e);
    }
    throw new AssertionError("expected a failure");
  }

  /** The rows of the physical table on shard {@code index}, as "id=balance". */
  static List<String> physical(int index) {
    return databases.get(index).query("SELECT id, balance FROM t_acct ORDER BY id").stream()
        .map(r -> r.getValue("id") + "=" + r.getValue("balance"))
        .toList();
  }

  long statementsOn(String ds) {
    return meters.find("shardkit.router.shard.statements").tag("shard", ds).timers().stream()
        .mapToLong(Timer::count)
        .sum();
  }

  @Test
  void withTransactionCommitsOnOneShard() throws Exception {
    String actual =
        await(
            pool.withTransaction(
                conn ->
                    conn.preparedQuery(INSERT)
                        .execute(Tuple.of(2, 100))
                        .compose(v -> conn.preparedQuery(INSERT).execute(Tuple.of(4, 50)))
                        .compose(
                            v ->
                                conn.preparedQuery(
                                        "UPDATE t_acct SET balance = balance - 10 WHERE id = ?")
                                    .execute(Tuple.of(2)))
                        .map(rs -> TxScope.current().orElseThrow().globalId())));

    assertThat(actual).as("the body runs in a TxScope").isNotBlank();
    assertThat(physical(0)).containsExactly("2=90", "4=50");
    assertThat(physical(1)).isEmpty();
  }

  @Test
  void beginCommitAndRollbackOnAConnection() throws Exception {
    SqlConnection conn = await(pool.getConnection());
    try {
      Transaction tx = await(conn.begin());
      assertThat(conn.transaction()).isSameAs(tx);
      await(conn.preparedQuery(INSERT).execute(Tuple.of(1, 10)));
      assertThat(physical(1)).as("not visible before the commit").isEmpty();
      await(tx.commit());
      await(tx.completion());
      assertThat(conn.transaction()).isNull();
      assertThat(physical(1)).containsExactly("1=10");

      Transaction second = await(conn.begin());
      await(conn.preparedQuery(INSERT).execute(Tuple.of(3, 30)));
      await(second.rollback());
      assertThat(failure(second.completion())).isInstanceOf(TransactionRollbackException.class);
      assertThat(physical(1)).containsExactly("1=10");

      // outside a transaction the connection routes like the pool: both shards
      await(conn.preparedQuery(INSERT).execute(Tuple.of(2, 20)));
      assertThat(physical(0)).containsExactly("2=20");
    } finally {
      await(conn.close());
    }
  }

  @Test
  void closingAConnectionRollsBackItsTransaction() throws Exception {
    SqlConnection conn = await(pool.getConnection());
    Transaction tx = await(conn.begin());
    await(conn.preparedQuery(INSERT).execute(Tuple.of(2, 10)));
    await(conn.close());
    assertThat(failure(tx.completion())).isInstanceOf(TransactionRollbackException.class);
    assertThat(physical(0)).isEmpty();
  }

  @Test
  void aFailureInTheFunctionRollsBack() throws Exception {
    IllegalStateException expected = new IllegalStateException("insufficient funds");
    Throwable actual =
        failure(
            pool.withTransaction(
                conn ->
                    conn.preparedQuery(INSERT)
                        .execute(Tuple.of(2, 100))
                        .compose(v -> Future.failedFuture(expected))));
    assertThat(actual).isSameAs(expected);

    Throwable thrown =
        failure(
            pool.withTransaction(
                conn -> {
                  conn.preparedQuery(INSERT).execute(Tuple.of(4, 100));
                  throw new IllegalArgumentException("thrown, not returned");
                }));
    assertThat(thrown).hasMessage("thrown, not returned");

    Throwable duplicate =
        failure(
            pool.withTransaction(
                conn ->
                    conn.preparedQuery(INSERT)
                        .execute(Tuple.of(6, 1))
                        .compose(v -> conn.preparedQuery(INSERT).execute(Tuple.of(6, 2)))));
    assertThat(duplicate).hasMessageContaining("Duplicate entry");
    assertThat(physical(0)).isEmpty();
  }

  @Test
  void aSecondShardIsRefusedBeforeAnyIoThereAndNothingCommits() throws Exception {
    long before = statementsOn("ds_1");
    String second = "UPDATE t_acct SET balance = 1 WHERE id = ?";
    AtomicReference<Throwable> refusal = new AtomicReference<>();
    Throwable actual =
        failure(
            pool.withTransaction(
                conn ->
                    conn.preparedQuery(INSERT)
                        .execute(Tuple.of(2, 100))
                        .compose(
                            v ->
                                conn.preparedQuery(second)
                                    .execute(Tuple.of(1))
                                    .onFailure(refusal::set))));

    assertThat(refusal.get()).isSameAs(actual).isInstanceOf(CrossShardTransactionException.class);
    assertThat(actual.getMessage()).contains(second, "t_acct", "ds_0", "ds_1");
    CrossShardTransactionException e = (CrossShardTransactionException) actual;
    assertThat(e.pinnedDataSource()).isEqualTo("ds_0");
    assertThat(e.dataSources()).containsExactly("ds_1");
    assertThat(statementsOn("ds_1")).as("nothing sent to ds_1").isEqualTo(before);
    assertThat(physical(0)).as("the first shard's insert rolled back").isEmpty();
    assertThat(physical(1)).isEmpty();
  }

  @Test
  void aRefusedTransactionCanOnlyBeRolledBack() throws Exception {
    SqlConnection conn = await(pool.getConnection());
    try {
      Transaction tx = await(conn.begin());
      await(conn.preparedQuery(INSERT).execute(Tuple.of(1, 10)));
      // a scatter read reaches ds_0 too; refused as a whole before any unit runs
      Throwable refused = failure(conn.query("SELECT COUNT(*) FROM t_acct").execute());
      assertThat(refused).isInstanceOf(CrossShardTransactionException.class);
      Throwable commit = failure(tx.commit());
      assertThat(commit).isSameAs(refused);
      assertThat(physical(1)).as("the commit rolled back").isEmpty();
    } finally {
      await(conn.close());
    }
    // a first statement that spans both shards is refused too
    Throwable first =
        failure(pool.withTransaction(c -> c.query("SELECT COUNT(*) FROM t_acct").execute()));
    assertThat(first).isInstanceOf(CrossShardTransactionException.class);
    assertThat(first.getMessage()).contains("ds_0, ds_1");
  }

  @Test
  void batchToTwoShardsIsRefusedBeforeAnyTupleRuns() throws Exception {
    Throwable actual =
        failure(
            pool.withTransaction(
                conn ->
                    conn.preparedQuery(INSERT)
                        .executeBatch(List.of(Tuple.of(2, 1), Tuple.of(3, 1)))));
    assertThat(actual).isInstanceOf(CrossShardTransactionException.class);
    assertThat(physical(0)).isEmpty();
    assertThat(physical(1)).isEmpty();
  }

  @Test
  void theDeadlineRollsBackAndFailsLaterStatementsAndTheCommit() throws Exception {
    await(pool.close());
    // a deadline the first statement meets even on a loaded machine (300 ms did not, once)
    pool = build(Duration.ofMillis(1_000));
    assertThat(pool.transactionTimeout()).isEqualTo(Duration.ofMillis(1_000));
    SqlConnection conn = await(pool.getConnection());
    try {
      Transaction tx = await(conn.begin());
      await(conn.preparedQuery(INSERT).execute(Tuple.of(2, 10)));
      Thread.sleep(1_300); // the test thread, not an event loop
      assertThat(failure(conn.preparedQuery(INSERT).execute(Tuple.of(4, 10))))
          .isInstanceOf(ShardkitTimeoutException.class);
      assertThat(failure(tx.commit()))
          .isInstanceOf(ShardkitTimeoutException.class)
          .hasMessageContaining("ds_0");
      assertThat(physical(0)).isEmpty();
    } finally {
      await(conn.close());
    }
  }

  @Test
  void withTransactionTimeoutAnswersAtTheDeadlineEvenIfTheFunctionNeverCompletes()
      throws Exception {
    long start = System.nanoTime();
    Throwable actual =
        failure(
            pool.withTransaction(
                Duration.ofMillis(300),
                conn ->
                    conn.preparedQuery(INSERT)
                        .execute(Tuple.of(2, 10))
                        .compose(v -> Promise.<Void>promise().future())));
    long elapsedMs = (System.nanoTime() - start) / 1_000_000;
    assertThat(actual).isInstanceOf(ShardkitTimeoutException.class);
    assertThat(elapsedMs).isBetween(250L, 5_000L);
    Thread.sleep(200); // the rollback runs at the deadline, asynchronously
    assertThat(physical(0)).isEmpty();
    assertThat(failure(pool.withTransaction(Duration.ZERO, c -> Future.succeededFuture())))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void withConnectionClosesTheConnection() throws Exception {
    await(pool.preparedQuery(INSERT).execute(Tuple.of(1, 5)));
    AtomicReference<SqlConnection> used = new AtomicReference<>();
    Long actual =
        await(
            pool.withConnection(
                conn -> {
                  used.set(conn);
                  return conn.query("SELECT COUNT(*) FROM t_acct")
                      .execute()
                      .map(rs -> rs.iterator().next().getLong(0));
                }));
    assertThat(actual).isEqualTo(1L);
    assertThat(failure(used.get().query("SELECT 1 FROM t_acct").execute()))
        .hasMessageContaining("closed");
  }

  @Test
  void nestedContextPropagationJoinsTheOuterTransaction() throws Exception {
    List<Object> actual =
        await(
            pool.withTransaction(
                TransactionPropagation.CONTEXT,
                outer ->
                    outer
                        .preparedQuery(INSERT)
                        .execute(Tuple.of(2, 1))
                        .compose(
                            v ->
                                pool.withTransaction(
                                    TransactionPropagation.CONTEXT,
                                    inner ->
                                        inner
                                            .preparedQuery(INSERT)
                                            .execute(Tuple.of(4, 2))
                                            .map(rs -> List.<Object>of(inner == outer))))));
    assertThat(actual).containsExactly(true);
    assertThat(physical(0)).containsExactly("2=1", "4=2");

    // the inner failure rolls back the whole transaction
    Throwable failed =
        failure(
            pool.withTransaction(
                TransactionPropagation.CONTEXT,
                outer ->
                    outer
                        .preparedQuery(INSERT)
                        .execute(Tuple.of(6, 1))
                        .compose(
                            v ->
                                pool.withTransaction(
                                    TransactionPropagation.CONTEXT,
                                    inner ->
                                        inner
                                            .preparedQuery(INSERT)
                                            .execute(Tuple.of(8, 1))
                                            .compose(
                                                rs ->
                                                    Future.failedFuture(
                                                        new IllegalStateException("inner")))))));
    assertThat(failed).isInstanceOf(IllegalStateException.class);
    assertThat(physical(0)).containsExactly("2=1", "4=2");
  }

  @Test
  void sqlTemplateInsideWithTransaction() throws Exception {
    List<Integer> actual =
        await(
            pool.withTransaction(
                conn ->
                    SqlTemplate.forUpdate(
                            conn, "INSERT INTO t_acct (id, balance) VALUES (#{id}, #{balance})")
                        .execute(Map.of("id", 3, "balance", 33))
                        .compose(
                            v ->
                                SqlTemplate.forQuery(
                                        conn, "SELECT balance FROM t_acct WHERE id = #{id}")
                                    .mapTo(Row::toJson)
                                    .execute(Map.of("id", 3)))
                        .map(
                            rows -> {
                              java.util.List<Integer> out = new java.util.ArrayList<>();
                              rows.forEach(r -> out.add(r.getInteger("balance")));
                              return out;
                            })));
    assertThat(actual).containsExactly(33);
    assertThat(physical(1)).containsExactly("3=33");
  }

  @Test
  void prepareOptionsAndPreparedStatements() throws Exception {
    assertThatThrownBy(
            () ->
                pool.preparedQuery(
                    INSERT, new PrepareOptions(new io.vertx.core.json.JsonObject().put("x", 1))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("PrepareOptions");
    await(pool.preparedQuery(INSERT, new PrepareOptions()).execute(Tuple.of(2, 2)));
    SqlConnection conn = await(pool.getConnection());
    try {
      io.vertx.sqlclient.PreparedStatement ps =
          await(conn.prepare("SELECT balance FROM t_acct WHERE id = ?"));
      assertThat(await(ps.query().execute(Tuple.of(2))).iterator().next().getInteger(0))
          .isEqualTo(2);
      assertThatThrownBy(() -> ps.cursor(Tuple.of(2)))
          .isInstanceOf(UnsupportedOperationException.class)
          .hasMessageContaining("ShardedPool.stream");
      assertThat(failure(conn.prepare("SELEC nonsense"))).isInstanceOf(SqlParseException.class);
    } finally {
      await(conn.close());
    }
  }

  @Test
  void aCommitInFlightAtTheDeadlineIsAnsweredAsUnknownNotAsARollback() throws Exception {
    Duration timeout = Duration.ofMillis(900);
    long start = System.nanoTime();
    Future<Void> outcome =
        pool.withTransaction(
            timeout,
            conn ->
                conn.preparedQuery(INSERT)
                    .execute(Tuple.of(2, 100))
                    // the work ends at 600 ms: its commit goes to a frozen shard
                    .compose(
                        rs -> {
                          io.vertx.core.Promise<Void> later = io.vertx.core.Promise.promise();
                          vertx.setTimer(600, id -> later.complete());
                          return later.future();
                        }));
    Thread.sleep(300);
    databases.get(0).shard().pause();
    Throwable actual;
    long actualMillis;
    try {
      actual = failure(outcome);
      actualMillis = (System.nanoTime() - start) / 1_000_000;
    } finally {
      databases.get(0).shard().resume();
    }
    // answered soon after the deadline, as unknown: the commit was sent and may have applied
    assertThat(actualMillis).isLessThan(timeout.toMillis() + 1_500);
    assertThat(actual)
        .isInstanceOf(io.shardkit.context.ShardkitTimeoutException.class)
        .hasMessageContaining("outcome is unknown");
    // the data source decides: the frozen commit applies once the shard runs again
    long until = System.nanoTime() + 10_000_000_000L;
    while (physical(0).isEmpty() && System.nanoTime() < until) {
      Thread.sleep(50);
    }
    assertThat(physical(0)).containsExactly("2=100");
  }
}
