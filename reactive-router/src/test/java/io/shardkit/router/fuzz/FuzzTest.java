package io.shardkit.router.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardkit.testkit.TestShards;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The generative differential fuzzer (module README, section "Fuzzing"): random schemas, data and
 * statements through {@code ShardedPool} and on one unsharded reference database, compared exactly.
 *
 * <p>{@link #fixedSeed()} is part of {@code mvn verify}: a fixed seed, 2,000 statements; it fails
 * on any mismatch and prints the minimal failing statement and its seed. {@link #longRun()} runs
 * only when {@code -Dfuzz.count} is set ({@code reactive-router/fuzz.sh --seed S --count N}).
 */
class FuzzTest {

  static final long SEED = 20261205L;
  static final int STATEMENTS = 1200;
  static final Path OUTPUT = Path.of("target", "fuzz");

  private static Vertx vertx;

  @BeforeAll
  static void setUp() {
    vertx =
        Vertx.vertx(
            new VertxOptions()
                .setMaxEventLoopExecuteTime(200)
                .setMaxEventLoopExecuteTimeUnit(TimeUnit.MILLISECONDS));
  }

  @AfterAll
  static void tearDown() {
    if (vertx != null) {
      vertx.close().toCompletionStage().toCompletableFuture().join();
    }
  }

  @Test
  void fixedSeed() {
    Assumptions.assumeTrue(System.getProperty("fuzz.count") == null, "long run requested instead");
    FuzzStats stats = run(FuzzConfig.defaults(SEED, STATEMENTS).withFindingsToShrink(5));
    assertThat(stats.statements()).isGreaterThanOrEqualTo(STATEMENTS);
    assertThat(stats.mismatchCount())
        .as(
            "mismatches of seed %d (minimal statements below; all in %s):%n%s",
            SEED,
            OUTPUT.resolve("findings-" + SEED + ".md").toAbsolutePath(),
            stats.findings().stream()
                .map(
                    f ->
                        f.signature()
                            + "\n    minimal: "
                            + f.minimal()
                            + "\n    "
                            + f.verdict().detail())
                .collect(Collectors.joining("\n")))
        .isZero();
  }

  @Test
  void longRun() {
    String count = System.getProperty("fuzz.count");
    Assumptions.assumeTrue(count != null, "set -Dfuzz.count (and -Dfuzz.seed) for a long run");
    long seed = Long.parseLong(System.getProperty("fuzz.seed", String.valueOf(SEED)));
    FuzzStats stats =
        run(
            FuzzConfig.defaults(seed, Integer.parseInt(count))
                .withGeneration(Integer.getInteger("fuzz.gen", 1)));
    assertThat(stats.statements()).isGreaterThanOrEqualTo(Integer.parseInt(count));
  }

  private static FuzzStats run(FuzzConfig config) {
    var shards = TestShards.get(config.servers()).shards().subList(0, config.servers());
    return new FuzzRun(config, shards, vertx, System.out).run(OUTPUT);
  }
}
