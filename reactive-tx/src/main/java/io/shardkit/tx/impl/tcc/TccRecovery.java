package io.shardkit.tx.impl.tcc;

import io.vertx.core.Future;

/**
 * Finishes TCC transactions that their coordinator left mid-way (crash, retries exhausted, a
 * transaction that never decided): obtained from {@link TccCoordinator#recovery()}.
 *
 * <p>Each round claims up to {@link TccOptions#recoveryBatchSize()} due transactions from the
 * coordinator log with {@code SELECT ... FOR UPDATE SKIP LOCKED} and gives itself a lease ({@link
 * TccOptions#recoveryLease()}) on them in the same local transaction, so any number of application
 * instances may run recovery at once: a transaction is driven by one instance at a time, and if
 * that instance dies its lease runs out and another takes over. A claimed transaction with no
 * decision whose deadline plus {@link TccOptions#recoveryGrace()} has passed gets the CANCEL
 * decision (compare-and-set, so a slow coordinator cannot commit it afterwards); then every branch
 * is confirmed or cancelled according to the decision. Fences make repeating a phase harmless.
 *
 * <p>Branches are driven by the participants registered on the coordinator: register the same
 * actions (and remote participants) in every instance that runs recovery.
 */
public interface TccRecovery {

  /** Runs one round now (plus the periodic clean-up, when due). */
  Future<TccRecoveryReport> runOnce();

  /**
   * Runs a round now and then every {@link TccOptions#recoveryInterval()} until {@link #stop()}.
   * Rounds never overlap.
   */
  TccRecovery start();

  /** Stops the periodic rounds; completes when a round in progress has finished. */
  Future<Void> stop();
}
