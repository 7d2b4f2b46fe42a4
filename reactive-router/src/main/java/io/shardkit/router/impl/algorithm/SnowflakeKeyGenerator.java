package io.shardkit.router.impl.algorithm;

import io.shardkit.router.spi.KeyGenerator;
import io.shardkit.router.spi.KeyGeneratorFactory;
import io.vertx.core.json.JsonObject;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * Snowflake-style 63-bit keys: 41 bits of milliseconds since 2024-01-01T00:00Z, 10 bits of worker
 * id, 12 bits of sequence. Never blocks: when the 4096 keys of a millisecond are used up, or the
 * clock goes back, it runs ahead on a logical clock (last timestamp + 1) instead of waiting.
 * Lock-free (one CAS on the packed last key), so keys are unique and increasing per worker.
 */
final class SnowflakeKeyGenerator implements KeyGenerator {

  static final long EPOCH_MILLIS = 1_704_067_200_000L;
  private static final int SEQUENCE_BITS = 12;
  private static final int WORKER_BITS = 10;

  private final long workerBits;
  private final LongSupplier clock;
  private final AtomicLong last = new AtomicLong();

  SnowflakeKeyGenerator(int workerId, LongSupplier clock) {
    if (workerId < 0 || workerId >= 1 << WORKER_BITS) {
      throw new IllegalArgumentException("workerId must be in 0..1023, got " + workerId);
    }
    this.workerBits = (long) workerId << SEQUENCE_BITS;
    this.clock = clock;
  }

  @Override
  public Object nextKey() {
    while (true) {
      long previous = last.get();
      long previousMillis = previous >>> (SEQUENCE_BITS + WORKER_BITS);
      long previousSequence = previous & ((1L << SEQUENCE_BITS) - 1);
      long now = clock.getAsLong() - EPOCH_MILLIS;
      long millis;
      long sequence;
      if (now > previousMillis) {
        millis = now;
        sequence = 0;
      } else if (previousSequence < (1L << SEQUENCE_BITS) - 1) {
        millis = previousMillis;
        sequence = previousSequence + 1;
      } else {
        millis = previousMillis + 1;
        sequence = 0;
      }
      long key = (millis << (SEQUENCE_BITS + WORKER_BITS)) | workerBits | sequence;
      if (last.compareAndSet(previous, key)) {
        return key;
      }
    }
  }

  /** Factory for {@code snowflake}: props {@code {"workerId": 0..1023}} (required). */
  public static final class Factory implements KeyGeneratorFactory {
    @Override
    public String type() {
      return "snowflake";
    }

    @Override
    public KeyGenerator create(JsonObject props) {
      Object worker = props.getValue("workerId");
      if (!(worker instanceof Number n) || n.doubleValue() != n.intValue()) {
        throw new IllegalArgumentException(
            "workerId is required: an integer 0..1023 unique per running instance, got " + worker);
      }
      return new SnowflakeKeyGenerator(n.intValue(), System::currentTimeMillis);
    }
  }
}
