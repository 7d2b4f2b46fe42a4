package io.shardkit.tx.redis;

/**
 * A Redis command got no answer in time (the server is down, paused or slow). The command may still
 * run later on the server: fenced phases and idempotent effects make that harmless, and the
 * coordinator (or the outbox relay) retries.
 */
public class RedisTimeoutException extends RedisUnavailableException {

  private static final long serialVersionUID = 1L;

  public RedisTimeoutException(String source, String message) {
    super(source, message);
  }
}
