package io.shardkit.router.impl.algorithm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardkit.router.spi.KeyGenerator;
import io.shardkit.router.spi.ShardingAlgorithm;
import io.shardkit.router.spi.ShardingAlgorithmFactory;
import io.shardkit.router.spi.ValueRange;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class AlgorithmsTest {

  static ShardingAlgorithm create(
      ShardingAlgorithmFactory factory,
      List<String> columns,
      List<String> targets,
      JsonObject props) {
    return factory.create(new ShardingAlgorithmFactory.Context(columns, targets, props));
  }

  static final List<String> FOUR = List.of("t_0", "t_1", "t_2", "t_3");

  @Test
  void modPicksTheTargetEndingWithTheRemainder() {
    ShardingAlgorithm mod =
        create(new ModAlgorithm.Factory(), List.of("id"), FOUR, new JsonObject());
    assertThat(mod.target(List.of(7L))).isEqualTo("t_3");
    assertThat(mod.target(List.of(8))).isEqualTo("t_0");
    assertThat(mod.target(List.of("13"))).isEqualTo("t_1");
    assertThat(mod.target(List.of(-1L))).as("floorMod").isEqualTo("t_3");
    assertThat(mod.targets(ValueRange.closed(5, 6))).containsExactly("t_1", "t_2");
    assertThat(mod.targets(new ValueRange(5, false, 7, false))).containsExactly("t_2");
    assertThat(mod.targets(ValueRange.closed(0, 100))).as("wide range: every target").isNull();
    assertThat(mod.targets(new ValueRange(5, true, null, false))).isNull();
    assertThatThrownBy(() -> mod.target(List.of("abc")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("abc");
    ShardingAlgorithm mod10 =
        create(
            new ModAlgorithm.Factory(),
            List.of("id"),
            List.of("ds_0", "ds_1"),
            new JsonObject().put("count", 10));
    assertThat(mod10.target(List.of(11))).isEqualTo("ds_1");
    assertThat(mod10.target(List.of(12))).as("remainder with no target").isNull();
  }

  @Test
  void modAndRangeTakeKeysOfAnySizeAndRangesOfAnyWidth() {
    ShardingAlgorithm mod =
        create(new ModAlgorithm.Factory(), List.of("id"), FOUR, new JsonObject());
    java.math.BigInteger max = new java.math.BigInteger("18446744073709551615");
    assertThat(mod.target(List.of(max))).as("2^64-1 mod 4").isEqualTo("t_3");
    assertThat(mod.target(List.of(new java.math.BigDecimal(max)))).isEqualTo("t_3");
    assertThat(mod.target(List.of("18446744073709551614"))).isEqualTo("t_2");
    assertThat(mod.targets(ValueRange.closed(Long.MIN_VALUE, Long.MAX_VALUE)))
        .as("the whole long range: every target, computed without overflow")
        .isNull();
    assertThat(mod.targets(ValueRange.closed(max.subtract(java.math.BigInteger.ONE), max)))
        .containsExactly("t_2", "t_3");
    assertThat(mod.targets(ValueRange.closed(Long.MAX_VALUE, Long.MAX_VALUE)))
        .containsExactly("t_3");
    ShardingAlgorithm range =
        create(
            new RangeAlgorithm.Factory(),
            List.of("id"),
            List.of("t_0", "t_1", "t_2"),
            new JsonObject().put("boundaries", new JsonArray().add(0).add(100)));
    assertThat(range.target(List.of(max))).isEqualTo("t_2");
    assertThat(range.target(List.of(new java.math.BigInteger("-99999999999999999999"))))
        .isEqualTo("t_0");
    assertThat(range.targets(ValueRange.closed(50, max))).containsExactly("t_1", "t_2");
  }

  @Test
  void hashModIsCrc32OfTheCanonicalTextAsMysqlComputesIt() {
    ShardingAlgorithm hash =
        create(
            new HashModAlgorithm.Factory(),
            List.of("k"),
            List.of("t_0", "t_1", "t_2", "t_3", "t_4", "t_5", "t_6", "t_7", "t_8", "t_9"),
            new JsonObject());
    // MySQL: SELECT CRC32('MySQL') = 3259397556 (its manual's example); % 10 = 6
    assertThat(hash.target(List.of("MySQL"))).isEqualTo("t_6");
    // CRC32('42') = 841265288; integers hash as their decimal text, whatever the Java type
    assertThat(hash.target(List.of(42L)))
        .isEqualTo("t_8")
        .isEqualTo(hash.target(List.of(42)))
        .isEqualTo(hash.target(List.of(new java.math.BigDecimal("42.00"))));
    assertThat(hash.targets(ValueRange.closed(1, 2))).isNull();
    ShardingAlgorithm complex =
        create(new HashModAlgorithm.ComplexFactory(), List.of("a", "b"), FOUR, new JsonObject());
    assertThat(complex.target(List.of(1, "x"))).isEqualTo("t_" + (ShardingValues.crc32("1|x") % 4));
    assertThatThrownBy(
            () ->
                create(new HashModAlgorithm.ComplexFactory(), List.of("a"), FOUR, new JsonObject()))
        .hasMessageContaining("two columns");
  }

  @Test
  void rangeRoutesValuesAndRangesToTheirPartitions() {
    ShardingAlgorithm range =
        create(
            new RangeAlgorithm.Factory(),
            List.of("id"),
            List.of("t_0", "t_1", "t_2"),
            new JsonObject().put("boundaries", new JsonArray().add(100).add(200)));
    assertThat(range.target(List.of(-5))).isEqualTo("t_0");
    assertThat(range.target(List.of(100))).isEqualTo("t_1");
    assertThat(range.target(List.of(250))).isEqualTo("t_2");
    assertThat(range.targets(ValueRange.closed(150, 199))).containsExactly("t_1");
    assertThat(range.targets(new ValueRange(99, false, 200, false))).containsExactly("t_1");
    assertThat(range.targets(new ValueRange(null, false, 100, true))).containsExactly("t_0", "t_1");
    assertThatThrownBy(
            () ->
                create(
                    new RangeAlgorithm.Factory(),
                    List.of("id"),
                    FOUR,
                    new JsonObject().put("boundaries", new JsonArray().add(5).add(1))))
        .hasMessageContaining("ascend");
  }

  @Test
  void intervalRoutesDatesToPeriodTables() {
    List<String> months = List.of("t_202401", "t_202402", "t_202403");
    ShardingAlgorithm interval =
        create(
            new IntervalAlgorithm.Factory(),
            List.of("created"),
            months,
            new JsonObject()
                .put("start", "2024-01-01")
                .put("unit", "MONTHS")
                .put("suffix", "yyyyMM"));
    assertThat(interval.target(List.of(LocalDate.of(2024, 2, 29)))).isEqualTo("t_202402");
    assertThat(interval.target(List.of(LocalDateTime.of(2024, 3, 31, 23, 59))))
        .isEqualTo("t_202403");
    assertThat(interval.target(List.of("2024-01-15 10:00:00"))).isEqualTo("t_202401");
    assertThat(interval.target(List.of(LocalDate.of(2023, 12, 31)))).isNull();
    assertThat(interval.target(List.of(LocalDate.of(2024, 4, 1)))).isNull();
    assertThat(
            interval.targets(
                ValueRange.closed(LocalDate.of(2024, 1, 20), LocalDate.of(2024, 2, 1))))
        .containsExactly("t_202401", "t_202402");
    assertThat(interval.targets(new ValueRange(LocalDate.of(2024, 2, 1), true, null, false)))
        .containsExactly("t_202402", "t_202403");
    assertThat(interval.targets(new ValueRange(null, false, LocalDate.of(2024, 2, 1), false)))
        .containsExactly("t_202401");
  }

  @Test
  void snowflakeKeysAreUniqueIncreasingAndNeverWaitForTheClock() {
    AtomicLong now = new AtomicLong(SnowflakeKeyGenerator.EPOCH_MILLIS + 1000);
    KeyGenerator keys = new SnowflakeKeyGenerator(5, now::get);
    Set<Object> seen = new HashSet<>();
    long previous = -1;
    for (int i = 0; i < 10_000; i++) {
      long key = (Long) keys.nextKey();
      assertThat(key).isGreaterThan(previous);
      assertThat((key >> 12) & 1023).isEqualTo(5);
      assertThat(seen.add(key)).isTrue();
      previous = key;
    }
    now.addAndGet(-500);
    assertThat((Long) keys.nextKey())
        .as("clock went back: still increasing")
        .isGreaterThan(previous);
    assertThatThrownBy(
            () ->
                new SnowflakeKeyGenerator.Factory().create(new JsonObject().put("workerId", 1024)))
        .hasMessageContaining("1023");
  }
}
