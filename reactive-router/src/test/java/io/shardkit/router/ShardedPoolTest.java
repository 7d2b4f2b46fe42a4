package io.shardkit.router;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardkit.context.RoutingHint;
import io.shardkit.context.ScopeOptions;
import io.shardkit.context.TxScope;
import io.shardkit.context.junit.LeakGuardExtension;
import io.shardkit.router.spi.ShardConnectionProvider;
import io.shardkit.testkit.ShardDatabases;
import io.shardkit.testkit.Shards;
import io.shardkit.testkit.ShardsExtension;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.mysqlclient.MySQLBuilder;
import io.vertx.mysqlclient.MySQLClient;
import io.vertx.mysqlclient.MySQLConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.SqlResult;
import io.vertx.sqlclient.Tuple;
import io.vertx.sqlclient.templates.SqlTemplate;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** ShardedPool on real MariaDB shards: placement, scatter, the SqlClient contract, errors. */
@Shards(2)
@ExtendWith({ShardsExtension.class, LeakGuardExtension.class})
class ShardedPoolTest {

  static final String DDL =
      "CREATE TABLE t_order (order_id BIGINT NOT NULL PRIMARY KEY, user_id INT NOT NULL,"
          + " status VARCHAR(32), amount DECIMAL(10,2))";

  static Vertx vertx;
  static ShardedPool pool;
  static ShardingRules rules;
  static ShardDatabases databases;
  static Pool reference;

  @BeforeAll
  static void setUp(ShardDatabases dbs) throws Exception {
    databases = dbs;
    vertx = Vertx.vertx();
    rules =
        ShardingRules.builder()
            .table(
                "t_order",
                t ->
                    t.dataNodes("ds_${0..1}.t_order_${0..1}")
                        .databaseStrategy("user_id", "mod")
                        .tableStrategy("order_id", "mod")
                        .snowflakeKey("order_id", 7))
            .table(
                "t_order_item",
                t ->
                    t.dataNodes("ds_${0..1}.t_order_item_${0..1}")
                        .databaseStrategy("user_id", "mod")
                        .tableStrategy("order_id", "mod"))
            .bindingGroup("t_order", "t_order_item")
            .broadcastTables("t_country")
            .singleTable("t_user", "ds_0")
            .build();
    pool =
        ShardedPool.builder(vertx)
            .nonAtomicMultiNodeWrites(true)
            .rules(rules)
            .dataSources(dbs.dataSources("ds_"), new PoolOptions().setMaxSize(4))
            .build();
    await(pool.query(DDL).execute());
    await(
        pool.query(
                "CREATE TABLE t_order_item (item_id BIGINT NOT NULL PRIMARY KEY, order_id BIGINT NOT NULL,"
                    + " user_id INT NOT NULL, qty INT)")
            .execute());
    await(
        pool.query("CREATE TABLE t_country (code CHAR(2) PRIMARY KEY, name VARCHAR(64))")
            .execute());
    await(pool.query("CREATE TABLE t_user (user_id INT PRIMARY KEY, name VARCHAR(64))").execute());
    List<Tuple> orders = new ArrayList<>();
    for (int i = 1; i <= 40; i++) {
      orders.add(
          Tuple.of(
              (long) i, i % 7, i % 3 == 0 ? "paid" : "new", new java.math.BigDecimal(i + ".25")));
    }
    await(
        pool.preparedQuery(
                "INSERT INTO t_order (order_id, user_id, status, amount) VALUES (?, ?, ?, ?)")
            .executeBatch(orders));
    List<Tuple> items = new ArrayList<>();
    for (int i = 1; i <= 40; i++) {
      items.add(Tuple.of(100L + i, (long) i, i % 7, i));
      items.add(Tuple.of(200L + i, (long) i, i % 7, 2 * i));
    }
    await(
        pool.preparedQuery(
                "INSERT INTO t_order_item (item_id, order_id, user_id, qty) VALUES (?, ?, ?, ?)")
            .executeBatch(items));
    await(pool.query("INSERT INTO t_country VALUES ('FR', 'France'), ('JP', 'Japan')").execute());
    await(pool.query("INSERT INTO t_user VALUES (1, 'ann'), (2, 'bob')").execute());
    // The same rows in one unsharded database, to compare results with.
    dbs.get(0)
        .execute(
            "CREATE TABLE ref_order (order_id BIGINT NOT NULL PRIMARY KEY, user_id INT NOT NULL,"
                + " status VARCHAR(32), amount DECIMAL(10,2))");
    for (Tuple t : orders) {
      dbs.get(0)
          .execute(
              "INSERT INTO ref_order VALUES ("
                  + t.getLong(0)
                  + ", "
                  + t.getInteger(1)
                  + ", '"
                  + t.getString(2)
                  + "', "
                  + t.getValue(3)
                  + ")");
    }
    reference = MySQLBuilder.pool().connectingTo(dbs.get(0).connectOptions()).using(vertx).build();
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

  static Pool direct(int shard) {
    return MySQLBuilder.pool()
        .connectingTo(databases.get(shard).connectOptions())
        .using(vertx)
        .build();
  }

  @Test
  void rowWrittenThroughPoolLandsInTheNodeTheRuleNames() throws Exception {
    long orderId = 1_000_003L;
    int userId = 5;
    await(
        pool.preparedQuery("INSERT INTO t_order (order_id, user_id, status) VALUES (?, ?, ?)")
            .execute(Tuple.of(orderId, userId, "placed")));
    DataNode expectedNode =
        rules.nodeFor("t_order", Map.of("user_id", userId, "order_id", orderId));
    assertThat(expectedNode).isEqualTo(new DataNode("ds_1", "t_order_1"));
    for (int shard = 0; shard < 2; shard++) {
      Pool direct = direct(shard);
      try {
        for (String table : List.of("t_order_0", "t_order_1")) {
          RowSet<Row> rows =
              await(
                  direct
                      .preparedQuery("SELECT status FROM " + table + " WHERE order_id = ?")
                      .execute(Tuple.of(orderId)));
          boolean expectedHere = expectedNode.equals(new DataNode("ds_" + shard, table));
          assertThat(rows.size()).as("ds_%d.%s", shard, table).isEqualTo(expectedHere ? 1 : 0);
          if (expectedHere) {
            assertThat(rows.iterator().next().getString("status")).isEqualTo("placed");
          }
        }
      } finally {
        await(direct.close());
      }
    }
    RowSet<Row> back =
        await(
            pool.preparedQuery("SELECT status FROM t_order WHERE user_id = ? AND order_id = ?")
                .execute(Tuple.of(userId, orderId)));
    assertThat(back.iterator().next().getString(0)).isEqualTo("placed");
    await(pool.preparedQuery("DELETE FROM t_order WHERE order_id = ?").execute(Tuple.of(orderId)));
  }

  @Test
  void scatterReadReturnsTheUnionOfAllShards() throws Exception {
    Set<Long> expectedIds = new HashSet<>();
    for (int shard = 0; shard < 2; shard++) {
      Pool direct = direct(shard);
      try {
        for (String table : List.of("t_order_0", "t_order_1")) {
          for (Row row : await(direct.query("SELECT order_id FROM " + table).execute())) {
            assertThat(expectedIds.add(row.getLong(0))).isTrue();
          }
        }
      } finally {
        await(direct.close());
      }
    }
    RowSet<Row> actual = await(pool.query("SELECT order_id, status FROM t_order").execute());
    Set<Long> actualIds = new HashSet<>();
    actual.forEach(r -> actualIds.add(r.getLong("order_id")));
    assertThat(actual.size()).isEqualTo(expectedIds.size());
    assertThat(actualIds).isEqualTo(expectedIds);
    assertThat(expectedIds).hasSizeGreaterThanOrEqualTo(40);
  }

  @Test
  void unparseableAndUnsupportedSqlFailBeforeAnyIo() throws Exception {
    MySQLConnectOptions nowhere =
        new MySQLConnectOptions().setHost("127.0.0.1").setPort(1).setUser("x");
    ShardedPool unreachable =
        ShardedPool.builder(vertx)
            .nonAtomicMultiNodeWrites(true)
            .rules(rules)
            .dataSources(Map.of("ds_0", nowhere, "ds_1", nowhere), new PoolOptions())
            .build();
    try {
      Future<RowSet<Row>> malformed = unreachable.query("SELEC * FROM t_order").execute();
      assertThatThrownBy(() -> await(malformed))
          .hasCauseInstanceOf(SqlParseException.class)
          .hasMessageContaining("SELEC");
      Future<RowSet<Row>> crossJoin =
          unreachable
              .query("SELECT * FROM t_order o JOIN t_user u ON o.user_id = u.user_id")
              .execute();
      assertThatThrownBy(() -> await(crossJoin))
          .hasCauseInstanceOf(UnsupportedSqlException.class)
          .hasMessageContaining("t_user");
      Future<RowSet<Row>> begin = unreachable.query("START TRANSACTION").execute();
      assertThatThrownBy(() -> await(begin))
          .hasCauseInstanceOf(UnsupportedSqlException.class)
          .hasMessageContaining("reactive-tx");
      Future<RowSet<Row>> reachesShard =
          unreachable.query("SELECT * FROM t_order WHERE user_id = 1").execute();
      assertThatThrownBy(() -> await(reachesShard))
          .hasCauseInstanceOf(ShardUnavailableException.class)
          .hasMessageContaining("ds_1");
    } finally {
      await(unreachable.close());
    }
  }

  @Test
  void preparedQueryMappingCollectingAndRowCount() throws Exception {
    RowSet<Row> rows =
        await(
            pool.preparedQuery(
                    "SELECT order_id, status FROM t_order WHERE user_id = ? ORDER BY order_id")
                .execute(Tuple.of(3)));
    List<Long> expectedIds = List.of(3L, 10L, 17L, 24L, 31L, 38L);
    List<Long> actualIds = new ArrayList<>();
    for (Row r : rows) {
      actualIds.add(r.getLong("order_id"));
    }
    assertThat(actualIds).isEqualTo(expectedIds);
    RowSet<Long> mapped =
        await(
            pool.preparedQuery(
                    "SELECT order_id FROM t_order WHERE order_id IN (?, ?, ?) ORDER BY order_id DESC")
                .mapping(r -> r.getLong(0))
                .execute(Tuple.of(4, 5, 6)));
    assertThat(mapped.size()).isEqualTo(3);
    List<Long> actualMapped = new ArrayList<>();
    mapped.forEach(actualMapped::add);
    assertThat(actualMapped).containsExactly(6L, 5L, 4L);
    SqlResult<Set<String>> collected =
        await(
            pool.query("SELECT status FROM t_order")
                .collecting(Collectors.mapping(r -> r.getString(0), Collectors.toSet()))
                .execute());
    assertThat(collected.value()).containsExactlyInAnyOrder("new", "paid");
    assertThat(collected.size()).isGreaterThanOrEqualTo(40);
    RowSet<Row> expectedUnchanged =
        await(
            reference
                .preparedQuery("UPDATE ref_order SET status = status WHERE order_id IN (?, ?)")
                .execute(Tuple.of(1, 2)));
    RowSet<Row> actualUnchanged =
        await(
            pool.preparedQuery("UPDATE t_order SET status = status WHERE order_id IN (?, ?)")
                .execute(Tuple.of(1, 2)));
    assertThat(actualUnchanged.rowCount()).isEqualTo(expectedUnchanged.rowCount());
    RowSet<Row> touched =
        await(
            pool.preparedQuery("UPDATE t_order SET amount = amount + 1 WHERE order_id IN (?, ?, ?)")
                .execute(Tuple.of(1, 2, 3)));
    assertThat(touched.rowCount()).isEqualTo(3);
    await(
        pool.preparedQuery("UPDATE t_order SET amount = amount - 1 WHERE order_id IN (?, ?, ?)")
            .execute(Tuple.of(1, 2, 3)));
  }

  @Test
  void executeBatchChainsOneResultPerTuple() throws Exception {
    RowSet<Row> first =
        await(
            pool.preparedQuery("INSERT INTO t_order (order_id, user_id, status) VALUES (?, ?, 'b')")
                .executeBatch(List.of(Tuple.of(5001L, 1), Tuple.of(5002L, 2), Tuple.of(5003L, 3))));
    int results = 0;
    for (RowSet<Row> r = first; r != null; r = r.next()) {
      assertThat(r.rowCount()).isEqualTo(1);
      results++;
    }
    assertThat(results).isEqualTo(3);
    RowSet<Row> deleted =
        await(pool.query("DELETE FROM t_order WHERE order_id BETWEEN 5001 AND 5003").execute());
    assertThat(deleted.rowCount()).isEqualTo(3);
    RowSet<Row> scatter =
        await(
            pool.preparedQuery("SELECT COUNT(*) FROM t_order WHERE status = ?")
                .executeBatch(List.of(Tuple.of("new"), Tuple.of("paid"))));
    RowSet<Row> expectedNew =
        await(reference.query("SELECT COUNT(*) FROM ref_order WHERE status = 'new'").execute());
    assertThat(scatter.iterator().next().getLong(0))
        .isEqualTo(expectedNew.iterator().next().getLong(0));
    assertThat(scatter.next().iterator().next().getLong(0)).as("paid").isGreaterThan(0L);
    assertThat(scatter.next().next()).isNull();
  }

  @Test
  void sqlTemplateWorksOnTheShardedPool() throws Exception {
    RowSet<Row> rows =
        await(
            SqlTemplate.forQuery(
                    pool,
                    "SELECT order_id, status FROM t_order WHERE user_id = #{user} AND order_id = #{id}")
                .execute(Map.of("user", 6, "id", 13L)));
    assertThat(rows.size()).isEqualTo(1);
    assertThat(rows.iterator().next().getLong("order_id")).isEqualTo(13L);
    SqlResult<Void> inserted =
        await(
            SqlTemplate.forUpdate(
                    pool,
                    "INSERT INTO t_order (order_id, user_id, status) VALUES (#{id}, #{user}, #{status})")
                .execute(Map.of("id", 6001L, "user", 4, "status", "tpl")));
    assertThat(inserted.rowCount()).isEqualTo(1);
    await(pool.query("DELETE FROM t_order WHERE order_id = 6001").execute());
  }

  @Test
  void mergedResultsAndMetadataMatchOneDatabase() throws Exception {
    String[] queries = {
      "SELECT status, COUNT(*) AS c, SUM(amount), AVG(amount), MIN(order_id), MAX(order_id) FROM %s GROUP BY status ORDER BY status",
      "SELECT status, COUNT(*) AS c FROM %s GROUP BY status ORDER BY c DESC, status",
      "SELECT order_id, amount FROM %s ORDER BY amount DESC LIMIT 3, 5",
      "SELECT COUNT(DISTINCT user_id), SUM(DISTINCT user_id), AVG(DISTINCT user_id), COUNT(*) FROM %s",
      "SELECT DISTINCT status FROM %s ORDER BY status",
      "SELECT user_id, AVG(amount) FROM %s WHERE order_id > 5 GROUP BY user_id",
      "SELECT COUNT(*), SUM(amount), MAX(status) FROM %s WHERE order_id > 1000",
      "SELECT o.order_id FROM %s o ORDER BY o.user_id DESC, o.order_id LIMIT 7",
      "SELECT user_id, COUNT(*) n FROM %s GROUP BY user_id HAVING SUM(amount) > 100 AND COUNT(*) BETWEEN 5 AND 6 ORDER BY n DESC, user_id",
      "SELECT user_id, AVG(amount) a FROM %s GROUP BY user_id HAVING AVG(amount) < 20 OR MIN(status) = 'paid'",
      "SELECT %1$s.order_id + 1, COUNT(%1$s.order_id) FROM %1$s GROUP BY %1$s.order_id + 1 ORDER BY 1 LIMIT 3",
    };
    for (String q : queries) {
      RowSet<Row> expected = await(reference.query(String.format(q, "ref_order")).execute());
      RowSet<Row> actual = await(pool.query(String.format(q, "t_order")).execute());
      // the reference table is named ref_order; labels must name the logical table, never t_order_N
      assertThat(actual.columnsNames())
          .as(q)
          .isEqualTo(
              expected.columnsNames().stream()
                  .map(n -> n.replace("ref_order", "t_order"))
                  .toList());
      assertThat(actual.columnDescriptors().stream().map(d -> d.typeName()).toList())
          .as(q)
          .isEqualTo(expected.columnDescriptors().stream().map(d -> d.typeName()).toList());
      boolean ordered = q.contains("ORDER BY");
      List<String> expectedRows = rows(expected);
      List<String> actualRows = rows(actual);
      if (ordered) {
        assertThat(actualRows).as(q).isEqualTo(expectedRows);
      } else {
        assertThat(actualRows).as(q).containsExactlyInAnyOrderElementsOf(expectedRows);
      }
    }
  }

  static List<String> rows(RowSet<Row> rs) {
    List<String> out = new ArrayList<>();
    for (Row r : rs) {
      List<String> values = new ArrayList<>();
      for (int i = 0; i < r.size(); i++) {
        Object v = r.getValue(i);
        values.add(
            v == null
                ? "null"
                : v instanceof Number n
                    ? new java.math.BigDecimal(n.toString()).stripTrailingZeros().toPlainString()
                    : v.toString());
      }
      out.add(String.join("|", values));
    }
    return out;
  }

  @Test
  void generatedKeysAreReturnedAndRowsLandWhereTheKeySays() throws Exception {
    RowSet<Row> inserted =
        await(
            pool.preparedQuery(
                    "INSERT INTO t_order (user_id, status) VALUES (?, 'gen'), (?, 'gen')")
                .execute(Tuple.of(2, 3)));
    List<Object> keys = inserted.property(ShardedPool.GENERATED_KEYS);
    assertThat(keys).hasSize(2);
    assertThat(inserted.rowCount()).isEqualTo(2);
    assertThat(inserted.property(MySQLClient.LAST_INSERTED_ID)).isEqualTo(keys.get(0));
    RowSet<Row> back =
        await(
            pool.preparedQuery("SELECT user_id FROM t_order WHERE order_id = ?")
                .execute(Tuple.of(keys.get(1))));
    assertThat(back.iterator().next().getInteger(0)).isEqualTo(3);
    await(pool.preparedQuery("DELETE FROM t_order WHERE status = ?").execute(Tuple.of("gen")));
  }

  @Test
  void resultsCompleteOnTheCallersContext() throws Exception {
    Context context = vertx.getOrCreateContext();
    List<Boolean> sameContext = new CopyOnWriteArrayList<>();
    Future<Void> done =
        Future.future(
            p ->
                context.runOnContext(
                    v ->
                        pool.query("SELECT * FROM t_order ORDER BY order_id LIMIT 3")
                            .execute()
                            .onComplete(
                                ar -> {
                                  sameContext.add(Vertx.currentContext() == context);
                                  p.complete();
                                })));
    await(done);
    assertThat(sameContext).containsExactly(true);
  }

  @Test
  void withConnectionsRunsUnitsOnTheProvidersClients() throws Exception {
    Map<String, SqlConnection> pinned = new java.util.concurrent.ConcurrentHashMap<>();
    List<String> asked = new CopyOnWriteArrayList<>();
    ShardConnectionProvider provider =
        ds -> {
          asked.add(ds);
          SqlConnection c = pinned.get(ds);
          return c != null
              ? Future.succeededFuture((SqlClient) c)
              : pool.pool(ds)
                  .getConnection()
                  .map(
                      conn -> {
                        pinned.put(ds, conn);
                        return (SqlClient) conn;
                      });
        };
    SqlClient routed = pool.withConnections(provider);
    assertThat(pool.dataSourcesFor("SELECT * FROM t_order WHERE user_id = ?", Tuple.of(4)))
        .containsExactly("ds_0");
    RowSet<Row> rows =
        await(
            routed
                .preparedQuery("SELECT order_id FROM t_order WHERE user_id = ? ORDER BY order_id")
                .execute(Tuple.of(4)));
    assertThat(rows.size()).isGreaterThan(0);
    assertThat(asked).containsOnly("ds_0");
    RowSet<Row> count = await(routed.query("SELECT COUNT(*) FROM t_order").execute());
    assertThat(count.iterator().next().getLong(0)).isGreaterThanOrEqualTo(40L);
    assertThat(new HashSet<>(asked)).containsExactlyInAnyOrder("ds_0", "ds_1");
    for (SqlConnection c : pinned.values()) {
      await(c.close());
    }
  }

  @Test
  void routingHintInTheTransactionContextOverridesTheSql() throws Exception {
    long expectedOnDs1 = 0;
    for (String table : List.of("t_order_0", "t_order_1")) {
      expectedOnDs1 +=
          databases.get(1).query("SELECT COUNT(*) AS c FROM " + table).get(0).getLong("c");
    }
    ScopeOptions forced =
        ScopeOptions.builder().routingHint(RoutingHint.forceDataSource("ds_1")).build();
    RowSet<Row> onDs1 =
        await(
            TxScope.run(vertx, forced, () -> pool.query("SELECT COUNT(*) FROM t_order").execute()));
    assertThat(onDs1.iterator().next().getLong(0)).isEqualTo(expectedOnDs1);
    long expectedNode =
        databases.get(1).query("SELECT COUNT(*) AS c FROM t_order_0").get(0).getLong("c");
    ScopeOptions values =
        ScopeOptions.builder()
            .routingHint(
                RoutingHint.builder()
                    .databaseValues("t_order", 3)
                    .tableValues("T_ORDER", 4)
                    .build())
            .build();
    RowSet<Row> onNode =
        await(
            TxScope.run(vertx, values, () -> pool.query("SELECT COUNT(*) FROM t_order").execute()));
    assertThat(onNode.iterator().next().getLong(0)).isEqualTo(expectedNode);
    RowSet<Row> outside = await(pool.query("SELECT COUNT(*) FROM t_order").execute());
    assertThat(outside.iterator().next().getLong(0)).isGreaterThan(expectedOnDs1);
  }

  @Test
  void statementsInsideAScopeFailAtItsDeadline() throws Exception {
    ScopeOptions shortDeadline = ScopeOptions.ofTimeout(java.time.Duration.ofMillis(200));
    long start = System.nanoTime();
    Future<RowSet<Row>> slow =
        TxScope.run(vertx, shortDeadline, () -> pool.query("SELECT SLEEP(2)").execute());
    assertThatThrownBy(() -> await(slow))
        .hasCauseInstanceOf(io.shardkit.context.ShardkitTimeoutException.class);
    assertThat(java.time.Duration.ofNanos(System.nanoTime() - start))
        .isLessThan(java.time.Duration.ofMillis(1500));
  }

  @Test
  void aStatementSpanParentsOneSpanPerShardExecutionWithTheGlobalId() throws Exception {
    List<io.opentelemetry.sdk.trace.data.SpanData> spans = new CopyOnWriteArrayList<>();
    io.opentelemetry.sdk.trace.export.SpanExporter collect =
        new io.opentelemetry.sdk.trace.export.SpanExporter() {
          @Override
          public io.opentelemetry.sdk.common.CompletableResultCode export(
              java.util.Collection<io.opentelemetry.sdk.trace.data.SpanData> batch) {
            spans.addAll(batch);
            return io.opentelemetry.sdk.common.CompletableResultCode.ofSuccess();
          }

          @Override
          public io.opentelemetry.sdk.common.CompletableResultCode flush() {
            return io.opentelemetry.sdk.common.CompletableResultCode.ofSuccess();
          }

          @Override
          public io.opentelemetry.sdk.common.CompletableResultCode shutdown() {
            return io.opentelemetry.sdk.common.CompletableResultCode.ofSuccess();
          }
        };
    io.opentelemetry.sdk.trace.SdkTracerProvider tracing =
        io.opentelemetry.sdk.trace.SdkTracerProvider.builder()
            .addSpanProcessor(io.opentelemetry.sdk.trace.export.SimpleSpanProcessor.create(collect))
            .build();
    ShardedPool traced =
        ShardedPool.builder(vertx)
            .nonAtomicMultiNodeWrites(true)
            .rules(rules)
            .dataSources(databases.dataSources("ds_"), new PoolOptions())
            .openTelemetry(
                io.opentelemetry.sdk.OpenTelemetrySdk.builder().setTracerProvider(tracing).build())
            .build();
    try {
      String globalId = io.shardkit.context.TxContext.newGlobalId();
      await(
          TxScope.run(
              vertx,
              ScopeOptions.builder().globalId(globalId).build(),
              () -> traced.query("SELECT COUNT(*) FROM t_order").execute()));
      assertThat(spans).hasSize(5);
      assertThat(spans)
          .allSatisfy(span -> assertThat(span.getAttributes().asMap().values()).contains(globalId));
      io.opentelemetry.sdk.trace.data.SpanData statement =
          spans.stream()
              .filter(span -> span.getKind() == io.opentelemetry.api.trace.SpanKind.INTERNAL)
              .findFirst()
              .orElseThrow();
      assertThat(statement.getName()).isEqualTo("SELECT t_order");
      assertThat(spans)
          .filteredOn(span -> span != statement)
          .allSatisfy(
              span -> {
                assertThat(span.getParentSpanId()).isEqualTo(statement.getSpanId());
                assertThat(span.getKind()).isEqualTo(io.opentelemetry.api.trace.SpanKind.CLIENT);
                assertThat(span.getName()).isEqualTo("SELECT t_order");
              })
          .extracting(
              span ->
                  span.getAttributes()
                      .get(io.opentelemetry.api.common.AttributeKey.stringKey("shardkit.shard")))
          .containsOnly("ds_0", "ds_1");
      spans.clear();
      await(traced.query("SELECT COUNT(*) FROM t_order").execute());
      assertThat(spans).as("outside a scope: same spans, no global id").hasSize(5);
      assertThat(spans)
          .noneSatisfy(
              span -> assertThat(span.getAttributes().asMap().values()).contains(globalId));
    } finally {
      await(traced.close());
      tracing.close();
    }
  }

  @Test
  void metersCountRoutesAndTimeUnitsPerDataSource() throws Exception {
    io.micrometer.core.instrument.simple.SimpleMeterRegistry registry =
        new io.micrometer.core.instrument.simple.SimpleMeterRegistry();
    ShardedPool metered =
        ShardedPool.builder(vertx)
            .nonAtomicMultiNodeWrites(true)
            .rules(rules)
            .dataSources(databases.dataSources("ds_"), new PoolOptions())
            .meterRegistry(registry)
            .build();
    try {
      await(metered.query("SELECT COUNT(*) FROM t_order").execute());
      await(metered.query("SELECT * FROM t_order WHERE user_id = 1 AND order_id = 1").execute());
      assertThatThrownBy(() -> await(metered.query("BEGIN").execute()));
      assertThat(
              registry
                  .get("shardkit.router.statements")
                  .tag("route", "scatter")
                  .tag("kind", "select")
                  .counter()
                  .count())
          .isEqualTo(1.0);
      assertThat(
              registry
                  .get("shardkit.router.statements")
                  .tag("route", "single")
                  .tag("kind", "select")
                  .counter()
                  .count())
          .isEqualTo(1.0);
      assertThat(
              registry.get("shardkit.router.statements").tag("route", "refused").counter().count())
          .isEqualTo(1.0);
      assertThat(
              registry
                  .get("shardkit.router.shard.statements")
                  .tag("shard", "ds_1")
                  .tag("outcome", "success")
                  .timer()
                  .count())
          .isEqualTo(3);
      assertThat(
              registry.get("shardkit.router.shard.statements").tag("shard", "ds_0").timer().count())
          .isEqualTo(2);
      assertThat(registry.get("shardkit.router.plans").gauge().value()).isEqualTo(3.0);
    } finally {
      await(metered.close());
    }
  }

  @Test
  void broadcastSingleAndBindingJoins() throws Exception {
    RowSet<Row> countries = await(pool.query("SELECT name FROM t_country ORDER BY code").execute());
    assertThat(rows(countries)).containsExactly("France", "Japan");
    for (int shard = 0; shard < 2; shard++) {
      assertThat(
              databases.get(shard).query("SELECT COUNT(*) AS c FROM t_country").get(0).getLong("c"))
          .isEqualTo(2L);
    }
    RowSet<Row> join =
        await(
            pool.query(
                    "SELECT o.order_id, SUM(i.qty) AS q FROM t_order o JOIN t_order_item i"
                        + " ON o.order_id = i.order_id AND o.user_id = i.user_id GROUP BY o.order_id ORDER BY o.order_id LIMIT 3")
                .execute());
    assertThat(rows(join)).containsExactly("1|3", "2|6", "3|9");
    RowSet<Row> single =
        await(pool.query("SELECT u.name FROM t_user u WHERE u.user_id = 2").execute());
    assertThat(rows(single)).containsExactly("bob");
  }
}
