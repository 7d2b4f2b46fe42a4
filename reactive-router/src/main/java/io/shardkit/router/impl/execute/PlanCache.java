package io.shardkit.router.impl.execute;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.shardkit.router.UnsupportedSqlException;
import io.shardkit.router.impl.parse.Placeholders;
import io.shardkit.router.impl.route.Plan;
import io.shardkit.router.impl.route.Planner;
import java.util.concurrent.atomic.LongAdder;

/**
 * Plans by SQL text, at most {@code capacity} of them. Refusals are cached too, so a refused
 * statement is not parsed again either.
 *
 * <p>Why Caffeine: every statement of every event loop looks its plan up here. The former {@code
 * synchronized} LRU map serialised those lookups (an access-ordered map writes on every read), and
 * LRU misses every lookup of an application that cycles through one statement more than the bound.
 * Caffeine's reads take no lock and its W-TinyLFU policy keeps the frequently used plans instead of
 * the most recent ones. Maintenance (eviction) runs on the calling thread ({@code Runnable::run}),
 * never on the common fork-join pool. A miss parses outside the cache (not in {@code get(key, fn)},
 * whose computation would hold a lock other event loops may wait on): two threads may parse the
 * same new text once each, which is harmless.
 */
final class PlanCache {

  /**
   * What the cache holds for one SQL text: its plan and the number of {@code ?} placeholders
   * executions must bind, or the refusal.
   */
  record Entry(Plan plan, int parameters, UnsupportedSqlException refusal) {

    /** The plan; throws the cached refusal. */
    Plan planOrThrow() {
      if (refusal != null) {
        throw refusal;
      }
      return plan;
    }
  }

  private final Planner planner;
  private final Cache<String, Entry> entries;
  private final LongAdder hits = new LongAdder();
  private final LongAdder misses = new LongAdder();

  PlanCache(Planner planner, int capacity) {
    this.planner = planner;
    this.entries = Caffeine.newBuilder().maximumSize(capacity).executor(Runnable::run).build();
  }

  /** The plan of a SQL text, parsed on first sight; throws the (cached) refusal. */
  Plan plan(String sql) {
    return entry(sql).planOrThrow();
  }

  /** The entry of a SQL text, parsed on first sight; a refusal is returned, not thrown. */
  Entry entry(String sql) {
    Entry entry = entries.getIfPresent(sql);
    if (entry != null) {
      hits.increment();
      return entry;
    }
    misses.increment();
    try {
      Plan plan = planner.plan(sql);
      // The planner checked that the parsed statement prints back exactly as many ? as this scan
      // of the text counts, so this is the number of JdbcParameters of the parsed statement.
      entry = new Entry(plan, Placeholders.count(sql), null);
    } catch (UnsupportedSqlException e) {
      entry = new Entry(null, -1, e);
    }
    entries.put(sql, entry);
    return entry;
  }

  /** Forgets every plan (the schema the plans were made with changed). */
  void clear() {
    entries.invalidateAll();
  }

  /** Lookups answered from the cache. */
  long hits() {
    return hits.sum();
  }

  /** Lookups that parsed the text. */
  long misses() {
    return misses.sum();
  }

  /** Plans (and refusals) held now; Caffeine's estimate, exact once maintenance has run. */
  int size() {
    return (int) entries.estimatedSize();
  }
}
