package io.shardkit.tx;

import io.shardkit.context.ShardkitException;

/**
 * A try arrived for a branch that had already been cancelled (the cancel found no try and recorded
 * an empty rollback): it was refused and reserved nothing. This is the anti-hanging rule of TCC;
 * the global transaction is being, or has been, cancelled.
 */
public class TccTryRefusedException extends ShardkitException {

  private static final long serialVersionUID = 1L;

  private final String globalId;
  private final String branchId;

  public TccTryRefusedException(String globalId, String branchId, String action, String where) {
    super(
        "transaction "
            + globalId
            + ": try of branch "
            + branchId
            + " ("
            + action
            + ") on "
            + where
            + " refused: the branch was already cancelled");
    this.globalId = globalId;
    this.branchId = branchId;
  }

  public String globalId() {
    return globalId;
  }

  public String branchId() {
    return branchId;
  }
}
