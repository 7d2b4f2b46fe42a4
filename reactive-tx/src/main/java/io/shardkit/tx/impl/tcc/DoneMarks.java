package io.shardkit.tx.impl.tcc;

import io.shardkit.context.ScopeOptions;
import io.shardkit.tx.TccOptions;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Marks finished transactions in the coordinator log, batched: one UPDATE in flight at a time,
 * covering every transaction that finished meanwhile. The caller is answered before its mark is
 * written; a lost mark only means recovery repeats the (fenced, idempotent) phases later.
 */
final class DoneMarks {

  private static final System.Logger LOG = System.getLogger(DoneMarks.class.getName());
  private static final int BATCH = 500;

  private final Vertx vertx;
  private final CoordinatorLog log;
  private final TccOptions options;
  private final ConcurrentLinkedQueue<String> queue = new ConcurrentLinkedQueue<>();
  private final AtomicBoolean flushing = new AtomicBoolean();

  DoneMarks(Vertx vertx, CoordinatorLog log, TccOptions options) {
    this.vertx = vertx;
    this.log = log;
    this.options = options;
  }

  void add(String gid) {
    queue.add(gid);
    flush();
  }

  private void flush() {
    if (!flushing.compareAndSet(false, true)) {
      return;
    }
    List<String> batch = new ArrayList<>();
    String gid;
    while (batch.size() < BATCH && (gid = queue.poll()) != null) {
      batch.add(gid);
    }
    if (batch.isEmpty()) {
      flushing.set(false);
      if (!queue.isEmpty()) {
        flush();
      }
      return;
    }
    Detached.run(vertx, ScopeOptions.ofTimeout(options.phaseTimeout()), () -> log.markDone(batch))
        .onComplete(
            outcome -> {
              if (outcome.failed()) {
                LOG.log(
                    System.Logger.Level.DEBUG,
                    "could not mark "
                        + batch.size()
                        + " TCC transactions finished; recovery will: "
                        + outcome.cause());
              }
              flushing.set(false);
              if (!queue.isEmpty()) {
                flush();
              }
            });
  }
}
