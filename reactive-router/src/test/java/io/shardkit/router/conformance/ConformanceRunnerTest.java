package io.shardkit.router.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardkit.router.DataNode;
import io.shardkit.router.ShardedPool;
import io.shardkit.router.conformance.Outcome.Status;
import io.shardkit.testkit.ShardDatabase;
import io.shardkit.testkit.TestShards;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.PoolOptions;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The runner itself must be able to fail: on the bundled sample scenario, a physical row that
 * differs from the reference, a router that reads and writes the wrong shard, and a refusal are
 * each classified as they should be.
 */
class ConformanceRunnerTest {

  static Vertx vertx;
  static Scenario scenario;
  static RuleTranslation translation;
  static ScenarioDatabases dbs;

  @BeforeAll
  static void setUp() throws URISyntaxException {
    vertx = Vertx.vertx();
    Path dir =
        Path.of(
            Objects.requireNonNull(
                    ConformanceRunnerTest.class
                        .getClassLoader()
                        .getResource(ConformanceTest.SAMPLE + "/shardkit_sample"))
                .toURI());
    scenario = Scenario.load(dir);
    translation = RuleTranslation.of(scenario);
    dbs =
        ScenarioDatabases.create(
            scenario, translation, TestShards.get(2).shards().subList(0, 2), vertx);
  }

  @AfterAll
  static void tearDown() {
    if (dbs != null) {
      dbs.close();
    }
    vertx.close().toCompletionStage().toCompletableFuture().join();
  }

  static CorpusCase sampleCase(String id) {
    return scenario.cases().stream().filter(c -> c.id().equals(id)).findFirst().orElseThrow();
  }

  static Outcome run(ShardedPool router, String caseId) {
    try {
      return new CaseRunner(dbs, router, vertx).run(sampleCase(caseId));
    } finally {
      router.close();
    }
  }

  @Test
  void aPhysicalRowThatDiffersFromTheReferenceFailsTheCaseAndPassesOnceRestored() {
    CorpusCase point = sampleCase("point#1");
    Object userId = point.params().get(0);
    Object accountId = point.params().get(1);
    DataNode node =
        translation
            .rules()
            .nodeFor("t_account", Map.of("user_id", userId, "account_id", accountId));
    ShardDatabase db = dbs.physicalDatabases().get(node.dataSource());
    db.execute(
        "UPDATE `" + node.table() + "` SET balance = balance + 1 WHERE account_id = " + accountId);
    Outcome actualCorrupted;
    try {
      actualCorrupted = run(dbs.router(), "point#1");
    } finally {
      dbs.restore(node);
    }
    Outcome actualRestored = run(dbs.router(), "point#1");

    assertThat(actualCorrupted.status()).isEqualTo(Status.FAILED);
    assertThat(actualCorrupted.reason()).contains("missing row");
    assertThat(actualRestored.status()).isEqualTo(Status.PASSED);
  }

  @Test
  void aRouterOnSwappedShardsFailsReadsAndWritesAndItsWritesAreUndone() {
    Map<String, ShardDatabase> physical = dbs.physicalDatabases();
    PoolOptions pool = new PoolOptions().setMaxSize(2);

    Outcome actualRead =
        run(
            ShardedPool.builder(vertx)
                .nonAtomicMultiNodeWrites(true)
                .rules(translation.rules())
                .dataSource("ds_0", physical.get("ds_1").connectOptions(), pool)
                .dataSource("ds_1", physical.get("ds_0").connectOptions(), pool)
                .build(),
            "point#1");
    Outcome actualWrite =
        run(
            ShardedPool.builder(vertx)
                .nonAtomicMultiNodeWrites(true)
                .rules(translation.rules())
                .dataSource("ds_0", physical.get("ds_1").connectOptions(), pool)
                .dataSource("ds_1", physical.get("ds_0").connectOptions(), pool)
                .build(),
            "insert#1");
    Outcome actualAfterwards = run(dbs.router(), "in#1");

    assertThat(actualRead.status()).isEqualTo(Status.FAILED);
    assertThat(actualWrite.status()).isEqualTo(Status.FAILED);
    assertThat(actualWrite.reason()).contains("misplaced row");
    assertThat(actualAfterwards.status())
        .as("the misplaced insert was undone")
        .isEqualTo(Status.PASSED);
  }

  @Test
  void aTypedRefusalIsRefusedNotFailed() {
    Outcome actual = run(dbs.router(), "sharded-with-single#1");

    assertThat(actual.status()).isEqualTo(Status.REFUSED);
    assertThat(actual.reason()).contains("t_branch");
  }
}
