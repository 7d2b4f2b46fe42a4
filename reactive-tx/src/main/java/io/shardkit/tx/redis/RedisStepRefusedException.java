package io.shardkit.tx.redis;

import io.shardkit.context.ShardkitException;

/**
 * A step's script refused for a business reason ({@code return redis.error_reply('...')} from the
 * step's Lua body, e.g. not enough stock): nothing was applied and no fence was written; for a try
 * (a saga action) the transaction is cancelled.
 */
public class RedisStepRefusedException extends ShardkitException {

  private static final long serialVersionUID = 1L;

  private final String step;
  private final String source;
  private final String reason;

  public RedisStepRefusedException(
      String globalId, String step, String phase, String source, String reason) {
    super(
        "transaction "
            + globalId
            + ": "
            + phase
            + " of redis step "
            + step
            + " on redis source "
            + source
            + " refused: "
            + reason);
    this.step = step;
    this.source = source;
    this.reason = reason;
  }

  public String step() {
    return step;
  }

  public String source() {
    return source;
  }

  /** The reason the script gave. */
  public String reason() {
    return reason;
  }
}
