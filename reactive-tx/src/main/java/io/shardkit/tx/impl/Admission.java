package io.shardkit.tx.impl;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Admission control of one coordinator (XA; or TCC and Saga together): at most {@code limit}
 * transactions between their admission and the end of their foreground work (the caller's answer
 * and the second phase it waits for). A newcomer beyond the limit is refused at once, before any
 * log write or connection, so that the steps of admitted transactions never wait behind newcomers'
 * first steps.
 */
public final class Admission {

  private final int limit;
  private final AtomicInteger inFlight = new AtomicInteger();

  /**
   * Counts in the gauge {@code shardkit.tx.in_flight} tagged {@code mode}; {@code what} is the
   * gauge's description.
   */
  public Admission(int limit, MeterRegistry registry, String mode, String what) {
    this.limit = limit;
    Gauge.builder("shardkit.tx.in_flight", inFlight, AtomicInteger::get)
        .description(what)
        .tag("mode", mode)
        .register(registry);
  }

  /** Admits one transaction; false (nothing taken) when the limit is reached. */
  public boolean tryAcquire() {
    while (true) {
      int now = inFlight.get();
      if (now >= limit) {
        return false;
      }
      if (inFlight.compareAndSet(now, now + 1)) {
        return true;
      }
    }
  }

  /** Releases one admission once {@code done} completes, whatever its outcome. */
  public <T> Future<T> releaseWhen(Future<T> done) {
    return done.andThen(ar -> inFlight.decrementAndGet());
  }

  /** Releases one admission now (the admitted transaction could not even start). */
  public void release() {
    inFlight.decrementAndGet();
  }

  public int limit() {
    return limit;
  }

  public int inFlight() {
    return inFlight.get();
  }
}
