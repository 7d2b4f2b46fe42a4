package io.shardkit.router.fuzz;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Counts of a run: matches, refusals by reason, mismatches by class, and the findings. */
final class FuzzStats {

  private int statements;
  private int queries;
  private int matches;
  private int bothFailed;
  private int contradicted;
  private int partialWrites;
  private final Map<String, Integer> refused = new TreeMap<>();
  private final Map<String, Integer> mismatches = new TreeMap<>();
  private final List<Finding> findings = new ArrayList<>();
  private final Map<String, String> firstUnshrunk = new TreeMap<>();

  void record(FuzzStatement statement, Verdict verdict) {
    statements++;
    if (statement.isQuery()) {
      queries++;
    }
    switch (verdict.status()) {
      case MATCH -> {
        matches++;
        bothFailed += verdict == Verdict.BOTH_FAILED ? 1 : 0;
        contradicted += verdict == Verdict.REFERENCE_CONTRADICTED ? 1 : 0;
      }
      case PARTIAL_WRITE -> {
        partialWrites++;
        firstUnshrunk.putIfAbsent(
            "partial write: " + verdict.category(),
            statement.describe() + "\n  " + verdict.detail());
      }
      case REFUSED -> {
        refused.merge(verdict.category(), 1, Integer::sum);
        firstUnshrunk.putIfAbsent("refused: " + verdict.category(), statement.describe());
      }
      case MISMATCH -> {
        mismatches.merge(verdict.category(), 1, Integer::sum);
        firstUnshrunk.putIfAbsent(
            verdict.category(), statement.describe() + "\n  " + verdict.detail());
      }
    }
  }

  void add(Finding finding) {
    findings.add(finding);
  }

  boolean known(String signature) {
    return findings.stream().anyMatch(f -> f.signature().equals(signature));
  }

  int statements() {
    return statements;
  }

  int mismatchCount() {
    return mismatches.values().stream().mapToInt(Integer::intValue).sum();
  }

  int refusedCount() {
    return refused.values().stream().mapToInt(Integer::intValue).sum();
  }

  List<Finding> findings() {
    return findings;
  }

  String text(long seed, long millis) {
    StringBuilder out = new StringBuilder();
    out.append(
        String.format(
            "fuzz seed %d: %d statements (%d queries, %d writes) in %.1f s: %d match (%d of them"
                + " errors on both sides, %d against a reference that contradicted itself), %d"
                + " refused, %d mismatch, %d partial non-atomic writes%n",
            seed,
            statements,
            queries,
            statements - queries,
            millis / 1000.0,
            matches,
            bothFailed,
            contradicted,
            refusedCount(),
            mismatchCount(),
            partialWrites));
    out.append("refused by reason:\n");
    refused.forEach((k, v) -> out.append(String.format("  %6d  %s%n", v, k)));
    out.append("mismatch by class:\n");
    mismatches.forEach((k, v) -> out.append(String.format("  %6d  %s%n", v, k)));
    return out.toString();
  }

  JsonObject toJson(long seed, long millis) {
    JsonObject refusedJson = new JsonObject();
    refused.forEach(refusedJson::put);
    JsonObject mismatchJson = new JsonObject();
    mismatches.forEach(mismatchJson::put);
    JsonObject examples = new JsonObject();
    firstUnshrunk.forEach(examples::put);
    JsonArray findingsJson = new JsonArray();
    findings.forEach(f -> findingsJson.add(f.toJson()));
    return new JsonObject()
        .put("seed", seed)
        .put("statements", statements)
        .put("queries", queries)
        .put("writes", statements - queries)
        .put("millis", millis)
        .put("match", matches)
        .put("matchBothFailed", bothFailed)
        .put("matchReferenceContradicted", contradicted)
        .put("refused", refusedCount())
        .put("mismatch", mismatchCount())
        .put("partialNonAtomicWrites", partialWrites)
        .put("refusedByReason", refusedJson)
        .put("mismatchByClass", mismatchJson)
        .put("findings", findingsJson)
        .put("firstExamples", examples);
  }
}
