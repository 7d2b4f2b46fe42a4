package io.shardkit.tx;

import io.shardkit.context.ShardkitException;
import java.util.Map;

/**
 * The global transaction was rolled back (XA) or cancelled (TCC, Saga): no shard keeps any of its
 * effects. {@link #phase()} says where it failed (e.g. {@code execute}, {@code prepare}, {@code
 * try}) and {@link #causes()} what each shard (or branch) reported; the first cause is also the
 * exception's cause.
 *
 * <p>When the transaction was rolled back because the caller's own work failed (its body, or a
 * try/action it awaited), the caller's future fails with <em>that</em> failure, as {@code
 * Pool.withTransaction} does, and this exception is attached to it as a suppressed exception:
 * {@link #of(Throwable)} finds it (global id, phase, causes).
 */
public class TransactionRolledBackException extends ShardkitException {

  private static final long serialVersionUID = 1L;

  private final String globalId;
  private final String phase;
  private final transient Map<String, Throwable> causes;

  public TransactionRolledBackException(
      String globalId, String phase, Map<String, Throwable> causes, String message) {
    super(
        "transaction " + globalId + " rolled back in phase " + phase + ": " + message,
        causes.isEmpty() ? null : causes.values().iterator().next());
    this.globalId = globalId;
    this.phase = phase;
    this.causes = Map.copyOf(causes);
  }

  /**
   * shardkit's details of a rolled-back transaction: {@code failure} itself when it is this type,
   * else the one attached to it (suppressed), else empty (the failure is no rollback outcome).
   */
  public static java.util.Optional<TransactionRolledBackException> of(Throwable failure) {
    if (failure instanceof TransactionRolledBackException typed) {
      return java.util.Optional.of(typed);
    }
    if (failure != null) {
      for (Throwable attached : failure.getSuppressed()) {
        if (attached instanceof TransactionRolledBackException details) {
          return java.util.Optional.of(details);
        }
      }
    }
    return java.util.Optional.empty();
  }

  public String globalId() {
    return globalId;
  }

  /** The phase that failed. */
  public String phase() {
    return phase;
  }

  /** What failed, keyed by data source (XA) or branch (TCC). */
  public Map<String, Throwable> causes() {
    return causes;
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
  public TransactionRolledBackException withParticipants(java.util.List<Participant> joined) {
    this.participants = java.util.List.copyOf(joined);
    return this;
  }
}
