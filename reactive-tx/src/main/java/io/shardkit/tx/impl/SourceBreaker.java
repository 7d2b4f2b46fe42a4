package io.shardkit.tx.impl;

import io.shardkit.router.CircuitBreakerOptions;
import io.shardkit.router.ShardCircuitBreaker;
import io.shardkit.router.ShardCircuitOpenException;
import java.time.Duration;
import java.util.function.BiConsumer;

/**
 * The circuit breaker of one data source outside the router (a Redis source, a PostgreSQL source),
 * with the SQL data sources' {@link CircuitBreakerOptions} and the same states: opens after {@code
 * consecutiveFailures} failed commands in a row or a failure rate of at least {@code
 * failureRateThreshold} % over the last {@code windowSize} commands (once {@code minimumCalls} were
 * seen); while open, commands fail at once with {@link ShardCircuitOpenException} naming the
 * source; after {@code openDuration}, {@code halfOpenProbes} commands pass and their outcome closes
 * or re-opens it. A lock around a few counters, no I/O.
 */
public final class SourceBreaker implements ShardCircuitBreaker {

  private final String source;
  private final String system;
  private final CircuitBreakerOptions options;
  private final BiConsumer<String, State> transitions;
  private final Runnable rejected;
  private final boolean[] window;
  private int next;
  private int size;
  private int failures;
  private int consecutive;
  private State state = State.CLOSED;
  private long openedAt;
  private int probesInFlight;
  private String reason = "";

  /**
   * @param system what the source is, for the refusal's reason ({@code redis}, {@code postgresql})
   * @param transitions hears every state entered
   * @param rejected runs for every call refused
   */
  public SourceBreaker(
      String source,
      String system,
      CircuitBreakerOptions options,
      BiConsumer<String, State> transitions,
      Runnable rejected) {
    this.source = source;
    this.system = system;
    this.options = options;
    this.transitions = transitions;
    this.rejected = rejected;
    this.window = new boolean[Math.max(1, options.windowSize())];
  }

  @Override
  public String dataSource() {
    return source;
  }

  @Override
  public synchronized State state() {
    if (state == State.OPEN && System.nanoTime() - openedAt >= options.openDuration().toNanos()) {
      return State.HALF_OPEN;
    }
    return state;
  }

  @Override
  public void checkAvailable() {
    ShardCircuitOpenException refused;
    synchronized (this) {
      refused = state() == State.OPEN ? refusal() : null;
    }
    if (refused != null) {
      rejected.run();
      throw refused;
    }
  }

  /** A call starts: refused when open (or half-open with every probe in flight). */
  public void acquire() {
    if (!options.enabled()) {
      return;
    }
    ShardCircuitOpenException refused = null;
    State entered = null;
    synchronized (this) {
      State now = state();
      if (now == State.OPEN) {
        refused = refusal();
      } else if (now == State.HALF_OPEN) {
        if (state == State.OPEN) {
          state = State.HALF_OPEN;
          probesInFlight = 0;
          entered = State.HALF_OPEN;
        }
        if (probesInFlight >= Math.max(1, options.halfOpenProbes())) {
          refused = refusal();
        } else {
          probesInFlight++;
        }
      }
    }
    if (entered != null) {
      transitions.accept(source, entered);
    }
    if (refused != null) {
      rejected.run();
      throw refused;
    }
  }

  /**
   * A call ended; {@code failure} is null when the server answered (an error reply counts as OK:
   * the server is there).
   */
  public void release(Throwable failure) {
    if (!options.enabled()) {
      return;
    }
    State entered = null;
    synchronized (this) {
      if (state == State.HALF_OPEN) {
        probesInFlight = Math.max(0, probesInFlight - 1);
        if (failure == null) {
          state = State.CLOSED;
          reset();
        } else {
          open("probe failed: " + failure.getMessage());
        }
        entered = state;
      } else if (state == State.CLOSED) {
        record(failure != null);
        if (failure != null) {
          int rate = size >= options.minimumCalls() ? failures * 100 / size : 0;
          if (consecutive >= options.consecutiveFailures()) {
            open(consecutive + " consecutive failures, last: " + failure.getMessage());
            entered = State.OPEN;
          } else if (size >= options.minimumCalls() && rate >= options.failureRateThreshold()) {
            open(rate + "% of the last " + size + " commands failed");
            entered = State.OPEN;
          }
        }
      }
    }
    if (entered != null) {
      transitions.accept(source, entered);
    }
  }

  private void record(boolean failed) {
    if (size == window.length) {
      if (window[next]) {
        failures--;
      }
    } else {
      size++;
    }
    window[next] = failed;
    next = (next + 1) % window.length;
    if (failed) {
      failures++;
      consecutive++;
    } else {
      consecutive = 0;
    }
  }

  private void open(String why) {
    state = State.OPEN;
    openedAt = System.nanoTime();
    reason = why;
    reset();
  }

  private void reset() {
    next = 0;
    size = 0;
    failures = 0;
    consecutive = 0;
    java.util.Arrays.fill(window, false);
  }

  private ShardCircuitOpenException refusal() {
    long left = options.openDuration().toNanos() - (System.nanoTime() - openedAt);
    return new ShardCircuitOpenException(
        source, state, Duration.ofNanos(Math.max(0, left)), system + ": " + reason);
  }
}
