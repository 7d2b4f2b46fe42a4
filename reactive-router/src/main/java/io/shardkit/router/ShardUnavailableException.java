package io.shardkit.router;

import io.shardkit.context.ShardkitException;

/**
 * A shard (data source) could not be reached: the connection failed or was refused (later also: its
 * circuit breaker is open). The driver's exception is the cause. Other shards of the same statement
 * may have executed: for writes across shards use a transaction (reactive-tx).
 */
public class ShardUnavailableException extends ShardkitException {

  private static final long serialVersionUID = 1L;

  private final String dataSource;

  public ShardUnavailableException(String dataSource, Throwable cause) {
    super("data source " + dataSource + " is unavailable: " + cause.getMessage(), cause);
    this.dataSource = dataSource;
  }

  /** The name of the data source that could not be reached. */
  public String dataSource() {
    return dataSource;
  }
}
