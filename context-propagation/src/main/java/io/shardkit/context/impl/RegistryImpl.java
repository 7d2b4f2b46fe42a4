package io.shardkit.context.impl;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import io.shardkit.context.ScopeRegistry;
import io.shardkit.context.ShardkitException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/** The process-wide {@link ScopeRegistry}: see its javadoc for why there is one per JVM. */
final class RegistryImpl implements ScopeRegistry {

  static final RegistryImpl INSTANCE = new RegistryImpl();

  private static final int DESCRIBE_LIMIT = 50;

  private final ConcurrentHashMap<Long, ScopeImpl> open = new ConcurrentHashMap<>();
  private final Set<BoundImpl<?>> standalone = ConcurrentHashMap.newKeySet();
  private final AtomicInteger pinned = new AtomicInteger();
  private final AtomicInteger timers = new AtomicInteger();
  private final LongAdder timeouts = new LongAdder();
  private final LongAdder forcedReleases = new LongAdder();

  private RegistryImpl() {
    bindTo(Metrics.globalRegistry);
  }

  void opened(ScopeImpl scope) {
    open.put(scope.id, scope);
  }

  void closed(ScopeImpl scope) {
    open.remove(scope.id);
  }

  void pinned() {
    pinned.incrementAndGet();
  }

  void unpinned() {
    pinned.decrementAndGet();
  }

  void forcedRelease() {
    forcedReleases.increment();
  }

  void timerArmed() {
    timers.incrementAndGet();
  }

  void timerDone() {
    timers.decrementAndGet();
  }

  void timedOut() {
    timeouts.increment();
  }

  void standaloneArmed(BoundImpl<?> bound) {
    timers.incrementAndGet();
    standalone.add(bound);
  }

  void standaloneDone(BoundImpl<?> bound) {
    standalone.remove(bound);
  }

  @Override
  public int openScopes() {
    return open.size();
  }

  @Override
  public int pinnedResources() {
    return pinned.get();
  }

  @Override
  public int pendingTimers() {
    return timers.get();
  }

  @Override
  public long timedOutScopes() {
    return timeouts.sum();
  }

  @Override
  public long forcedReleases() {
    return forcedReleases.sum();
  }

  @Override
  public List<OpenScope> snapshot() {
    List<ScopeImpl> scopes = new ArrayList<>(open.values());
    scopes.sort(Comparator.comparingLong(s -> s.id));
    long now = System.nanoTime();
    List<OpenScope> result = new ArrayList<>(scopes.size());
    for (ScopeImpl scope : scopes) {
      var owned = scope.ownedByKind();
      Integer children = owned.remove("scope");
      owned.remove("bound");
      result.add(
          new OpenScope(
              scope.tx.globalId(),
              scope.tx.branchId().orElse(null),
              Duration.ofNanos(now - scope.startNanos),
              scope.tx.deadline().remaining(),
              java.util.Collections.unmodifiableMap(owned),
              children == null ? 0 : children));
    }
    return result;
  }

  @Override
  public String describe() {
    StringBuilder text =
        new StringBuilder()
            .append("open scopes=")
            .append(openScopes())
            .append(", pinned resources=")
            .append(pinnedResources())
            .append(", pending timers=")
            .append(pendingTimers());
    int lines = 0;
    for (OpenScope scope : snapshot()) {
      if (lines++ == DESCRIBE_LIMIT) {
        text.append("\n  ...");
        return text.toString();
      }
      text.append("\n  scope gid=").append(scope.globalId());
      if (scope.branchId() != null) {
        text.append(" branch=").append(scope.branchId());
      }
      text.append(" age=")
          .append(scope.age().toMillis())
          .append(" ms left=")
          .append(scope.remaining().toMillis())
          .append(" ms pinned=")
          .append(scope.pinned())
          .append(" openChildren=")
          .append(scope.openChildren());
    }
    for (BoundImpl<?> bound : standalone) {
      if (lines++ == DESCRIBE_LIMIT) {
        text.append("\n  ...");
        return text.toString();
      }
      text.append("\n  bound() timer of gid=")
          .append(bound.globalId())
          .append(" left=")
          .append(bound.remaining().toMillis())
          .append(" ms");
    }
    return text.toString();
  }

  @Override
  public int forceCloseAll(String reason) {
    int closed = 0;
    List<ScopeImpl> scopes = new ArrayList<>(open.values());
    scopes.sort(Comparator.comparingLong(s -> s.id));
    for (ScopeImpl scope : scopes) {
      if (!scope.isClosed()) {
        scope.fail(
            new ShardkitException(reason + " (global transaction " + scope.tx.globalId() + ")"));
        closed++;
      }
    }
    for (BoundImpl<?> bound : new ArrayList<>(standalone)) {
      bound.closeWith(
          new ShardkitException(reason + " (global transaction " + bound.globalId() + ")"));
      closed++;
    }
    return closed;
  }

  @Override
  public synchronized void bindTo(MeterRegistry registry) {
    // Every ShardedPool binds its registry: bind each registry once (the registry is one per JVM,
    // so meters already there are this registry's), without Micrometer's "already registered".
    if (registry.find("shardkit.scopes.open").meter() != null) {
      return;
    }
    Gauge.builder("shardkit.scopes.open", this, RegistryImpl::openScopes)
        .description("Scopes opened by TxScope.run and not yet closed")
        .register(registry);
    Gauge.builder("shardkit.scopes.pinned", this, RegistryImpl::pinnedResources)
        .description("Resources pinned to an open scope")
        .register(registry);
    Gauge.builder("shardkit.scopes.timers", this, RegistryImpl::pendingTimers)
        .description("Pending deadline timers")
        .register(registry);
    FunctionCounter.builder("shardkit.scopes.timeouts", this, RegistryImpl::timedOutScopes)
        .description("Scopes closed by their deadline")
        .register(registry);
    FunctionCounter.builder("shardkit.scopes.forced.releases", this, RegistryImpl::forcedReleases)
        .description("Pinned resources released by their scope's close rather than their owner")
        .register(registry);
  }

  @Override
  public String toString() {
    return "ScopeRegistry[" + describe().lines().findFirst().orElse("") + "]";
  }
}
