package io.shardkit.router.impl.execute;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.shardkit.router.ShardCircuitBreaker;
import io.shardkit.router.impl.rewrite.Rewriter;
import io.shardkit.router.impl.rewrite.SqlUnit;
import io.shardkit.router.impl.route.Plan;
import io.shardkit.router.spi.QueueDelayLimit;
import io.vertx.sqlclient.Pool;
import java.time.Duration;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * The {@code shardkit.router.*}, {@code shardkit.pool.*} and {@code shardkit.breaker.*} meters of a
 * ShardedPool (the table is in the reactive-router README). Tags are bounded: shard (data source
 * name), kind (statement kind), route, outcome, state; never SQL text or ids. Meters are created
 * once per tag combination and cached.
 */
final class RouterMetrics implements ShardBreaker.Listener {

  private static final String[] KINDS = kinds();

  private final MeterRegistry registry;
  private final Map<String, Timer[]> unitTimers = new ConcurrentHashMap<>();
  private final Map<String, Counter> counters = new ConcurrentHashMap<>();
  private final Map<String, AtomicInteger> inFlight = new ConcurrentHashMap<>();
  private final Counter[] single = new Counter[KINDS.length];
  private final Counter[] scatter = new Counter[KINDS.length];
  private final DistributionSummary[] fanout = new DistributionSummary[KINDS.length];
  private final DistributionSummary[] fanoutUnits = new DistributionSummary[KINDS.length];
  private final Counter refused;
  private final Counter overloaded;

  /** Gauges and function counters of this pool: removed on close (they read this pool's state). */
  private final List<Meter> own = new CopyOnWriteArrayList<>();

  RouterMetrics(MeterRegistry registry, PlanCache cache) {
    this.registry = registry;
    for (int i = 0; i < KINDS.length; i++) {
      single[i] = statements("single", KINDS[i]);
      scatter[i] = statements("scatter", KINDS[i]);
      fanout[i] =
          DistributionSummary.builder("shardkit.router.fanout")
              .description("Data sources one statement ran on")
              .tag("kind", KINDS[i])
              .register(registry);
      fanoutUnits[i] =
          DistributionSummary.builder("shardkit.router.fanout.units")
              .description("Route units (actual tables) one statement ran on")
              .tag("kind", KINDS[i])
              .register(registry);
    }
    refused = statements("refused", "unknown");
    overloaded = statements("overloaded", "unknown");
    own(
        "shardkit.router.plans",
        new String[] {},
        () ->
            Gauge.builder("shardkit.router.plans", cache, PlanCache::size)
                .description("Plans in the plan cache")
                .register(registry));
    own(
        "shardkit.router.plan.cache",
        new String[] {"result", "hit"},
        () ->
            FunctionCounter.builder("shardkit.router.plan.cache", cache, PlanCache::hits)
                .description("Plan cache lookups")
                .tag("result", "hit")
                .register(registry));
    own(
        "shardkit.router.plan.cache",
        new String[] {"result", "miss"},
        () ->
            FunctionCounter.builder("shardkit.router.plan.cache", cache, PlanCache::misses)
                .description("Plan cache lookups")
                .tag("result", "miss")
                .register(registry));
  }

  /**
   * Registers one of this pool's gauges or function counters unless a meter with the same name and
   * tags is already there (another open pool on the same registry): Micrometer would log "already
   * registered", ignore the new one and hand back the other pool's meter, which this pool's close
   * would then remove. The first pool's meter stays and is the one that reports.
   */
  private void own(String name, String[] tags, Supplier<? extends Meter> register) {
    if (registry.find(name).tags(tags).meter() == null) {
      own.add(register.get());
    }
  }

  private Counter statements(String route, String kind) {
    return Counter.builder("shardkit.router.statements")
        .description("Routed statements by route and kind")
        .tag("route", route)
        .tag("kind", kind)
        .register(registry);
  }

  private static String[] kinds() {
    Plan.Kind[] all = Plan.Kind.values();
    String[] out = new String[all.length];
    for (int i = 0; i < all.length; i++) {
      out[i] = all[i].name().toLowerCase(Locale.ROOT);
    }
    return out;
  }

  /** Per-data-source pool gauges. */
  void pools(Map<String, Pool> pools, Map<String, Integer> maxSizes) {
    pools.forEach(
        (ds, pool) -> {
          AtomicInteger active = inFlight.computeIfAbsent(ds, k -> new AtomicInteger());
          int max = maxSizes.get(ds);
          own(
              "shardkit.pool.size",
              new String[] {"shard", ds},
              () ->
                  Gauge.builder("shardkit.pool.size", pool, Pool::size)
                      .description("Open connections of the data source's pool")
                      .tag("shard", ds)
                      .register(registry));
          own(
              "shardkit.pool.max",
              new String[] {"shard", ds},
              () ->
                  Gauge.builder("shardkit.pool.max", () -> max)
                      .description("Maximum size of the data source's pool")
                      .tag("shard", ds)
                      .register(registry));
          own(
              "shardkit.pool.in.use",
              new String[] {"shard", ds},
              () ->
                  Gauge.builder("shardkit.pool.in.use", active, a -> Math.min(a.get(), max))
                      .description(
                          "Pool statements running (estimated from the router's in-flight count)")
                      .tag("shard", ds)
                      .register(registry));
          own(
              "shardkit.pool.waiting",
              new String[] {"shard", ds},
              () ->
                  Gauge.builder("shardkit.pool.waiting", active, a -> Math.max(0, a.get() - max))
                      .description(
                          "Pool statements waiting for a connection (in flight beyond max size)")
                      .tag("shard", ds)
                      .register(registry));
        });
  }

  /**
   * The data source's limit of the pool's statements outstanding under adaptive admission ({@code
   * shardkit.pool.admission.limit}).
   */
  void admissionLimit(String ds, QueueDelayLimit limit) {
    own(
        "shardkit.pool.admission.limit",
        new String[] {"shard", ds},
        () ->
            Gauge.builder("shardkit.pool.admission.limit", limit, l -> l.limit(System.nanoTime()))
                .description(
                    "Adaptive admission: the pool's statements that may wait for or hold a"
                        + " connection of the data source (connections + wait queue when no queue"
                        + " stands)")
                .tag("shard", ds)
                .register(registry));
  }

  /** Statements refused by the data source's adaptive admission ({@code shardkit.pool.refused}). */
  Counter queueRefused(String ds) {
    return Counter.builder("shardkit.pool.refused")
        .description(
            "Pool statements refused for the data source before a connection was asked for (a"
                + " standing queue there, or its wait queue full), nothing sent")
        .tag("shard", ds)
        .register(registry);
  }

  /** How long the pool's statements waited for a connection of the data source. */
  Timer connectionWait(String ds) {
    return Timer.builder("shardkit.pool.wait")
        .description("Time a pool statement waited for a connection of the data source")
        .tag("shard", ds)
        .register(registry);
  }

  /**
   * The adaptive admission limit of a read replica's pool ({@code
   * shardkit.pool.replica.admission.limit}, tagged with the data source and the replica: its own
   * name, so that the primaries' meter keeps one set of tag keys).
   */
  void replicaAdmissionLimit(String ds, String replica, QueueDelayLimit limit) {
    own(
        "shardkit.pool.replica.admission.limit",
        new String[] {"shard", ds, "replica", replica},
        () ->
            Gauge.builder(
                    "shardkit.pool.replica.admission.limit", limit, l -> l.limit(System.nanoTime()))
                .description(
                    "Adaptive admission: the pool's reads that may wait for or hold a connection"
                        + " of the read replica (connections + wait queue when no queue stands)")
                .tags("shard", ds, "replica", replica)
                .register(registry));
  }

  /**
   * Reads refused by a read replica's adaptive admission ({@code shardkit.pool.replica.refused}).
   */
  Counter replicaQueueRefused(String ds, String replica) {
    return Counter.builder("shardkit.pool.replica.refused")
        .description(
            "Pool reads refused for the data source's read replica (every healthy replica of the"
                + " data source at its limit; counted on the first) before a connection was asked"
                + " for, nothing sent")
        .tags("shard", ds, "replica", replica)
        .register(registry);
  }

  /** How long the pool's reads waited for a connection of the read replica. */
  Timer replicaConnectionWait(String ds, String replica) {
    return Timer.builder("shardkit.pool.replica.wait")
        .description("Time a pool read waited for a connection of the read replica")
        .tags("shard", ds, "replica", replica)
        .register(registry);
  }

  /** Breaker state gauges: 0 closed, 1 half-open, 2 open. */
  void breakers(Collection<ShardCircuitBreaker> breakers) {
    for (ShardCircuitBreaker b : breakers) {
      own(
          "shardkit.breaker.state",
          new String[] {"shard", b.dataSource()},
          () ->
              Gauge.builder("shardkit.breaker.state", b, br -> br.state().ordinal())
                  .description("Circuit breaker state: 0 closed, 1 half-open, 2 open")
                  .tag("shard", b.dataSource())
                  .register(registry));
    }
  }

  /**
   * Removes this pool's gauges and function counters, so a pool built later with the same registry
   * and data source names reports its own state (Micrometer keeps the first meter of a name and
   * tags). Counters and timers stay: they are shared by name and tags.
   */
  void close() {
    for (Meter meter : own) {
      registry.remove(meter);
    }
    own.clear();
  }

  void routed(Rewriter.Routed routed) {
    List<SqlUnit> units = routed.units();
    int k = routed.plan().kind().ordinal();
    (units.size() == 1 ? single : scatter)[k].increment();
    fanoutUnits[k].record(units.size());
    if (units.size() == 1) {
      fanout[k].record(1);
    } else {
      Set<String> shards = new HashSet<>();
      for (SqlUnit u : units) {
        shards.add(u.dataSource());
      }
      fanout[k].record(shards.size());
    }
  }

  void refused() {
    refused.increment();
  }

  /** A statement refused by the pool's limit of statements in flight, before routing. */
  void overloaded() {
    overloaded.increment();
  }

  /** The pool's statements in flight ({@code shardkit.router.in_flight}). */
  void inFlight(AtomicInteger count) {
    own(
        "shardkit.router.in_flight",
        new String[] {},
        () ->
            Gauge.builder("shardkit.router.in_flight", count, AtomicInteger::get)
                .description(
                    "Statements of the pool in flight: admitted and not answered (bound:"
                        + " ShardedPool maxInFlight)")
                .register(registry));
  }

  /** A pool statement started on {@code ds} (for the in-use / waiting estimate). */
  void pooledStart(String ds) {
    AtomicInteger a = inFlight.get(ds);
    if (a != null) {
      a.incrementAndGet();
    }
  }

  void pooledEnd(String ds) {
    AtomicInteger a = inFlight.get(ds);
    if (a != null) {
      a.decrementAndGet();
    }
  }

  /** A unit's outcomes, indexed as {@link #unit} takes them. */
  static final String[] OUTCOMES = {"success", "unavailable", "failure"};

  /**
   * Records one route unit's latency.
   *
   * @param kind the statement kind's ordinal ({@code Plan.Kind})
   * @param outcome an index of {@link #OUTCOMES}
   */
  void unit(String dataSource, int kind, int outcome, long startNanos) {
    // one array of timers per data source, by kind and outcome: no key built per statement
    Timer[] byKind =
        unitTimers.computeIfAbsent(dataSource, k -> new Timer[KINDS.length * OUTCOMES.length]);
    int i = kind * OUTCOMES.length + outcome;
    Timer timer = byKind[i];
    if (timer == null) {
      timer =
          Timer.builder("shardkit.router.shard.statements")
              .description("Statement latency on one shard (one route unit)")
              .tag("shard", dataSource)
              .tag("kind", KINDS[kind])
              .tag("outcome", OUTCOMES[outcome])
              .publishPercentileHistogram()
              .minimumExpectedValue(Duration.ofMillis(1))
              .maximumExpectedValue(Duration.ofSeconds(10))
              .register(registry); // the registry hands back the same timer to a racing thread
      byKind[i] = timer;
    }
    timer.record(System.nanoTime() - startNanos, TimeUnit.NANOSECONDS);
  }

  @Override
  public void transition(String dataSource, ShardCircuitBreaker.State to) {
    counter(
            "shardkit.breaker.transitions",
            "Circuit breaker state changes, by the state entered",
            dataSource,
            "state",
            to.name().toLowerCase(Locale.ROOT))
        .increment();
  }

  @Override
  public void rejected(String dataSource) {
    counter(
            "shardkit.breaker.rejected",
            "Statements and enlistments refused by an open breaker",
            dataSource,
            null,
            null)
        .increment();
  }

  private Counter counter(
      String name, String description, String shard, String tagKey, String tagValue) {
    return counters.computeIfAbsent(
        name + '|' + shard + '|' + tagValue,
        k -> {
          Counter.Builder b = Counter.builder(name).description(description).tag("shard", shard);
          if (tagKey != null) {
            b.tag(tagKey, tagValue);
          }
          return b.register(registry);
        });
  }
}
