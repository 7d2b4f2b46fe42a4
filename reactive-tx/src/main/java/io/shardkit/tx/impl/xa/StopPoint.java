package io.shardkit.tx.impl.xa;

/** Where a test makes the coordinator abandon its transaction, as if its process had died. */
public enum StopPoint {
  NONE,
  /** Every branch prepared, no decision written. */
  AFTER_PREPARE,
  /** COMMIT durable, no {@code XA COMMIT} sent. */
  AFTER_DECISION,
  /** COMMIT durable, the first branch committed, the others not. */
  AFTER_ONE_COMMIT
}
