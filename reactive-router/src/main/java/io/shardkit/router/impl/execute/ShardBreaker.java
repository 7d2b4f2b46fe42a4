package io.shardkit.router.impl.execute;

import io.shardkit.router.CircuitBreakerOptions;
import io.shardkit.router.ShardCircuitBreaker;
import io.shardkit.router.ShardCircuitOpenException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * The circuit breaker of one data source: a count-based sliding window of call outcomes, a run of
 * consecutive failures, and the closed → open → half-open → closed cycle of {@link
 * CircuitBreakerOptions}.
 *
 * <p>Why our own and not vertx-circuit-breaker (which resolves for 5.0.7): that breaker counts
 * failures in a time window but has no failure <i>rate</i> and no slow-call rate, it arms a timer
 * per call only to fail the call (here a frozen shard's calls must be counted as slow while they
 * still run, and the call itself stays bounded by the transaction deadline), and it offers no
 * non-consuming check, which transactions need to refuse an open shard before enlisting it without
 * using up a half-open probe. This class is a lock around a few counters (no I/O under the lock).
 *
 * <p>Each state change bumps a generation; a call reports to the generation it started in, so a
 * call that started before the breaker opened cannot close it, nor count as a probe.
 */
final class ShardBreaker implements ShardCircuitBreaker {

  /** Hears state changes (metrics). */
  interface Listener {
    void transition(String dataSource, State to);

    void rejected(String dataSource);
  }

  private static final byte OK = 0;
  private static final byte FAILED = 1;
  private static final byte SLOW = 2;

  private final String dataSource;
  private final CircuitBreakerOptions options;
  private final LongSupplier nanoClock;
  private final Listener listener;
  private final long slowNanos;
  private final long openNanos;

  // guarded by this
  private State state = State.CLOSED;
  private long generation;
  private final byte[] window;
  private int next;
  private int size;
  private int failures;
  private int slows;
  private int consecutive;
  private long openedAt;
  private int probesInFlight;
  private int probeSuccesses;
  private String reason = "";
  // calls that may still turn slow, oldest first (an intrusive list: no allocation per call)
  private Call oldest;
  private Call newest;

  ShardBreaker(
      String dataSource, CircuitBreakerOptions options, LongSupplier nanoClock, Listener listener) {
    this.dataSource = dataSource;
    this.options = options;
    this.nanoClock = nanoClock;
    this.listener = listener;
    this.slowNanos = options.slowCallDuration().toNanos();
    this.openNanos = options.openDuration().toNanos();
    this.window = new byte[options.windowSize()];
  }

  @Override
  public String dataSource() {
    return dataSource;
  }

  @Override
  public synchronized State state() {
    if (state == State.OPEN && nanoClock.getAsLong() - openedAt >= openNanos) {
      return State.HALF_OPEN;
    }
    return state;
  }

  @Override
  public void checkAvailable() {
    ShardCircuitOpenException refused;
    synchronized (this) {
      refused = refusal(false);
    }
    if (refused != null) {
      listener.rejected(dataSource);
      throw refused;
    }
  }

  /**
   * Starts a call: {@code gated} calls are refused (thrown) while open and take a probe slot when
   * half-open; ungated ones (statements on a transaction's own connection, whose first use includes
   * the enlistment) always pass and report; once the open duration has passed they are probes too,
   * so a breaker that only transactions use still closes (or re-opens). The caller must {@link
   * Call#end} it.
   */
  Call start(boolean gated) {
    long gen;
    Call call = null;
    boolean probe = false;
    ShardCircuitOpenException refused = null;
    synchronized (this) {
      if (gated) {
        refused = refusal(true);
      } else if (state == State.OPEN && nanoClock.getAsLong() - openedAt >= openNanos) {
        move(State.HALF_OPEN, reason);
      }
      if (refused == null && state == State.HALF_OPEN) {
        probesInFlight++;
        probe = true;
      }
      gen = generation;
      if (refused == null) {
        call = new Call(gen, probe);
        if (slowNanos > 0) {
          call.startedAt = nanoClock.getAsLong();
          link(call);
        }
      }
    }
    if (refused != null) {
      listener.rejected(dataSource);
      throw refused;
    }
    return call;
  }

  /**
   * Marks the calls that have been running for the slow-call duration or longer as slow (they
   * report SLOW now, their later end is ignored). {@link ShardBreakers} runs this periodically, so
   * a call is marked at most one sweep period after it turned slow; one timer per pool instead of
   * one per statement.
   */
  void sweep() {
    if (slowNanos <= 0) {
      return;
    }
    List<Call> slow = null;
    synchronized (this) {
      long now = nanoClock.getAsLong();
      while (oldest != null && now - oldest.startedAt >= slowNanos) {
        Call c = oldest;
        unlink(c);
        if (slow == null) {
          slow = new ArrayList<>();
        }
        slow.add(c);
      }
    }
    if (slow != null) {
      for (Call c : slow) {
        c.finish(SLOW);
      }
    }
  }

  /** Guarded by this. */
  private void link(Call c) {
    c.linked = true;
    c.older = newest;
    if (newest != null) {
      newest.newer = c;
    } else {
      oldest = c;
    }
    newest = c;
  }

  /** Guarded by this. */
  private void unlink(Call c) {
    if (!c.linked) {
      return;
    }
    c.linked = false;
    if (c.older != null) {
      c.older.newer = c.newer;
    } else {
      oldest = c.newer;
    }
    if (c.newer != null) {
      c.newer.older = c.older;
    } else {
      newest = c.older;
    }
    c.older = null;
    c.newer = null;
  }

  /** Null when work may start; moves OPEN to HALF_OPEN when its time is up. Holds the lock. */
  private ShardCircuitOpenException refusal(boolean takingProbe) {
    if (state == State.OPEN) {
      long left = openNanos - (nanoClock.getAsLong() - openedAt);
      if (left > 0) {
        return new ShardCircuitOpenException(
            dataSource, State.OPEN, Duration.ofNanos(left), reason);
      }
      if (!takingProbe) {
        return null;
      }
      move(State.HALF_OPEN, reason);
    }
    if (takingProbe
        && state == State.HALF_OPEN
        && probesInFlight + probeSuccesses >= options.halfOpenProbes()) {
      return new ShardCircuitOpenException(
          dataSource, State.HALF_OPEN, Duration.ZERO, "half-open, probes in flight; " + reason);
    }
    return null;
  }

  /** Reports the call's outcome unless it has ended already; whether it was its end. */
  private synchronized boolean report(Call call, byte outcome) {
    if (call.done) {
      return false;
    }
    call.done = true;
    unlink(call);
    if (call.generation != generation) {
      return true; // started before the last state change
    }
    if (state == State.HALF_OPEN) {
      if (!call.probe) {
        return true;
      }
      probesInFlight--;
      if (outcome != OK) {
        open(outcome == SLOW ? "half-open probe was slow" : "half-open probe failed");
      } else if (++probeSuccesses >= options.halfOpenProbes()) {
        closeAndReset();
      }
      return true;
    }
    if (state != State.CLOSED) {
      return true;
    }
    if (size == window.length) {
      byte old = window[next];
      if (old == FAILED) {
        failures--;
      } else if (old == SLOW) {
        slows--;
      }
    } else {
      size++;
    }
    window[next] = outcome;
    next = (next + 1) % window.length;
    if (outcome == FAILED) {
      failures++;
      consecutive++;
    } else if (outcome == SLOW) {
      slows++;
    } else {
      consecutive = 0;
    }
    if (consecutive >= options.consecutiveFailures()) {
      open(consecutive + " consecutive failures");
    } else if (size >= options.minimumCalls()
        && failures * 100 >= options.failureRateThreshold() * size) {
      open("failure rate " + (failures * 100 / size) + "% of the last " + size + " calls");
    } else if (slowNanos > 0
        && size >= options.minimumCalls()
        && slows * 100 >= options.slowCallRateThreshold() * size) {
      open(
          "slow-call rate "
              + (slows * 100 / size)
              + "% of the last "
              + size
              + " calls (slower than "
              + options.slowCallDuration().toMillis()
              + " ms)");
    }
    return true;
  }

  private synchronized void release(Call call) {
    if (call.done) {
      return;
    }
    call.done = true;
    unlink(call);
    if (call.probe && call.generation == generation && state == State.HALF_OPEN) {
      probesInFlight--;
    }
  }

  private void open(String why) {
    openedAt = nanoClock.getAsLong();
    move(State.OPEN, why);
  }

  private void closeAndReset() {
    size = next = failures = slows = consecutive = 0;
    move(State.CLOSED, "");
  }

  private void move(State to, String why) {
    state = to;
    reason = why;
    generation++;
    probesInFlight = 0;
    probeSuccesses = 0;
    listener.transition(dataSource, to);
  }

  @Override
  public String toString() {
    return "ShardCircuitBreaker[" + dataSource + ", " + state() + "]";
  }

  /** One call's report to the breaker: ends once, as OK, FAILED or (sweep) SLOW. */
  final class Call {
    private final long generation;
    private final boolean probe;
    private volatile Runnable onSlow;
    // guarded by the breaker
    private boolean done;
    private long startedAt;
    private boolean linked;
    private Call older;
    private Call newer;

    private Call(long generation, boolean probe) {
      this.generation = generation;
      this.probe = probe;
    }

    /** The call ended; {@code failed}: the shard did not answer (see CircuitBreakerOptions). */
    void end(boolean failed) {
      finish(failed ? FAILED : OK);
    }

    /** Whether this call is a half-open probe. */
    boolean probe() {
      return probe;
    }

    /**
     * Runs {@code action} if the call turns out slow (used to fail a probe that gets no answer).
     */
    void onSlow(Runnable action) {
      this.onSlow = action;
    }

    /** The call never ran (another data source refused the statement): frees its probe slot. */
    void abandon() {
      release(this);
    }

    private void finish(byte outcome) {
      if (report(this, outcome)) {
        Runnable action = onSlow;
        if (outcome == SLOW && action != null) {
          action.run();
        }
      }
    }
  }
}
