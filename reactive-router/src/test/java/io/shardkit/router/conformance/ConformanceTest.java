package io.shardkit.router.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardkit.testkit.Shard;
import io.shardkit.testkit.TestShards;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Differential conformance: every runnable case of a corpus runs through {@code ShardedPool} over
 * the scenario's sharded layout and directly on an unsharded reference database, and the results
 * must agree (layout and how to run another corpus: module README, section "Conformance"). A case
 * passes, is refused (typed {@code UnsupportedSqlException} before any I/O) or fails; a scenario
 * fails its test when any case failed or fewer than 90% of its runnable DQL cases passed.
 *
 * <p>{@code target/conformance/summary.json} gets one entry per scenario; one line per scenario is
 * printed. The corpus is {@code -Dshardkit.conformance.dir}, {@code SHARDKIT_CONFORMANCE_DIR} or
 * the shared ShardingSphere-derived corpus next to the repository; when it is absent the test is
 * skipped. The bundled sample corpus (rules in shardkit's own format) always runs.
 */
class ConformanceTest {

  static final int SHARDS = 2;
  static final String SAMPLE = "conformance/sample";

  private static final Map<String, JsonObject> SUMMARY = new LinkedHashMap<>();
  private static final Map<String, String> LINES = new LinkedHashMap<>();
  private static Vertx vertx;
  private static List<Shard> shards;

  @BeforeAll
  static void setUp() {
    vertx =
        Vertx.vertx(
            new VertxOptions()
                .setMaxEventLoopExecuteTime(200)
                .setMaxEventLoopExecuteTimeUnit(TimeUnit.MILLISECONDS));
    shards = TestShards.get(SHARDS).shards().subList(0, SHARDS);
  }

  @AfterAll
  static void tearDown() {
    if (vertx != null) {
      vertx.close().toCompletionStage().toCompletableFuture().join();
    }
  }

  @TestFactory
  Stream<DynamicTest> corpus() {
    CorpusLocator.Located corpus = CorpusLocator.locate();
    if (!corpus.exists()) {
      // a skipped test (not an aborted factory) so that the reason shows in the reports
      return Stream.of(
          DynamicTest.dynamicTest(
              "corpus not found",
              () ->
                  Assumptions.abort(
                      "conformance corpus not found ("
                          + corpus.source()
                          + "; looked at "
                          + corpus.tried()
                          + "): skipped. Point -D"
                          + CorpusLocator.PROPERTY
                          + "=DIR or "
                          + CorpusLocator.ENV
                          + "=DIR at a corpus folder to run it.")));
    }
    return scenarios(corpus.path());
  }

  @TestFactory
  Stream<DynamicTest> bundledSampleInShardkitFormat() {
    URL url = ConformanceTest.class.getClassLoader().getResource(SAMPLE);
    assertThat(url).as("test resource " + SAMPLE).isNotNull();
    try {
      return scenarios(Path.of(url.toURI()));
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  private static Stream<DynamicTest> scenarios(Path corpus) {
    List<Path> dirs = Scenario.scenarioDirs(corpus);
    assertThat(dirs)
        .as("scenario folders (with rules.json and cases.json) in " + corpus)
        .isNotEmpty();
    return dirs.stream()
        .map(
            dir ->
                DynamicTest.dynamicTest(
                    dir.getFileName().toString(),
                    () -> {
                      ScenarioReport report =
                          ScenarioRunner.run(dir, corpus.toString(), shards, vertx);
                      System.out.println(report.line());
                      record(report);
                      List<String> problems = report.problems();
                      assertThat(problems)
                          .as(
                              "conformance problems of "
                                  + report.name
                                  + " (details in "
                                  + summaryFile()
                                  + ")")
                          .isEmpty();
                    }));
  }

  private static synchronized void record(ScenarioReport report) {
    String key = report.name;
    if (SUMMARY.containsKey(key) && !SUMMARY.get(key).getString("corpus").equals(report.corpus)) {
      key = report.corpus + "/" + report.name;
    }
    SUMMARY.put(key, report.toJson());
    LINES.put(key, report.line());
    JsonObject scenarios = new JsonObject();
    SUMMARY.forEach(scenarios::put);
    JsonObject summary =
        new JsonObject()
            .put("generated", Instant.now().toString())
            .put("rule", "failed must be 0; passed >= 90% of runnable DQL")
            .put("scenarios", scenarios);
    Path file = summaryFile();
    Path details = file.resolveSibling(key.replaceAll("[^A-Za-z0-9_.-]", "_") + ".cases.json");
    try {
      Files.createDirectories(file.getParent());
      Files.writeString(file, summary.encodePrettily() + "\n", StandardCharsets.UTF_8);
      Files.writeString(details, report.details().encodePrettily() + "\n", StandardCharsets.UTF_8);
      Files.writeString(
          file.resolveSibling("summary.txt"),
          String.join("\n", LINES.values()) + "\n",
          StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    }
  }

  static Path summaryFile() {
    return CorpusLocator.moduleDir()
        .resolve("target")
        .resolve("conformance")
        .resolve("summary.json");
  }
}
