package io.shardkit.router.spi;

import java.util.Collection;
import java.util.List;

/**
 * Maps sharding values to targets. A target is a data source name (database strategy) or an actual
 * table name (table strategy); an algorithm instance is created by its {@link
 * ShardingAlgorithmFactory} for one strategy, knowing that strategy's columns and targets.
 *
 * <p>Implementations are pure functions of their arguments (no I/O, no clock, no shared mutable
 * state): the router calls them on the event loop for every routed statement and caches nothing.
 */
public interface ShardingAlgorithm {

  /**
   * The one target that holds the row whose sharding columns have these values.
   *
   * @param values one value per strategy column, in the strategy's column order; values are what
   *     the driver would send (Long, Integer, String, BigDecimal, LocalDate, LocalDateTime, ...)
   * @return a target from the strategy's targets, or {@code null} when no target can hold it
   * @throws IllegalArgumentException when a value has a type or range the algorithm cannot map; the
   *     router turns it into an {@code UnsupportedSqlException} naming the table and column
   */
  String target(List<?> values);

  /**
   * The targets that can hold rows whose (single) sharding column lies in the range. The default
   * returns {@code null}, which means every target (right for hashing algorithms).
   */
  default Collection<String> targets(ValueRange range) {
    return null;
  }
}
