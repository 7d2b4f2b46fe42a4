package io.shardkit.tx.impl.tcc;

import io.shardkit.context.ScopeOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.internal.ContextInternal;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Batches one kind of coordinator-log write across concurrent transactions: what is submitted while
 * {@code maxInFlight} batches are being written goes, up to {@code maxBatch} at a time, into the
 * next one, one statement for all of them (the XA decision log does the same with its COMMIT rows).
 * Under load that turns one statement and one commit per transaction into one per batch; an idle
 * coordinator writes each at once, as before.
 *
 * <p>The writer answers, per global id of the batch, the state the transaction ends up with, or a
 * failure; a global id it leaves out fails with the batch's failure. Each batch runs in its own
 * detached scope of {@code timeout} (it serves several transactions); each caller's future
 * completes on the caller's context (its scope goes on with the answer).
 */
final class LogBatcher<I> {

  /** One transaction's part of a batch. */
  record Item<I>(String gid, I value) {}

  /** A transaction's outcome in a batch: its state, or why its write failed. */
  record Outcome(Integer state, Throwable failure) {
    static Outcome of(int state) {
      return new Outcome(state, null);
    }

    static Outcome failed(Throwable failure) {
      return new Outcome(null, failure);
    }
  }

  private record Pending<I>(Item<I> item, Promise<Integer> promise) {}

  private final Vertx vertx;
  private final int maxInFlight;
  private final int maxBatch;
  private final Duration timeout;
  private final Function<List<Item<I>>, Future<Map<String, Outcome>>> writer;
  private final ArrayDeque<Pending<I>> queue = new ArrayDeque<>();
  private int inFlight;

  LogBatcher(
      Vertx vertx,
      int maxInFlight,
      int maxBatch,
      Duration timeout,
      Function<List<Item<I>>, Future<Map<String, Outcome>>> writer) {
    this.vertx = vertx;
    this.maxInFlight = maxInFlight;
    this.maxBatch = maxBatch;
    this.timeout = timeout;
    this.writer = writer;
  }

  /** Queues a transaction's write; completes (on the caller's context) with its state. */
  Future<Integer> submit(String gid, I value) {
    io.vertx.core.Context current = Vertx.currentContext();
    ContextInternal context =
        (ContextInternal) (current != null ? current : vertx.getOrCreateContext());
    Promise<Integer> promise = context.promise();
    synchronized (this) {
      queue.add(new Pending<>(new Item<>(gid, value), promise));
    }
    drain();
    return promise.future();
  }

  private void drain() {
    List<Pending<I>> batch;
    synchronized (this) {
      if (queue.isEmpty() || inFlight >= maxInFlight) {
        return;
      }
      inFlight++;
      batch = new ArrayList<>(Math.min(queue.size(), maxBatch));
      while (!queue.isEmpty() && batch.size() < maxBatch) {
        batch.add(queue.poll());
      }
    }
    List<Item<I>> items = new ArrayList<>(batch.size());
    for (Pending<I> p : batch) {
      items.add(p.item());
    }
    Detached.run(vertx, ScopeOptions.ofTimeout(timeout), () -> writer.apply(items))
        .onComplete(
            written -> {
              synchronized (this) {
                inFlight--;
              }
              for (Pending<I> p : batch) {
                Outcome outcome = written.succeeded() ? written.result().get(p.item().gid()) : null;
                if (outcome == null) {
                  p.promise()
                      .tryFail(
                          written.failed()
                              ? written.cause()
                              : new IllegalStateException(
                                  "no outcome for " + p.item().gid() + " in its log batch"));
                } else if (outcome.failure() != null) {
                  p.promise().tryFail(outcome.failure());
                } else {
                  p.promise().tryComplete(outcome.state());
                }
              }
              drain();
            });
  }
}
