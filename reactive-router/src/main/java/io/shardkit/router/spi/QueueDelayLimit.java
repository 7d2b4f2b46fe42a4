package io.shardkit.router.spi;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The adaptive limit of one data source pool's statements (waiting for or holding one of its
 * connections), judged on how long they wait for a connection (pure logic: the clock is passed in).
 *
 * <p>Time is cut into intervals. At the end of each, the minimum wait seen in it decides, as in
 * CoDel: a minimum above {@code target} means that every statement of the interval waited, i.e. a
 * standing queue, not a burst; the limit then falls in proportion ({@code limit × target /
 * minimum}, taken from the statements actually outstanding when fewer), never below {@code floor}
 * (the pool's connections: a statement that would get a connection at once is not refused). An
 * interval whose minimum is at or below the target (or with no statement at all) doubles the limit,
 * up to {@code ceiling} (the pool's connections plus its wait queue: what it holds without this
 * limit), so a burst after a quiet interval queues as it would without it. An interval in which
 * statements waited and none got a connection cannot be judged on waits (none ended); the waits
 * then measured decide at a later interval's end. Until then the limit stays: it may be a stalled
 * server (the circuit breaker's: its slow-call rule), or an event loop still busy sending a burst,
 * which hands the connections over once it is done (a burst the pool's wait queue absorbs is served
 * whole). Built {@code holdOnStandStill} (for units that each hold connections over several long
 * steps, such as transactions), such an interval in which some waited behind others (asked while
 * the pool had no room for another connection) lets no more in than are in now (the limit falls to
 * what is outstanding, never below {@code floor}): each unit let in while none is served only
 * lengthens the queue every admitted unit's later steps wait in. An interval in which only
 * connections being set up were awaited (a cold pool, a reconnect) decides nothing either way.
 *
 * <p>What is limited is the caller's: the router limits a data source's statements (each asks for
 * one connection: {@link #asked}, {@link #got}, {@link #done}); a transaction manager limits its
 * new transactions, each of which asks for connections at several steps while it runs ({@link
 * #entered}, then per step {@link #waitStarted} and {@link #got}, and {@link #done} at its end).
 *
 * <p>Thread-safe: samples and reads are lock-free; the interval's end is handled once, under a
 * lock.
 */
public final class QueueDelayLimit {

  private final int floor;
  private final int ceiling;
  private final long targetNanos;
  private final long intervalNanos;
  private final boolean holdOnStandStill;

  private volatile int limit;
  private volatile long intervalEnd;
  private volatile long lastMinWaitNanos;

  private final AtomicLong minWait = new AtomicLong(Long.MAX_VALUE);
  private final AtomicInteger samples = new AtomicInteger();
  private final AtomicInteger waiting = new AtomicInteger();
  private final AtomicInteger queued = new AtomicInteger();
  private final AtomicInteger outstanding = new AtomicInteger();

  /**
   * A limit whose intervals with waits and none served decide nothing (see the class comment).
   *
   * @param floor the lowest limit (what is never refused for queueing)
   * @param ceiling the highest limit (and the first)
   * @param targetNanos the wait that, exceeded by every sample of an interval, cuts the limit
   * @param intervalNanos the length of an interval
   * @param now {@link System#nanoTime()} now
   */
  public QueueDelayLimit(int floor, int ceiling, long targetNanos, long intervalNanos, long now) {
    this(floor, ceiling, targetNanos, intervalNanos, now, false);
  }

  /**
   * @param floor the lowest limit (what is never refused for queueing)
   * @param ceiling the highest limit (and the first)
   * @param targetNanos the wait that, exceeded by every sample of an interval, cuts the limit
   * @param intervalNanos the length of an interval
   * @param now {@link System#nanoTime()} now
   * @param holdOnStandStill an interval in which some waited behind others and none was served lets
   *     no more in than are in (see the class comment)
   */
  public QueueDelayLimit(
      int floor,
      int ceiling,
      long targetNanos,
      long intervalNanos,
      long now,
      boolean holdOnStandStill) {
    if (floor < 1 || ceiling < floor || targetNanos <= 0 || intervalNanos <= 0) {
      throw new IllegalArgumentException(
          "floor "
              + floor
              + ", ceiling "
              + ceiling
              + ", target "
              + targetNanos
              + ", interval "
              + intervalNanos);
    }
    this.floor = floor;
    this.holdOnStandStill = holdOnStandStill;
    this.ceiling = ceiling;
    this.targetNanos = targetNanos;
    this.intervalNanos = intervalNanos;
    this.limit = ceiling;
    this.intervalEnd = now + intervalNanos;
  }

  /**
   * Whether one more statement may ask for a connection now: fewer than the limit outstanding. Does
   * not count it in ({@link #asked}).
   */
  public boolean admits(long now) {
    return outstanding.get() < limit(now);
  }

  /** The limit in force at {@code now}. */
  public int limit(long now) {
    if (now - intervalEnd >= 0) {
      roll(now);
    }
    return limit;
  }

  /**
   * A statement asks the pool for a connection, behind others ({@code asked(false)}): outstanding
   * and waiting until {@link #got} or {@link #gotNone}.
   */
  public void asked() {
    asked(false);
  }

  /**
   * A statement asks the pool for a connection: outstanding and waiting until {@link #got} or
   * {@link #gotNone}; {@code growing}: the pool had room for another connection ({@link #growing}),
   * which is set up for it. {@link #got} and {@link #gotNone} are told the same.
   */
  public void asked(boolean growing) {
    outstanding.incrementAndGet();
    waitStarted(growing);
  }

  /**
   * A unit of work was let in: outstanding until {@link #done}; it asks later ({@link
   * #waitStarted}).
   */
  public void entered() {
    outstanding.incrementAndGet();
  }

  /** A unit already in asks for a connection behind others ({@code waitStarted(false)}). */
  public void waitStarted() {
    waitStarted(false);
  }

  /**
   * A unit already in asks for a connection: waiting until {@link #got} or {@link #gotNone}, which
   * are told the same {@code growing} ({@link #asked(boolean)}).
   */
  public void waitStarted(boolean growing) {
    waiting.incrementAndGet();
    if (holdOnStandStill && !growing) {
      queued.incrementAndGet();
    }
  }

  /**
   * Whether a request made now gets a connection of its own being set up rather than waiting behind
   * others: the pool's {@code connections} and the requests already waiting are fewer than its
   * {@code maxSize}. Asked before the request is counted ({@link #asked}, {@link #waitStarted}).
   */
  public boolean growing(int connections, int maxSize) {
    return connections + waiting.get() < maxSize;
  }

  /**
   * The request that asked at {@code askedAt} got its connection at {@code now}; {@code growing}:
   * the pool had room for another connection when asked ({@link #growing}). A wait above the target
   * for such a request was a connection's set-up, not a queue: no sample (a cold pool under a first
   * burst, or one reconnecting after a restart, would otherwise look like a standing queue).
   */
  public void got(long askedAt, long now, boolean growing) {
    if (growing && now - askedAt > targetNanos) {
      gotNone(true);
    } else {
      sample(askedAt, now, growing);
    }
  }

  /**
   * The statement that asked behind others at {@code askedAt} got its connection at {@code now}.
   */
  public void got(long askedAt, long now) {
    got(askedAt, now, false);
  }

  private void sample(long askedAt, long now, boolean growing) {
    if (now - intervalEnd >= 0) {
      roll(now); // the interval that ended is judged on the waits seen in it, not this one
    }
    ended(growing);
    long wait = Math.max(0, now - askedAt);
    long min;
    while (wait < (min = minWait.get()) && !minWait.compareAndSet(min, wait)) {
      // retry
    }
    samples.incrementAndGet();
  }

  private void ended(boolean growing) {
    waiting.decrementAndGet();
    if (holdOnStandStill && !growing) {
      queued.decrementAndGet();
    }
  }

  /** {@link #gotNone(boolean)} of a request that asked behind others. */
  public void gotNone() {
    gotNone(false);
  }

  /**
   * The request that asked ({@code growing} as told then) got no connection (the pool refused or
   * failed it): no longer waiting, and not a sample (a refusal's wait of zero says nothing about
   * the queue).
   */
  public void gotNone(boolean growing) {
    ended(growing);
  }

  /** The statement is done with its connection (or never got one). */
  public void done() {
    outstanding.decrementAndGet();
  }

  private synchronized void roll(long now) {
    long end = intervalEnd;
    if (now - end < 0) {
      return; // another thread rolled it
    }
    long elapsed = 1 + (now - end) / intervalNanos;
    intervalEnd = end + elapsed * intervalNanos;
    int seen = samples.getAndSet(0);
    long min = minWait.getAndSet(Long.MAX_VALUE);
    if (seen == 0) {
      if (waiting.get() == 0) {
        // quiet: nobody asked
        lastMinWaitNanos = 0;
        limit = grown(limit, elapsed);
      } else if (queued.get() > 0) {
        // (counted only when holding) a queue stood and nothing was served all interval: none let
        // in until something is
        limit = Math.max(floor, Math.min(limit, outstanding.get()));
      }
      // else undecided (only connections being set up were awaited, or the limit does not hold)
      return;
    }
    lastMinWaitNanos = min;
    if (min > targetNanos) {
      int base = Math.min(limit, Math.max(outstanding.get(), floor));
      long cut = (long) ((double) base * targetNanos / min);
      limit = (int) Math.max(floor, Math.min(base, cut));
      if (elapsed > 1 && waiting.get() == 0) {
        // the intervals after the one judged had no statement and none waits now: quiet ones,
        // which grow the limit as they would have had they been judged on time (a first
        // newcomer after a quiet spell is not refused for a queue long gone)
        limit = grown(limit, elapsed - 1);
      }
    } else {
      // a good interval, then any quiet ones after it
      limit = grown(limit, elapsed);
    }
  }

  private int grown(int from, long doublings) {
    long l = from;
    for (long i = 0; i < doublings && l < ceiling; i++) {
      l *= 2;
    }
    return (int) Math.min(ceiling, l);
  }

  /** The minimum wait of the last interval that ended (0 when it had no statement). */
  public long lastMinWaitNanos() {
    return lastMinWaitNanos;
  }

  public int outstanding() {
    return outstanding.get();
  }

  public int waiting() {
    return waiting.get();
  }

  /**
   * Of those {@link #waiting}, the ones that asked behind others (not for a set-up); counted only
   * by a limit built {@code holdOnStandStill} (the only one that needs it), 0 otherwise.
   */
  public int queued() {
    return queued.get();
  }

  public int floor() {
    return floor;
  }

  public int ceiling() {
    return ceiling;
  }

  public long targetNanos() {
    return targetNanos;
  }

  public long intervalNanos() {
    return intervalNanos;
  }
}
