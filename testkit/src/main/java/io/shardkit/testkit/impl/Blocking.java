package io.shardkit.testkit.impl;

import io.shardkit.testkit.TestShardsException;
import io.vertx.core.Context;
import io.vertx.core.Future;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Waits for a Future from test code. The testkit's admin helpers are blocking on purpose (tests
 * read them top to bottom); calling them on an event loop would freeze it, so that is refused.
 */
public final class Blocking {

  private Blocking() {}

  public static <T> T await(Future<T> future, Duration timeout, String what) {
    if (Context.isOnEventLoopThread()) {
      throw new IllegalStateException(
          "testkit: " + what + " blocks and must not be called on a Vert.x event loop");
    }
    CountDownLatch done = new CountDownLatch(1);
    AtomicReference<T> value = new AtomicReference<>();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    future.onComplete(
        ar -> {
          if (ar.succeeded()) {
            value.set(ar.result());
          } else {
            failure.set(ar.cause());
          }
          done.countDown();
        });
    try {
      if (!done.await(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        throw new TestShardsException("testkit: " + what + " did not finish within " + timeout);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new TestShardsException("testkit: interrupted while waiting for " + what, e);
    }
    Throwable cause = failure.get();
    if (cause != null) {
      throw new TestShardsException("testkit: " + what + " failed: " + cause.getMessage(), cause);
    }
    return value.get();
  }

  /** Sleeps in test infrastructure (polling a starting server); never used on an event loop. */
  static void pause(long millis) {
    try {
      TimeUnit.MILLISECONDS.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new TestShardsException("testkit: interrupted", e);
    }
  }
}
