package io.shardkit.tx.check;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** What a check run compared and found: anomalies, counts, and what it could not check. */
public final class CheckReport {

  private final Instant started = Instant.now();
  private final long startNanos = System.nanoTime();
  private final int maxAnomalies;
  private final List<Anomaly> anomalies = new ArrayList<>();
  private final Map<Anomaly.Kind, Integer> byKind = new EnumMap<>(Anomaly.Kind.class);
  private final Map<String, Long> counts = new LinkedHashMap<>();
  private final List<String> notes = new ArrayList<>();
  private long millis = -1;

  CheckReport(int maxAnomalies) {
    this.maxAnomalies = maxAnomalies;
  }

  synchronized void add(Anomaly anomaly) {
    byKind.merge(anomaly.kind(), 1, Integer::sum);
    if (anomalies.size() < maxAnomalies) {
      anomalies.add(anomaly);
    }
  }

  synchronized void count(String what, long n) {
    counts.merge(what, n, Long::sum);
  }

  synchronized void note(String note) {
    if (!notes.contains(note)) {
      notes.add(note);
    }
  }

  synchronized CheckReport finish() {
    millis = (System.nanoTime() - startNanos) / 1_000_000;
    return this;
  }

  /** The anomalies kept (at most {@code maxAnomalies} of {@link #anomalyCount()}). */
  public synchronized List<Anomaly> anomalies() {
    return List.copyOf(anomalies);
  }

  /** How many anomalies were found in all. */
  public synchronized int anomalyCount() {
    return byKind.values().stream().mapToInt(Integer::intValue).sum();
  }

  /** Whether nothing was found wrong. */
  public boolean consistent() {
    return anomalyCount() == 0;
  }

  /** What was compared: rows, chunks, tables, transactions, branches, binlog events... */
  public synchronized Map<String, Long> counts() {
    return Collections.unmodifiableMap(new LinkedHashMap<>(counts));
  }

  /** What could not be checked, and why (e.g. a shard without a binary log). */
  public synchronized List<String> notes() {
    return List.copyOf(notes);
  }

  public synchronized long durationMillis() {
    return millis;
  }

  public synchronized JsonObject toJson() {
    JsonObject kinds = new JsonObject();
    byKind.forEach((k, n) -> kinds.put(k.name(), n));
    JsonArray list = new JsonArray();
    anomalies.forEach(a -> list.add(a.toJson()));
    JsonObject c = new JsonObject();
    counts.forEach(c::put);
    return new JsonObject()
        .put("started", started.toString())
        .put("durationMs", millis)
        .put("consistent", anomalyCount() == 0)
        .put("anomalyCount", anomalyCount())
        .put("anomaliesByKind", kinds)
        .put("anomalies", list)
        .put("counts", c)
        .put("notes", new JsonArray(new ArrayList<>(notes)));
  }

  /** A readable summary: verdict, counts, anomalies, notes. */
  public synchronized String summary() {
    StringBuilder s = new StringBuilder();
    s.append(anomalyCount() == 0 ? "CONSISTENT" : "INCONSISTENT: " + anomalyCount() + " anomalies")
        .append(" (")
        .append(millis)
        .append(" ms)\n");
    counts.forEach((k, v) -> s.append("  ").append(k).append(": ").append(v).append('\n'));
    for (Anomaly a : anomalies) {
      s.append("  ! ").append(a).append('\n');
    }
    if (anomalyCount() > anomalies.size()) {
      s.append("  ... and ").append(anomalyCount() - anomalies.size()).append(" more\n");
    }
    for (String n : notes) {
      s.append("  note: ").append(n).append('\n');
    }
    return s.toString();
  }
}
