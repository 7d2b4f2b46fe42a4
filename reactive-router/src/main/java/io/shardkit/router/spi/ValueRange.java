package io.shardkit.router.spi;

/**
 * A range of sharding values from {@code BETWEEN}, {@code <}, {@code <=}, {@code >}, {@code >=}. A
 * null bound is unbounded.
 *
 * @param lower the lower bound or null
 * @param lowerInclusive whether the lower bound is included
 * @param upper the upper bound or null
 * @param upperInclusive whether the upper bound is included
 */
public record ValueRange(
    Object lower, boolean lowerInclusive, Object upper, boolean upperInclusive) {

  /** The range {@code lower <= v <= upper}. */
  public static ValueRange closed(Object lower, Object upper) {
    return new ValueRange(lower, true, upper, true);
  }
}
