package io.shardkit.tx;

import io.shardkit.context.ShardkitException;

/**
 * The coordinator could not learn whether its decision reached the coordinator log (the log's data
 * source failed while the decision was being written). Recovery settles it: if the COMMIT decision
 * is in the log the branches are confirmed, otherwise the transaction is cancelled once its
 * deadline (plus grace) has passed. Callers must not assume either outcome.
 */
public class TccOutcomeUnknownException extends ShardkitException {

  private static final long serialVersionUID = 1L;

  private final String globalId;

  public TccOutcomeUnknownException(String globalId, String message, Throwable cause) {
    super(
        "transaction " + globalId + ": outcome unknown, recovery will settle it: " + message,
        cause);
    this.globalId = globalId;
  }

  public String globalId() {
    return globalId;
  }
}
