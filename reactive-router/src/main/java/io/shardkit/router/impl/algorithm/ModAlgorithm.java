package io.shardkit.router.impl.algorithm;

import io.shardkit.router.spi.ShardingAlgorithm;
import io.shardkit.router.spi.ShardingAlgorithmFactory;
import io.shardkit.router.spi.ValueRange;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;

/**
 * {@code mod}: the target whose name ends with {@code floorMod(value, count)}; {@code count}
 * defaults to the number of targets. A bounded integer range narrower than {@code count} routes to
 * the targets of its values, any other range to all.
 */
final class ModAlgorithm implements ShardingAlgorithm {

  private final SuffixIndex index;
  private final long count;

  ModAlgorithm(ShardingAlgorithmFactory.Context context) {
    this.index = new SuffixIndex(context.targets());
    this.count =
        context.props().containsKey("count")
            ? positive(context.props().getValue("count"))
            : context.targets().size();
  }

  static long positive(Object value) {
    if (!(value instanceof Number n) || n.longValue() <= 0 || n.doubleValue() != n.longValue()) {
      throw new IllegalArgumentException("count must be a positive integer, got " + value);
    }
    return n.longValue();
  }

  @Override
  public String target(List<?> values) {
    Object value = values.get(0);
    if (ShardingValues.isLong(value)) {
      return index.get(Math.floorMod(((Number) value).longValue(), count));
    }
    // BIGINT UNSIGNED keys from 2^63 on, exact decimals: the mathematical floor modulo
    return index.get(
        ShardingValues.toBigInteger(value).mod(java.math.BigInteger.valueOf(count)).longValue());
  }

  @Override
  public Collection<String> targets(ValueRange range) {
    if (range.lower() == null || range.upper() == null) {
      return null;
    }
    java.math.BigInteger lowerBound =
        ShardingValues.toBigInteger(range.lower())
            .add(java.math.BigInteger.valueOf(range.lowerInclusive() ? 0 : 1));
    java.math.BigInteger upperBound =
        ShardingValues.toBigInteger(range.upper())
            .subtract(java.math.BigInteger.valueOf(range.upperInclusive() ? 0 : 1));
    // width computed without overflow: a range of count or more values reaches every target
    if (upperBound.subtract(lowerBound).compareTo(java.math.BigInteger.valueOf(count - 1)) >= 0) {
      return null;
    }
    if (upperBound.compareTo(lowerBound) < 0) {
      return new LinkedHashSet<>();
    }
    long lower = lowerBound.mod(java.math.BigInteger.valueOf(count)).longValue();
    long upper = lower + upperBound.subtract(lowerBound).longValue();
    Collection<String> targets = new LinkedHashSet<>();
    for (long v = lower; v <= upper; v++) {
      String target = index.get(v % count);
      if (target != null) {
        targets.add(target);
      }
    }
    return targets;
  }

  /** Factory for {@code mod}; public with a no-argument constructor for ServiceLoader. */
  public static final class Factory implements ShardingAlgorithmFactory {
    @Override
    public String type() {
      return "mod";
    }

    @Override
    public ShardingAlgorithm create(Context context) {
      return new ModAlgorithm(context);
    }
  }
}
