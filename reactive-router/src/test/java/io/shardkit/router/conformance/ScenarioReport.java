package io.shardkit.router.conformance;

import io.shardkit.router.conformance.Outcome.Status;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The result of one scenario: every runnable case's outcome, the cases skipped as not runnable, or
 * the setup error that kept the scenario from running.
 */
final class ScenarioReport {

  /** The share of runnable DQL cases that must pass. */
  static final double MIN_DQL_PASSED = 0.90;

  final String name;
  final String corpus;
  final String format;
  final List<Outcome> outcomes;
  final List<CorpusCase> notRunnable;
  final String setupError;
  final long millis;

  ScenarioReport(
      String name,
      String corpus,
      String format,
      List<Outcome> outcomes,
      List<CorpusCase> notRunnable,
      String setupError,
      long millis) {
    this.name = name;
    this.corpus = corpus;
    this.format = format;
    this.outcomes = List.copyOf(outcomes);
    this.notRunnable = List.copyOf(notRunnable);
    this.setupError = setupError;
    this.millis = millis;
  }

  long count(Status status) {
    return outcomes.stream().filter(o -> o.status() == status).count();
  }

  long dqlRunnable() {
    return outcomes.stream().filter(o -> o.kind().equals("dql")).count();
  }

  long dqlPassed() {
    return outcomes.stream()
        .filter(o -> o.kind().equals("dql") && o.status() == Status.PASSED)
        .count();
  }

  double dqlPassedShare() {
    return dqlRunnable() == 0 ? 1.0 : (double) dqlPassed() / dqlRunnable();
  }

  /** Why this scenario does not meet the bar; empty when it does. */
  List<String> problems() {
    List<String> out = new ArrayList<>();
    if (setupError != null) {
      out.add(name + ": setup failed: " + setupError);
      return out;
    }
    for (Outcome o : outcomes) {
      if (o.status() == Status.FAILED) {
        out.add(name + " " + o.id() + ": " + o.reason());
      }
    }
    if (dqlPassedShare() < MIN_DQL_PASSED) {
      out.add(
          String.format(
              Locale.ROOT,
              "%s: only %d of %d runnable DQL cases passed (%.1f%%, need %.0f%%)",
              name,
              dqlPassed(),
              dqlRunnable(),
              100 * dqlPassedShare(),
              100 * MIN_DQL_PASSED));
    }
    return out;
  }

  /** One line for the build log. */
  String line() {
    if (setupError != null) {
      return String.format("conformance %-32s SETUP FAILED: %s", name, setupError);
    }
    return String.format(
        Locale.ROOT,
        "conformance %-32s total %3d  passed %3d  refused %3d  failed %3d  | DQL %d/%d passed"
            + " (%.1f%%)  | not runnable %d  | %.1f s",
        name,
        outcomes.size(),
        count(Status.PASSED),
        count(Status.REFUSED),
        count(Status.FAILED),
        dqlPassed(),
        dqlRunnable(),
        100 * dqlPassedShare(),
        notRunnable.size(),
        millis / 1000.0);
  }

  JsonObject toJson() {
    JsonObject json =
        new JsonObject()
            .put("corpus", corpus)
            .put("rules_format", format)
            .put("total", outcomes.size())
            .put("passed", count(Status.PASSED))
            .put("refused", count(Status.REFUSED))
            .put("failed", count(Status.FAILED))
            .put(
                "dql",
                new JsonObject()
                    .put("runnable", dqlRunnable())
                    .put("passed", dqlPassed())
                    .put("passed_percent", Math.round(1000 * dqlPassedShare()) / 10.0))
            .put("not_runnable", notRunnable.size())
            .put("millis", millis);
    if (setupError != null) {
      json.put("setup_error", setupError);
    }
    JsonArray notes = new JsonArray();
    for (Outcome o : outcomes) {
      if (!o.referenceNote().isEmpty()) {
        notes.add(new JsonObject().put("id", o.id()).put("note", o.referenceNote()));
      }
    }
    json.put("reference_count_differs_from_corpus", notes);
    json.put("failed_cases", cases(Status.FAILED));
    json.put("refused_cases", cases(Status.REFUSED));
    JsonArray skipped = new JsonArray();
    for (CorpusCase c : notRunnable) {
      skipped.add(new JsonObject().put("id", c.id()).put("flags", new JsonArray(c.flags())));
    }
    json.put("not_runnable_cases", skipped);
    return json;
  }

  /** Every case with its outcome and what was compared, for analysis. */
  JsonArray details() {
    JsonArray out = new JsonArray();
    for (Outcome o : outcomes) {
      out.add(
          new JsonObject()
              .put("id", o.id())
              .put("kind", o.kind())
              .put("status", o.status().name().toLowerCase(Locale.ROOT))
              .put("reason", o.reason())
              .put("check", o.check())
              .put("reference_note", o.referenceNote())
              .put("millis", o.millis()));
    }
    return out;
  }

  private JsonArray cases(Status status) {
    JsonArray out = new JsonArray();
    for (Outcome o : outcomes) {
      if (o.status() == status) {
        out.add(new JsonObject().put("id", o.id()).put("kind", o.kind()).put("reason", o.reason()));
      }
    }
    return out;
  }
}
