package io.shardkit.tx.impl;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.function.Supplier;

/**
 * The statements sent on one connection and not yet answered: how many, and a future of the moment
 * none is left ({@link #idle}), which a kill at the deadline waits for before it gives the
 * connection back (or, if they go on, ends the session).
 */
public final class InFlight {

  private int count;
  private Promise<Void> idle;

  /** Counts {@code sent} in flight until it completes; returns its future. */
  public <T> Future<T> track(Supplier<Future<T>> sent) {
    synchronized (this) {
      count++;
    }
    Future<T> f;
    try {
      f = sent.get();
    } catch (RuntimeException e) {
      f = Future.failedFuture(e);
    }
    f.onComplete(ar -> done());
    return f;
  }

  private void done() {
    Promise<Void> quiet = null;
    synchronized (this) {
      if (--count == 0) {
        quiet = idle;
        idle = null;
      }
    }
    if (quiet != null) {
      quiet.tryComplete();
    }
  }

  /** Whether a statement is in flight. */
  public synchronized boolean busy() {
    return count > 0;
  }

  /** Completes once no statement is in flight (at once if none is). */
  public synchronized Future<Void> idle() {
    if (count == 0) {
      return Future.succeededFuture();
    }
    if (idle == null) {
      idle = Promise.promise();
    }
    return idle.future();
  }
}
