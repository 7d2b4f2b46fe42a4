package io.shardkit.tx.impl.xa;

import io.vertx.core.Future;

/**
 * Finishes XA branches that their coordinator left prepared: commits those whose decision is
 * COMMIT, and rolls back those without a decision once their deadline plus the grace has passed
 * (after writing an ABORT decision, so a late coordinator can no longer commit them). Prunes
 * finished decision rows. Any number of app instances may run it at once: each pass over a data
 * source is taken under a database lease, so two instances never act on the same branch.
 */
public interface XaRecovery {

  /** Runs a pass now, then every {@code recoveryInterval}; completes when the first pass ends. */
  Future<Void> start();

  /** Stops the periodic passes; completes when a pass in progress has ended. */
  Future<Void> stop();

  /** Runs one pass (also while started); never fails for an unreachable shard, reports it. */
  Future<RecoveryReport> runOnce();
}
