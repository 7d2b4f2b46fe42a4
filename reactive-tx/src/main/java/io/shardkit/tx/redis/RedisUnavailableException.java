package io.shardkit.tx.redis;

import io.shardkit.context.ShardkitException;

/**
 * A Redis source could not do the work now: it is loading its data after a restart ({@code
 * LOADING}), busy with a long script ({@code BUSY}), read-only, or failing to persist ({@code
 * MISCONF}). Nothing was applied; the coordinator (or the outbox relay) retries.
 */
public class RedisUnavailableException extends ShardkitException {

  private static final long serialVersionUID = 1L;

  private final String source;

  public RedisUnavailableException(String source, String message) {
    super(message);
    this.source = source;
  }

  /** The Redis source name. */
  public String source() {
    return source;
  }
}
