package io.shardkit.tx.impl;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * The one recovery service of an application instance ({@code Transactions.startRecovery()}): a
 * single timer drives every protocol's pass, each at its own period, a pass never overlapping
 * itself, all stopped together.
 *
 * <ul>
 *   <li>the log pass claims due rows of the coordinator log (TCC and Saga transactions whose
 *       coordinator died, gave up or missed its deadline) under a per-row lease and drives them;
 *   <li>the XA pass scans {@code XA RECOVER} on each data source under a per-data-source lease and
 *       finishes the prepared branches as the log's decisions say (an XA branch has no row until it
 *       is decided, so its work is found on the shards, not in the log).
 * </ul>
 *
 * Both leases only keep instances from doing the same work at once; safety never depends on them
 * (every action is idempotent: fenced phases, decisions inserted only if absent).
 */
final class RecoveryService {

  private static final System.Logger LOG = System.getLogger(RecoveryService.class.getName());

  /** One protocol's pass. */
  private static final class Pass {
    final String name;
    final Supplier<Future<?>> run;
    final long periodNanos;
    long lastStart;
    Future<?> running;

    Pass(String name, Supplier<Future<?>> run, Duration period) {
      this.name = name;
      this.run = run;
      this.periodNanos = period.toNanos();
    }
  }

  private final Vertx vertx;
  private final List<Pass> passes = new ArrayList<>();
  private long tickMillis = Long.MAX_VALUE;
  private boolean started;
  private long timer = -1;

  RecoveryService(Vertx vertx) {
    this.vertx = vertx;
  }

  /** Adds a protocol's pass, run every {@code period} once started (before {@link #start()}). */
  synchronized RecoveryService pass(String name, Supplier<Future<?>> run, Duration period) {
    passes.add(new Pass(name, run, period));
    tickMillis = Math.max(1, Math.min(tickMillis, period.toMillis()));
    return this;
  }

  /** Runs every pass now, then each at its period; completes when the first passes have ended. */
  synchronized Future<Void> start() {
    if (started) {
      return Future.succeededFuture();
    }
    started = true;
    List<Future<?>> first = new ArrayList<>();
    for (Pass p : passes) {
      first.add(launch(p));
    }
    schedule();
    return Future.join(first).<Void>mapEmpty().otherwiseEmpty();
  }

  private synchronized Future<?> launch(Pass pass) {
    pass.lastStart = System.nanoTime();
    Future<?> run;
    try {
      run = pass.run.get();
    } catch (RuntimeException e) {
      run = Future.failedFuture(e);
    }
    Future<?> ran =
        run.onFailure(e -> LOG.log(System.Logger.Level.DEBUG, pass.name + " pass failed: " + e));
    pass.running = ran;
    return ran;
  }

  private synchronized void schedule() {
    if (!started) {
      return;
    }
    timer =
        vertx.setTimer(
            tickMillis,
            id -> {
              synchronized (this) {
                timer = -1;
                if (!started) {
                  return;
                }
                long now = System.nanoTime();
                for (Pass p : passes) {
                  boolean idle = p.running == null || p.running.isComplete();
                  if (idle && now - p.lastStart >= p.periodNanos) {
                    launch(p);
                  }
                }
              }
              schedule();
            });
  }

  /** Stops the service; completes when the passes in progress have ended. */
  synchronized Future<Void> stop() {
    started = false;
    if (timer >= 0) {
      vertx.cancelTimer(timer);
      timer = -1;
    }
    List<Future<?>> running = new ArrayList<>();
    for (Pass p : passes) {
      if (p.running != null) {
        running.add(p.running);
      }
    }
    return Future.join(running).<Void>mapEmpty().otherwiseEmpty();
  }
}
