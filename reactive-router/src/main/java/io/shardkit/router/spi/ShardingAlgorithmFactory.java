package io.shardkit.router.spi;

import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * Creates {@link ShardingAlgorithm}s of one type name (as used in the rule JSON {@code "algorithm":
 * {"type": ...}}). Register a factory with {@code ShardingRules.builder().algorithmType(factory)}
 * or through {@code java.util.ServiceLoader}
 * (META-INF/services/io.shardkit.router.spi.ShardingAlgorithmFactory).
 */
public interface ShardingAlgorithmFactory {

  /** The type name, e.g. {@code "mod"}. Names are compared case-insensitively. */
  String type();

  /**
   * Creates an algorithm for one strategy. Invalid properties must be rejected here with an {@link
   * IllegalArgumentException} naming the property and value (the rules builder turns it into a
   * {@code ShardingConfigurationException} with the field path).
   */
  ShardingAlgorithm create(Context context);

  /**
   * What the algorithm is created for.
   *
   * @param columns the strategy's sharding columns (lower case), empty for hint-only strategies
   * @param targets the targets it chooses from: data source names or actual table names, in the
   *     order of the table's data nodes
   * @param props the algorithm's properties from the rule ({@code "props"}), never null
   */
  record Context(List<String> columns, List<String> targets, JsonObject props) {}
}
