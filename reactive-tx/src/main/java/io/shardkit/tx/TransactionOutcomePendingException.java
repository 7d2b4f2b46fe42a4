package io.shardkit.tx;

import io.shardkit.context.ShardkitException;
import java.util.List;

/**
 * The outcome is decided and durable, but some branches have not applied it yet: recovery will
 * finish them. For a COMMIT decision the transaction <em>is</em> committed, only not visible
 * everywhere yet; callers must not retry it as if it had failed.
 */
public class TransactionOutcomePendingException extends ShardkitException {

  private static final long serialVersionUID = 1L;

  /** The durable decision. */
  public enum Decision {
    COMMIT,
    ROLLBACK
  }

  private final String globalId;
  private final Decision decision;
  private final List<String> pendingBranches;

  public TransactionOutcomePendingException(
      String globalId, Decision decision, List<String> pendingBranches, Throwable cause) {
    super(
        "transaction "
            + globalId
            + " decided "
            + decision
            + "; still to be finished by recovery on "
            + pendingBranches,
        cause);
    this.globalId = globalId;
    this.decision = decision;
    this.pendingBranches = List.copyOf(pendingBranches);
  }

  /** For subclasses that say more than "pending". */
  protected TransactionOutcomePendingException(
      String message, String globalId, Decision decision, Throwable cause) {
    super(message, cause);
    this.globalId = globalId;
    this.decision = decision;
    this.pendingBranches = List.of();
  }

  public String globalId() {
    return globalId;
  }

  public Decision decision() {
    return decision;
  }

  /** Data sources (XA) or branches (TCC) that have not applied the decision yet. */
  public List<String> pendingBranches() {
    return pendingBranches;
  }

  private transient java.util.List<Participant> participants = java.util.List.of();

  /**
   * The participants of the XA transaction as they joined (protocol, data source, branch id,
   * isolation level, time joined); empty for TCC and Saga.
   */
  public java.util.List<Participant> participants() {
    return participants;
  }

  /** Set by the XA coordinator when it builds this outcome; returns this. */
  public TransactionOutcomePendingException withParticipants(java.util.List<Participant> joined) {
    this.participants = java.util.List.copyOf(joined);
    return this;
  }
}
