package io.shardkit.tx.redis;

import io.shardkit.context.ShardkitException;

/**
 * A Redis command got no answer in time (the server is down, paused or slow). The command may still
 * run later on the server: fenced phases and idempotent effects make that harmless, and the
 * coordinator (or the outbox relay) retries.
 */
public class RedisTimeoutException extends ShardkitException {

  private static final long serialVersionUID = 1L;

  private final String source;

  public RedisTimeoutException(String source, String message) {
    super(message);
    this.source = source;
  }

  /** The Redis source name. */
  public String source() {
    return source;
  }
}
