package io.shardkit.tx.spi;

import java.time.Duration;

/**
 * Hears what transactions and recovery do: the seam metrics use today and tracing and circuit
 * breaking will use later. Callbacks run on the transaction's event loop: they must be quick and
 * must not block; a throw is logged and ignored.
 *
 * <p>One seam for every protocol: {@code mode} is {@code xa}, {@code tcc} or {@code saga} (phases
 * {@code try}/{@code confirm}/{@code cancel}, {@code action}/{@code compensation} for the latter
 * two; their {@code branches} count is 0, their branches being in the log row). Tags are bounded:
 * mode, phase names, outcomes and data source names; never SQL text or ids (the global id is passed
 * for tracing, not for tags).
 */
public interface TransactionObserver {

  /** How a transaction ended, as its caller saw it. */
  enum Outcome {
    /** Committed everywhere. */
    COMMITTED,
    /** Rolled back everywhere (user failure, statement failure, prepare failure, ABORT won). */
    ROLLED_BACK,
    /** Decided COMMIT, some branch left for recovery. */
    PENDING,
    /** The deadline passed before the decision: rolled back (in the background). */
    TIMED_OUT,
    /** The coordinator lost track; the log (or the single shard) decides. */
    UNKNOWN
  }

  /**
   * A phase ended: {@code execute} (user work), {@code one_phase}, {@code prepare}, {@code decide}
   * (log write), {@code commit}, {@code rollback}.
   */
  default void phaseEnded(String mode, String globalId, String phase, Duration took, boolean ok) {}

  /** A transaction ended with this outcome, having enlisted {@code branches} data sources. */
  default void transactionEnded(String mode, String globalId, Outcome outcome, int branches) {}

  /**
   * Recovery acted on a branch: {@code action} is {@code commit} or {@code rollback}; {@code
   * decidedByRecovery} is true when recovery wrote the ABORT decision itself.
   */
  default void recovered(
      String mode, String dataSource, String action, boolean decidedByRecovery) {}

  /**
   * A recovery pass ended: branches found in doubt (prepared, undecided or decided and not yet
   * finished) and data sources it could not reach.
   */
  default void recoveryPassEnded(String mode, int inDoubt, int unreachable) {}
}
