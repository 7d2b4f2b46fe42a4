package io.shardkit.router.impl.algorithm;

import io.shardkit.router.spi.ShardingAlgorithm;
import io.shardkit.router.spi.ShardingAlgorithmFactory;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.zip.CRC32;

/**
 * {@code hash-mod}: the target whose name ends with {@code CRC32(bytes(value)) mod count}, read as
 * an unsigned 32-bit number, where the bytes are the value's sort key in its column's collation for
 * a string of a text column ({@link CollationKey}: the same for every collation-equal spelling) and
 * otherwise the UTF-8 bytes of the value's canonical text (see {@link ShardingValues#canonical}):
 * MySQL's {@code CRC32(value) % count} for integers. With several columns ({@code
 * complex-hash-mod}) the parts are joined with {@code '|'}. Ranges route to all targets.
 */
final class HashModAlgorithm implements ShardingAlgorithm, CollationKeyed {

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
    CRC32 crc = new CRC32();
    for (int i = 0; i < values.size(); i++) {
      if (i > 0) {
        crc.update('|');
      }
      Object v = values.get(i);
      if (v instanceof CollationKey k) {
        crc.update(k.key());
      } else {
        crc.update(ShardingValues.canonical(v).getBytes(StandardCharsets.UTF_8));
      }
    }
    return index.get(crc.getValue() % count);
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
