package io.shardkit.router;

import io.shardkit.router.spi.ShardingAlgorithm;
import java.util.List;

/**
 * How one level (database or table) of a logical table is sharded: the sharding columns and the
 * algorithm that maps their values to targets (data sources or actual tables).
 *
 * @param columns the sharding columns, lower case; one for standard strategies, several for a
 *     complex strategy, none for a hint-only strategy (values come from the routing hint)
 * @param algorithmType the algorithm's type name, as configured
 * @param algorithm the algorithm instance created for this strategy
 */
public record ShardingStrategy(
    List<String> columns, String algorithmType, ShardingAlgorithm algorithm) {

  public ShardingStrategy {
    columns = List.copyOf(columns);
  }

  /** Whether this strategy routes on exactly one column. */
  public boolean isSingleColumn() {
    return columns.size() == 1;
  }
}
