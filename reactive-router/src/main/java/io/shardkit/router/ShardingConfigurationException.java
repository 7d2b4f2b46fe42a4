package io.shardkit.router;

import io.shardkit.context.ConfigurationException;

/**
 * Invalid sharding rules, data sources or pool configuration, rejected when the rules or the pool
 * are built (never at the first statement, never replaced by a default). The message and {@link
 * #field()} name the offending entry as a path such as {@code tables.t_order.databaseStrategy
 * .column} or {@code dataSources.ds_2}, and the value.
 *
 * <p>It is a {@link ConfigurationException}, so code that catches configuration errors of every
 * shardkit module in one place keeps working; catch this type to single out the router's.
 */
public class ShardingConfigurationException extends ConfigurationException {

  private static final long serialVersionUID = 1L;

  public ShardingConfigurationException(String field, String message) {
    super(field, message);
  }

  public ShardingConfigurationException(String field, String message, Throwable cause) {
    super(field, message, cause);
  }
}
