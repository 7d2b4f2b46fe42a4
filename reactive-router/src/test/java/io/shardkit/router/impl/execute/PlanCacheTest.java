package io.shardkit.router.impl.execute;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardkit.router.UnsupportedSqlException;
import io.shardkit.router.impl.Fixtures;
import io.shardkit.router.impl.route.Planner;
import org.junit.jupiter.api.Test;

/** The plan cache: bounded, refusals cached, counts kept, and its meters read it. */
class PlanCacheTest {

  static final String POINT = "SELECT * FROM t_order WHERE user_id = ? AND order_id = ?";

  @Test
  void aPlanIsParsedOnceAndKeepsItsPlaceholderCount() {
    PlanCache cache = new PlanCache(Planner.of(Fixtures.rules()), 16);

    PlanCache.Entry first = cache.entry(POINT);
    PlanCache.Entry second = cache.entry(POINT);

    assertThat(second).isSameAs(first);
    assertThat(first.parameters()).isEqualTo(2);
    assertThat(cache.entry("SELECT * FROM t_order WHERE status = '?' LIMIT ?").parameters())
        .isEqualTo(1);
    assertThat(cache.hits()).isEqualTo(1);
    assertThat(cache.misses()).isEqualTo(2);
  }

  @Test
  void refusalsAreCachedAndThrownOnEachLookup() {
    PlanCache cache = new PlanCache(Planner.of(Fixtures.rules()), 16);
    String refused = "SELECT * FORM t_order WHERE user_id = 1";

    assertThatThrownBy(() -> cache.plan(refused)).isInstanceOf(UnsupportedSqlException.class);
    assertThatThrownBy(() -> cache.plan(refused)).isInstanceOf(UnsupportedSqlException.class);

    assertThat(cache.misses()).isEqualTo(1);
    assertThat(cache.hits()).isEqualTo(1);
  }

  @Test
  void theBoundHoldsAndACycleOneLongerThanTheBoundStillHits() {
    int capacity = 256;
    PlanCache cache = new PlanCache(Planner.of(Fixtures.rules()), capacity);
    String[] cycle = new String[capacity + 1];
    for (int i = 0; i < cycle.length; i++) {
      cycle[i] = POINT + " AND status <> 'c" + i + "'";
    }
    for (String sql : cycle) {
      cache.plan(sql); // first sight of every text
    }
    long hitsBefore = cache.hits();
    for (int round = 0; round < 5; round++) {
      for (String sql : cycle) {
        cache.plan(sql);
      }
    }
    double actualHitRate = (double) (cache.hits() - hitsBefore) / (5L * cycle.length);

    assertThat(cache.size()).isLessThanOrEqualTo(capacity);
    // an LRU of this bound misses every lookup of such a cycle; W-TinyLFU keeps most plans
    assertThat(actualHitRate).isGreaterThan(0.9);
  }

  @Test
  void theMetersReadTheCache() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    PlanCache cache = new PlanCache(Planner.of(Fixtures.rules()), 16);
    new RouterMetrics(registry, cache);

    cache.plan(POINT);
    cache.plan(POINT);
    cache.plan(POINT);

    assertThat(registry.get("shardkit.router.plans").gauge().value()).isEqualTo(1.0);
    assertThat(
            registry
                .get("shardkit.router.plan.cache")
                .tag("result", "hit")
                .functionCounter()
                .count())
        .isEqualTo(2.0);
    assertThat(
            registry
                .get("shardkit.router.plan.cache")
                .tag("result", "miss")
                .functionCounter()
                .count())
        .isEqualTo(1.0);
  }
}
