package io.shardkit.tx;

import io.shardkit.context.ShardkitException;
import java.util.Map;

/**
 * The global transaction was rolled back (XA) or cancelled (TCC): no shard keeps any of its
 * effects. {@link #phase()} says where it failed (e.g. {@code execute}, {@code prepare}, {@code
 * try}) and {@link #causes()} what each shard (or branch) reported; the first cause is also the
 * exception's cause.
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
}
