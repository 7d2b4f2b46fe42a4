package io.shardkit.tx.redis;

import io.shardkit.context.ShardkitException;

/**
 * A step's Lua script failed on the server (a runtime error: wrong type, bad argument, a {@code
 * redis.call} error). The message names the transaction, the step, the phase, the source and Redis'
 * error. The fence was not written, so the phase counts as not run; but a script that wrote before
 * it failed left those writes (Redis does not roll a script back): check before you write.
 */
public class RedisScriptException extends ShardkitException {

  private static final long serialVersionUID = 1L;

  private final String step;
  private final String source;
  private final String phase;

  public RedisScriptException(
      String globalId, String step, String phase, String source, String redisError) {
    super(
        "transaction "
            + globalId
            + ": "
            + phase
            + " of redis step "
            + step
            + " on redis source "
            + source
            + " failed: script error: "
            + redisError);
    this.step = step;
    this.source = source;
    this.phase = phase;
  }

  public String step() {
    return step;
  }

  public String source() {
    return source;
  }

  /** {@code try}, {@code confirm} or {@code cancel} (a saga's action is a try). */
  public String phase() {
    return phase;
  }
}
