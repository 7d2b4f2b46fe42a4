package io.shardkit.tx.pg;

import io.shardkit.context.ShardkitException;

/**
 * A phase of a PostgreSQL step did not commit: its statements failed or refused (the step's
 * function failed its future, e.g. an account is frozen), or PostgreSQL could not be reached or
 * answered an error. The phase's local transaction was rolled back with its fence row, so the phase
 * counts as not run: a try (a saga action) that fails rolls the transaction back; a confirm or
 * cancel is retried (by the coordinator, then by recovery). The cause is the original failure.
 */
public class PgStepFailedException extends ShardkitException {

  private static final long serialVersionUID = 1L;

  private final String globalId;
  private final String step;
  private final String phase;
  private final String source;

  public PgStepFailedException(
      String globalId, String step, String phase, String source, Throwable cause) {
    super(
        "transaction "
            + globalId
            + ": "
            + phase
            + " of pg step "
            + step
            + " on PostgreSQL source "
            + source
            + " failed: "
            + (cause == null ? "" : String.valueOf(cause.getMessage())),
        cause);
    this.globalId = globalId;
    this.step = step;
    this.phase = phase;
    this.source = source;
  }

  public String globalId() {
    return globalId;
  }

  public String step() {
    return step;
  }

  /** try, confirm or cancel. */
  public String phase() {
    return phase;
  }

  public String source() {
    return source;
  }
}
