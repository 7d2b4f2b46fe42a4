package io.shardkit.router.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardkit.context.RoutingHint;
import io.shardkit.context.ScopeOptions;
import io.shardkit.context.TxScope;
import io.shardkit.router.DataNode;
import io.shardkit.router.ReadWriteSplittingOptions;
import io.shardkit.router.ReplicaStatus;
import io.shardkit.router.ShardedPool;
import io.shardkit.router.TableRule;
import io.shardkit.testkit.Replica;
import io.shardkit.testkit.ReplicatedShards;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * ShardingSphere's {@code dbtbl_with_readwrite_splitting} scenario on real replication: every data
 * source's database lives on one primary server that a replica server follows; the replica's
 * physical tables are then given the corpus's read-side rows ({@code
 * actual_data_read_replica.json}, where {@code t_order.status} is {@code init_read}), as in
 * ShardingSphere's own e2e environment. The router gets the replica of each data source. DQL cases
 * are compared with a reference loaded with the read-side rows, so a case that passes read the
 * replica's data; DML cases run against the primaries and are compared with the write-side
 * reference, as in {@link ConformanceTest}.
 */
class ReadReplicaConformanceTest {

  static final String SCENARIO = "dbtbl_with_readwrite_splitting";
  static final String READ_SIDE = "actual_data_read_replica.json";

  @Test
  void readsComeFromTheReplicaAndWritesFromThePrimary() throws Exception {
    CorpusLocator.Located corpus = CorpusLocator.locate();
    Path dir = corpus.path() == null ? null : corpus.path().resolve(SCENARIO);
    Assumptions.assumeTrue(
        dir != null && Files.isRegularFile(dir.resolve(READ_SIDE)),
        "corpus scenario " + SCENARIO + " with " + READ_SIDE + " not found: skipped");
    Scenario scenario = Scenario.load(dir);
    RuleTranslation translation = RuleTranslation.of(scenario);
    JsonObject readSide =
        new JsonObject(Files.readString(dir.resolve(READ_SIDE), StandardCharsets.UTF_8));
    Map<String, String> writeDbOfReadDb = new LinkedHashMap<>();
    JsonObject sources = scenario.rules().getJsonObject("data_sources");
    for (String name : sources.fieldNames()) {
      JsonObject s = sources.getJsonObject(name);
      writeDbOfReadDb.put(s.getString("read_replica_database"), s.getString("database"));
    }

    Vertx vertx = Vertx.vertx();
    long start = System.nanoTime();
    try (ReplicatedShards servers = ReplicatedShards.start(1)) {
      Replica replica = servers.replica(0);
      ScenarioDatabases dbs =
          ScenarioDatabases.create(scenario, translation, List.of(servers.primary()), vertx);
      try (dbs) {
        servers.awaitCaughtUp(Duration.ofSeconds(60));
        // the replica's rows differ from the primary's by design: row events that no longer
        // find their row there (the DML cases' writes) are applied idempotently, not fatally
        replica.stopApplying();
        replica.execute(null, "SET GLOBAL slave_exec_mode = 'IDEMPOTENT'");
        replica.startApplying();
        Map<DataNode, List<JsonObject>> readRows = new LinkedHashMap<>();
        for (String key : readSide.fieldNames()) {
          int dot = key.indexOf('.');
          String ds = dbs.dataSourceOfDatabase(writeDbOfReadDb.get(key.substring(0, dot)));
          assertThat(ds).as("data source of " + key).isNotNull();
          String table = key.substring(dot + 1);
          List<JsonObject> rows = SqlScripts.rows(readSide.getJsonArray(key), key);
          readRows.put(new DataNode(ds, table.toLowerCase(java.util.Locale.ROOT)), rows);
          List<String> statements = new ArrayList<>();
          statements.add("DELETE FROM `" + table + "`");
          statements.addAll(SqlScripts.insertStatements(table, rows));
          replica.execute(
              dbs.physicalDatabases().get(ds).database(), statements.toArray(String[]::new));
        }
        // the reference for reads: the logical tables as the replicas hold them
        Map<String, JsonArray> readReference = new LinkedHashMap<>();
        for (TableRule rule : translation.rules().tableRules().values()) {
          JsonArray union = new JsonArray();
          for (DataNode node : rule.dataNodes()) {
            readRows.getOrDefault(node, List.of()).forEach(union::add);
          }
          JsonArray written = scenario.data().getJsonArray(rule.logicalTable());
          if (written != null && !canonical(union).equals(canonical(written))) {
            readReference.put(rule.logicalTable(), union);
          }
        }
        assertThat(readReference).as("tables whose replica rows differ").containsKey("t_order");
        readReference.forEach(dbs::replaceReferenceRows);

        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        ShardedPool router =
            dbs.router(
                b -> {
                  dbs.physicalDatabases()
                      .forEach(
                          (ds, db) ->
                              b.replica(
                                  ds,
                                  ds + "_replica",
                                  replica.connectOptions(db.database()),
                                  new PoolOptions().setMaxSize(2)));
                  b.readWriteSplitting(
                          ReadWriteSplittingOptions.defaults()
                              .withHeartbeatInterval(Duration.ofMillis(100))
                              .withMaxReplicationLag(Duration.ofSeconds(5)))
                      .meterRegistry(meters);
                });
        List<Outcome> outcomes = new ArrayList<>();
        List<CorpusCase> notRunnable = new ArrayList<>();
        try {
          awaitHealthy(router);
          // reads see the replica's rows; the hint forces the primary's
          assertThat(statuses(vertx, router, "SELECT DISTINCT status FROM t_order", false))
              .containsExactly("init_read");
          assertThat(statuses(vertx, router, "SELECT DISTINCT status FROM t_order", true))
              .containsExactly("init");
          CaseRunner runner = new CaseRunner(dbs, router, vertx);
          List<CorpusCase> dml = new ArrayList<>();
          for (CorpusCase c : scenario.cases()) {
            if (!c.runnable()) {
              notRunnable.add(c);
            } else if (c.isDml() || c.flags().contains("locking_read")) {
              // locking reads (FOR UPDATE) are the primary's, like writes
              dml.add(c);
            } else {
              outcomes.add(runner.run(c));
            }
          }
          // writes and locking reads: on the primaries, compared with the write-side reference
          readReference
              .keySet()
              .forEach(t -> dbs.replaceReferenceRows(t, scenario.data().getJsonArray(t)));
          dml.sort(Comparator.comparing(CorpusCase::id));
          for (CorpusCase c : dml) {
            outcomes.add(runner.run(c));
          }
          double replicaReads =
              meters.find("shardkit.router.replica.reads").counters().stream()
                  .filter(m -> !"primary".equals(m.getId().getTag("replica")))
                  .mapToDouble(m -> m.count())
                  .sum();
          assertThat(replicaReads).as("reads served by the replicas").isGreaterThan(100);
        } finally {
          ScenarioDatabases.await(router.close(), "closing the router");
        }
        ScenarioReport report =
            new ScenarioReport(
                SCENARIO + "+replicas",
                corpus.source(),
                translation.format(),
                outcomes,
                notRunnable,
                null,
                (System.nanoTime() - start) / 1_000_000);
        System.out.println(report.line());
        assertThat(report.problems()).isEmpty();
        assertThat(report.dqlPassed()).isGreaterThan(90);
      }
    } finally {
      ScenarioDatabases.await(vertx.close(), "closing vertx");
    }
  }

  private static List<String> canonical(JsonArray rows) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < rows.size(); i++) {
      JsonObject row = rows.getJsonObject(i);
      JsonObject sorted = new JsonObject();
      new TreeSet<>(row.fieldNames()).forEach(f -> sorted.put(f, row.getValue(f)));
      out.add(sorted.encode());
    }
    out.sort(null);
    return out;
  }

  private static List<String> statuses(
      Vertx vertx, ShardedPool router, String sql, boolean primary) {
    RowSet<Row> rows =
        ScenarioDatabases.await(
            primary
                ? TxScope.run(
                    vertx,
                    ScopeOptions.builder().routingHint(RoutingHint.primary()).build(),
                    () -> router.query(sql).execute())
                : router.query(sql).execute(),
            sql);
    List<String> out = new ArrayList<>();
    rows.forEach(r -> out.add(r.getString(0)));
    return out;
  }

  private static void awaitHealthy(ShardedPool router) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    List<ReplicaStatus> now = router.replicaStatus();
    while (System.nanoTime() < deadline) {
      now = router.replicaStatus();
      if (!now.isEmpty() && now.stream().allMatch(ReplicaStatus::healthy)) {
        return;
      }
      Thread.sleep(50);
    }
    throw new AssertionError("replicas not healthy: " + now);
  }
}
