package io.shardkit.router;

import io.shardkit.context.ShardkitException;

/**
 * A shard (data source) could not be reached: the connection failed or was refused, or its circuit
 * breaker is open ({@link ShardCircuitOpenException}, failed before any I/O). The driver's
 * exception, when there is one, is the cause. Other shards of the same statement may have executed
 * when the connection failed mid-way: for writes across shards use a transaction (reactive-tx).
 */
public class ShardUnavailableException extends ShardkitException {

  private static final long serialVersionUID = 1L;

  private final String dataSource;

  public ShardUnavailableException(String dataSource, Throwable cause) {
    super("data source " + dataSource + " is unavailable: " + cause.getMessage(), cause);
    this.dataSource = dataSource;
  }

  /** For subtypes: a message of their own, the cause may be null. */
  protected ShardUnavailableException(String dataSource, String message, Throwable cause) {
    super(message, cause);
    this.dataSource = dataSource;
  }

  /** The name of the data source that could not be reached. */
  public String dataSource() {
    return dataSource;
  }
}
