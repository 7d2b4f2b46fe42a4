package io.shardkit.tx;

import io.shardkit.context.ShardkitException;

/**
 * The coordinator lost track of the outcome: the connection to the single enlisted shard broke
 * during its one-phase commit, or the commit decision could not be written nor read back. The
 * transaction is atomic all the same: with several shards the coordinator log decides (committed if
 * it holds a COMMIT row for {@link #globalId()}, otherwise recovery rolls every branch back); with
 * one shard, that shard's local commit did or did not happen. Callers that must know re-read their
 * data, or ask {@link Transactions#decision(String)}.
 */
public class TransactionOutcomeUnknownException extends ShardkitException {

  private static final long serialVersionUID = 1L;

  private final String globalId;
  private final String phase;

  public TransactionOutcomeUnknownException(String globalId, String phase, Throwable cause) {
    super(
        "transaction "
            + globalId
            + ": outcome unknown after a failure in phase "
            + phase
            + (cause == null ? "" : " (" + cause.getMessage() + ")"),
        cause);
    this.globalId = globalId;
    this.phase = phase;
  }

  public String globalId() {
    return globalId;
  }

  /** The phase that failed ({@code commit} or {@code decide}). */
  public String phase() {
    return phase;
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
  public TransactionOutcomeUnknownException withParticipants(java.util.List<Participant> joined) {
    this.participants = java.util.List.copyOf(joined);
    return this;
  }
}
