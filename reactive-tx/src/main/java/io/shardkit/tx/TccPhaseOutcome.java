package io.shardkit.tx;

/** What a participant did for one phase call, as decided by its fence. */
public enum TccPhaseOutcome {
  /** The phase ran: its fence row and its business statements committed together. */
  APPLIED,
  /** The phase had already run for this branch: nothing was done again. */
  DUPLICATE,
  /**
   * Cancel of a branch whose try never committed: nothing to undo. The fence recorded it, so a try
   * arriving later is refused.
   */
  EMPTY_ROLLBACK
}
