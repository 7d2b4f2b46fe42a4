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
  private final java.util.function.Supplier<io.vertx.core.Future<Void>> liveness;
  private io.vertx.core.Future<Void> probe; // the liveness probe in flight, shared
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
    this(source, system, options, transitions, rejected, null);
  }

  /**
   * @param liveness asks the server, on a connection of its own, whether it answers now (succeeds
   *     if so); when given, a call that ended without the server's answer counts as a failure only
   *     if the server does not answer this either. A call ended by its caller's deadline while the
   *     server was alive but the statement waited (a row lock another session holds) is then no
   *     evidence against it, and a down or frozen server still fails the check. Null: every such
   *     call counts as a failure.
   */
  public SourceBreaker(
      String source,
      String system,
      CircuitBreakerOptions options,
      BiConsumer<String, State> transitions,
      Runnable rejected,
      java.util.function.Supplier<io.vertx.core.Future<Void>> liveness) {
    this.liveness = liveness;
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
   * the server is there). A failure is counted once the liveness check (if the breaker has one)
   * says the server does not answer; if it does, the call counts as answered. Concurrent failures
   * share one check.
   */
  public void release(Throwable failure) {
    if (!options.enabled()) {
      return;
    }
    if (failure == null || liveness == null || !unsure(failure)) {
      count(failure);
      return;
    }
    io.vertx.core.Future<Void> check;
    boolean mine = false;
    synchronized (this) {
      if (probe == null) {
        try {
          probe = liveness.get();
        } catch (RuntimeException e) {
          probe = io.vertx.core.Future.failedFuture(e);
        }
        mine = true;
      }
      check = probe;
    }
    if (mine) {
      check.onComplete(
          ar -> {
            synchronized (this) {
              if (probe == check) {
                probe = null; // the next failure asks again
              }
            }
          });
    }
    check.onComplete(ar -> count(ar.succeeded() ? null : failure));
  }

  /**
   * Whether a failure may be the caller's own doing rather than the server's: a deadline or
   * timeout, or a connection closed (the coordinator closes a branch's connection at its deadline).
   * A refused or reset connection is the server's (counted at once).
   */
  static boolean unsure(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      String name = t.getClass().getSimpleName();
      if (t instanceof java.net.ConnectException) {
        return false;
      }
      if (name.contains("Timeout") || name.contains("ClosedConnection")) {
        return true;
      }
      if (t.getCause() == t) {
        break;
      }
    }
    return false;
  }

  private void count(Throwable failure) {
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
