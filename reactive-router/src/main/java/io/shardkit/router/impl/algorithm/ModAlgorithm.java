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
    return index.get(Math.floorMod(ShardingValues.toLong(values.get(0)), count));
  }

  @Override
  public Collection<String> targets(ValueRange range) {
    if (range.lower() == null || range.upper() == null) {
      return null;
    }
    long lower = ShardingValues.toLong(range.lower()) + (range.lowerInclusive() ? 0 : 1);
    long upper = ShardingValues.toLong(range.upper()) - (range.upperInclusive() ? 0 : 1);
    if (upper - lower + 1 >= count) {
      return null;
    }
    Collection<String> targets = new LinkedHashSet<>();
    for (long v = lower; v <= upper; v++) {
      String target = index.get(Math.floorMod(v, count));
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
