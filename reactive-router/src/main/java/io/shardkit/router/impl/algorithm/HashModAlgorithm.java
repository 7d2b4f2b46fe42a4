package io.shardkit.router.impl.algorithm;

import io.shardkit.router.spi.ShardingAlgorithm;
import io.shardkit.router.spi.ShardingAlgorithmFactory;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code hash-mod}: the target whose name ends with {@code CRC32(canonical(value)) mod count}, the
 * CRC-32 of the UTF-8 bytes of the value's canonical text (see {@link ShardingValues#canonical}),
 * read as an unsigned 32-bit number. It equals MySQL's {@code CRC32(value) % count} for integers
 * and strings, so placement can be checked in SQL. With several columns ({@code complex-hash-mod})
 * the canonical texts are joined with {@code '|'}. Ranges route to all targets.
 */
final class HashModAlgorithm implements ShardingAlgorithm {

  private final SuffixIndex index;
  private final long count;

  HashModAlgorithm(ShardingAlgorithmFactory.Context context) {
    this.index = new SuffixIndex(context.targets());
    this.count =
        context.props().containsKey("count")
            ? ModAlgorithm.positive(context.props().getValue("count"))
            : context.targets().size();
  }

  @Override
  public String target(List<?> values) {
    String text;
    if (values.size() == 1) {
      text = ShardingValues.canonical(values.get(0));
    } else {
      List<String> parts = new ArrayList<>(values.size());
      for (Object v : values) {
        parts.add(ShardingValues.canonical(v));
      }
      text = String.join("|", parts);
    }
    return index.get(ShardingValues.crc32(text) % count);
  }

  /** Factory for {@code hash-mod}. */
  public static final class Factory implements ShardingAlgorithmFactory {
    @Override
    public String type() {
      return "hash-mod";
    }

    @Override
    public ShardingAlgorithm create(Context context) {
      if (context.columns().size() > 1) {
        throw new IllegalArgumentException(
            "hash-mod takes one column; use complex-hash-mod for " + context.columns());
      }
      return new HashModAlgorithm(context);
    }
  }

  /** Factory for {@code complex-hash-mod} (several columns, all needed to route exactly). */
  public static final class ComplexFactory implements ShardingAlgorithmFactory {
    @Override
    public String type() {
      return "complex-hash-mod";
    }

    @Override
    public ShardingAlgorithm create(Context context) {
      if (context.columns().size() < 2) {
        throw new IllegalArgumentException(
            "complex-hash-mod needs at least two columns, got " + context.columns());
      }
      return new HashModAlgorithm(context);
    }
  }
}
