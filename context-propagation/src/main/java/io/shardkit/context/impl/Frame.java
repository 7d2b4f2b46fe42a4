package io.shardkit.context.impl;

import io.shardkit.context.ShardkitTimeoutException;
import io.shardkit.context.TxContext;
import java.time.Duration;

/**
 * What a Vert.x context knows about the transaction it runs for: the {@link TxContext}, and the
 * {@link ScopeImpl} that owns the context when a scope was opened on it. A context restored from an
 * event-bus or gRPC hop carries an {@link Adopted} frame: the id and deadline are known, but no
 * scope owns the work (it has no end event to close on), so pinning needs a scope opened inside.
 */
abstract class Frame {

  final TxContext tx;
  final long startNanos;
  final long budgetNanos;

  Frame(TxContext tx, long startNanos) {
    this.tx = tx;
    this.startNanos = startNanos;
    this.budgetNanos = tx.deadline().remainingNanos();
  }

  /** The scope owning this context, or null for an adopted context. */
  abstract ScopeImpl owner();

  /** A timeout error naming this frame's global id, how long it ran and the time it had. */
  ShardkitTimeoutException timeout(String operation, Throwable cause) {
    return new ShardkitTimeoutException(
        tx.globalId(),
        Duration.ofNanos(System.nanoTime() - startNanos),
        Duration.ofNanos(budgetNanos),
        operation,
        cause);
  }

  /** A context restored from message headers or gRPC metadata. */
  static final class Adopted extends Frame {

    Adopted(TxContext tx) {
      super(tx, System.nanoTime());
    }

    @Override
    ScopeImpl owner() {
      return null;
    }
  }
}
