package io.shardkit.context;

/**
 * Base of every exception shardkit raises. It is unchecked: callers branch on the few subtypes
 * ({@link ShardkitTimeoutException}, {@link ConfigurationException}, and the router's and
 * transaction module's own) and otherwise let it fail the {@code Future}.
 *
 * <p>Messages name the shard, the logical table, the global transaction id and the state where they
 * are known. A driver exception that caused the failure is always kept as the cause.
 */
public class ShardkitException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  public ShardkitException(String message) {
    super(message);
  }

  public ShardkitException(String message, Throwable cause) {
    super(message, cause);
  }
}
