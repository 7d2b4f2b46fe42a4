package io.shardkit.benchmarks;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * Keeps {@code size} asynchronous operations in flight on one Vert.x event loop, so concurrency
 * costs no threads: this is how the Vert.x benchmarks measure "N in flight".
 *
 * <p>The window starts {@code size} operations on its context; each completion starts the next one
 * (on the event loop, never blocking it) and releases one permit. The JMH thread calls {@link
 * #take()} once per benchmark invocation, which waits for one completion: the JMH score (ops/s) is
 * completed operations per second at a constant {@code size} in flight. A failed operation counts
 * as completed and is reported at the end; a long run of failures stops the benchmark so that a
 * broken setup is not measured as "fast".
 */
final class Window {

  private static final int MAX_CONSECUTIVE_FAILURES = 100;

  private final String name;
  private final int size;
  private final Context context;
  private final Supplier<Future<?>> operation;
  private final Semaphore completions = new Semaphore(0);
  private final AtomicBoolean running = new AtomicBoolean();
  private final AtomicInteger inFlight = new AtomicInteger();
  private final AtomicLong completed = new AtomicLong();
  private final AtomicLong failed = new AtomicLong();
  private final AtomicInteger consecutiveFailures = new AtomicInteger();
  private volatile Throwable lastFailure;

  Window(String name, int size, Vertx vertx, Supplier<Future<?>> operation) {
    if (size < 1) {
      throw new IllegalArgumentException("window size must be at least 1: " + size);
    }
    this.name = name;
    this.size = size;
    this.context = vertx.getOrCreateContext();
    this.operation = operation;
  }

  /** Starts {@code size} operations; idempotent. */
  Window start() {
    if (running.compareAndSet(false, true)) {
      context.runOnContext(
          v -> {
            for (int i = 0; i < size; i++) {
              launch();
            }
          });
    }
    return this;
  }

  private void launch() {
    if (!running.get()) {
      return;
    }
    inFlight.incrementAndGet();
    Future<?> future;
    try {
      future = operation.get();
    } catch (RuntimeException e) {
      future = Future.failedFuture(e);
    }
    future.onComplete(
        ar -> {
          inFlight.decrementAndGet();
          completed.incrementAndGet();
          if (ar.failed()) {
            failed.incrementAndGet();
            lastFailure = ar.cause();
            consecutiveFailures.incrementAndGet();
          } else {
            consecutiveFailures.set(0);
          }
          completions.release();
          if (consecutiveFailures.get() <= MAX_CONSECUTIVE_FAILURES) {
            launch();
          }
        });
  }

  /** Waits for one operation to complete (one JMH operation). */
  void take() throws InterruptedException {
    if (!completions.tryAcquire(30, TimeUnit.SECONDS)) {
      throw new IllegalStateException(name + ": nothing completed within 30 s");
    }
    if (consecutiveFailures.get() > MAX_CONSECUTIVE_FAILURES) {
      throw new IllegalStateException(
          name + ": " + consecutiveFailures.get() + " failures in a row", lastFailure);
    }
  }

  /** Stops launching, waits (bounded) for the operations in flight, and prints the tally. */
  void stop() throws InterruptedException {
    running.set(false);
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (inFlight.get() > 0 && System.nanoTime() < end) {
      completions.tryAcquire(50, TimeUnit.MILLISECONDS);
    }
    System.out.printf(
        "%n%s (%d in flight): %d completed, %d failed%s%n",
        name,
        size,
        completed.get(),
        failed.get(),
        lastFailure == null ? "" : " (last: " + lastFailure + ")");
  }
}
