package io.shardkit.router.impl.execute;

import io.shardkit.router.UnsupportedSqlException;
import io.shardkit.router.impl.route.Plan;
import io.shardkit.router.impl.route.Planner;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Plans by SQL text, least recently used evicted beyond the bound. Refusals are cached too, so a
 * refused statement is not parsed again either. The lock guards only map operations (no I/O);
 * parsing happens outside it (two threads may parse the same new text once each).
 */
final class PlanCache {

  private final Planner planner;
  private final Map<String, Object> entries;
  private final java.util.concurrent.atomic.LongAdder hits =
      new java.util.concurrent.atomic.LongAdder();
  private final java.util.concurrent.atomic.LongAdder misses =
      new java.util.concurrent.atomic.LongAdder();

  PlanCache(Planner planner, int capacity) {
    this.planner = planner;
    this.entries =
        new LinkedHashMap<>(Math.min(capacity, 1024), 0.75f, true) {
          private static final long serialVersionUID = 1L;

          @Override
          protected boolean removeEldestEntry(Map.Entry<String, Object> eldest) {
            return size() > capacity;
          }
        };
  }

  /** The plan of a SQL text, parsed on first sight; throws the (cached) refusal. */
  Plan plan(String sql) {
    Object entry;
    synchronized (entries) {
      entry = entries.get(sql);
    }
    if (entry == null) {
      misses.increment();
      try {
        entry = planner.plan(sql);
      } catch (UnsupportedSqlException e) {
        entry = e;
      }
      synchronized (entries) {
        entries.put(sql, entry);
      }
    } else {
      hits.increment();
    }
    if (entry instanceof UnsupportedSqlException e) {
      throw e;
    }
    return (Plan) entry;
  }

  /** Forgets every plan (the schema the plans were made with changed). */
  void clear() {
    synchronized (entries) {
      entries.clear();
    }
  }

  /** Lookups answered from the cache. */
  long hits() {
    return hits.sum();
  }

  /** Lookups that parsed the text. */
  long misses() {
    return misses.sum();
  }

  int size() {
    synchronized (entries) {
      return entries.size();
    }
  }
}
