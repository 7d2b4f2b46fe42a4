package io.shardkit.router.impl.algorithm;

import io.shardkit.router.spi.ShardingAlgorithm;
import io.shardkit.router.spi.ShardingAlgorithmFactory;
import io.shardkit.router.spi.ValueRange;
import io.vertx.core.json.JsonArray;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * {@code range}: props {@code {"boundaries": [b1, b2, ...]}} (ascending integers) split the values
 * into partitions {@code (-inf, b1)}, {@code [b1, b2)}, ..., {@code [bn, +inf)}, numbered 0..n; a
 * value goes to the target whose name ends with its partition number. A range of values goes to
 * every partition it overlaps.
 */
final class RangeAlgorithm implements ShardingAlgorithm {

  private final SuffixIndex index;
  private final long[] boundaries;

  RangeAlgorithm(ShardingAlgorithmFactory.Context context) {
    this.index = new SuffixIndex(context.targets());
    Object raw = context.props().getValue("boundaries");
    if (!(raw instanceof JsonArray array) || array.isEmpty()) {
      throw new IllegalArgumentException(
          "boundaries must be a non-empty array of ascending integers, got " + raw);
    }
    boundaries = new long[array.size()];
    for (int i = 0; i < array.size(); i++) {
      Object b = array.getValue(i);
      if (!(b instanceof Number n) || n.doubleValue() != n.longValue()) {
        throw new IllegalArgumentException("boundaries[" + i + "] must be an integer, got " + b);
      }
      boundaries[i] = n.longValue();
      if (i > 0 && boundaries[i] <= boundaries[i - 1]) {
        throw new IllegalArgumentException("boundaries must ascend, got " + array);
      }
    }
    for (int p = 0; p <= boundaries.length; p++) {
      if (index.get(p) == null) {
        throw new IllegalArgumentException(
            "no target ends with partition number " + p + " (targets " + context.targets() + ")");
      }
    }
  }

  private int partition(long value) {
    int p = 0;
    while (p < boundaries.length && value >= boundaries[p]) {
      p++;
    }
    return p;
  }

  private int partition(java.math.BigInteger value) {
    if (value.bitLength() <= 63) {
      return partition(value.longValue());
    }
    return value.signum() < 0 ? 0 : boundaries.length;
  }

  @Override
  public String target(List<?> values) {
    Object value = values.get(0);
    return index.get(
        ShardingValues.isLong(value)
            ? partition(((Number) value).longValue())
            : partition(ShardingValues.toBigInteger(value)));
  }

  @Override
  public Collection<String> targets(ValueRange range) {
    int from = 0;
    int to = boundaries.length;
    if (range.lower() != null) {
      from =
          partition(
              ShardingValues.toBigInteger(range.lower())
                  .add(java.math.BigInteger.valueOf(range.lowerInclusive() ? 0 : 1)));
    }
    if (range.upper() != null) {
      to =
          partition(
              ShardingValues.toBigInteger(range.upper())
                  .subtract(java.math.BigInteger.valueOf(range.upperInclusive() ? 0 : 1)));
    }
    List<String> targets = new ArrayList<>();
    for (int p = from; p <= to; p++) {
      targets.add(index.get(p));
    }
    return targets;
  }

  /** Factory for {@code range}. */
  public static final class Factory implements ShardingAlgorithmFactory {
    @Override
    public String type() {
      return "range";
    }

    @Override
    public ShardingAlgorithm create(Context context) {
      return new RangeAlgorithm(context);
    }
  }
}
