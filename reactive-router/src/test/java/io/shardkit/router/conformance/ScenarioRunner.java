package io.shardkit.router.conformance;

import io.shardkit.router.ShardedPool;
import io.shardkit.testkit.Shard;
import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** Loads one scenario onto the shards, runs its runnable cases (DQL first) and reports. */
final class ScenarioRunner {

  private ScenarioRunner() {}

  static ScenarioReport run(Path dir, String corpus, List<Shard> shards, Vertx vertx) {
    long start = System.nanoTime();
    String name = dir.getFileName().toString();
    Scenario scenario;
    RuleTranslation translation;
    try {
      scenario = Scenario.load(dir);
      translation = RuleTranslation.of(scenario);
    } catch (RuntimeException e) {
      return failedSetup(name, corpus, "?", e, start);
    }
    List<CorpusCase> runnable = new ArrayList<>();
    List<CorpusCase> notRunnable = new ArrayList<>();
    for (CorpusCase c : scenario.cases()) {
      (c.runnable() ? runnable : notRunnable).add(c);
    }
    runnable.sort(Comparator.comparing(CorpusCase::isDml));
    ScenarioDatabases dbs;
    try {
      dbs = ScenarioDatabases.create(scenario, translation, shards, vertx);
    } catch (RuntimeException e) {
      return failedSetup(name, corpus, translation.format(), e, start);
    }
    List<Outcome> outcomes = new ArrayList<>();
    try (dbs) {
      ShardedPool router = dbs.router();
      try {
        CaseRunner runner = new CaseRunner(dbs, router, vertx);
        for (CorpusCase c : runnable) {
          outcomes.add(runner.run(c));
        }
      } finally {
        router.close();
      }
    }
    return new ScenarioReport(
        name,
        corpus,
        translation.format(),
        outcomes,
        notRunnable,
        null,
        (System.nanoTime() - start) / 1_000_000);
  }

  private static ScenarioReport failedSetup(
      String name, String corpus, String format, RuntimeException e, long start) {
    return new ScenarioReport(
        name,
        corpus,
        format,
        List.of(),
        List.of(),
        CaseRunner.describe(e),
        (System.nanoTime() - start) / 1_000_000);
  }
}
