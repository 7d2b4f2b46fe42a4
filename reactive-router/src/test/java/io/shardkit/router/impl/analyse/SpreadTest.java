package io.shardkit.router.impl.analyse;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.vertx.sqlclient.data.Numeric;
import java.math.BigDecimal;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** Merging the units' COUNT, SUM and VAR_POP into the variance of all rows (Chan's formula). */
class SpreadTest {

  /** One unit's partial of {@code values}, as the server computes it. */
  private static void unit(Spread s, boolean decimal, Object probe, double... values) {
    double sum = Arrays.stream(values).sum();
    double mean = values.length == 0 ? 0 : sum / values.length;
    double m2 = Arrays.stream(values).map(v -> (v - mean) * (v - mean)).sum();
    Object sumValue =
        values.length == 0
            ? null
            : decimal ? Numeric.create(BigDecimal.valueOf(sum).stripTrailingZeros()) : sum;
    s.add((long) values.length, sumValue, values.length == 0 ? null : m2 / values.length, probe);
    if (values.length > 0) {
      s.range(Arrays.stream(values).min().orElseThrow(), Arrays.stream(values).max().orElseThrow());
    }
  }

  @Test
  void combinesUnitsAsOneDatabase() {
    Spread s = new Spread();
    unit(s, false, null, 1.5, 2.25, 4);
    unit(s, false, null, 7, 10);
    unit(s, false, null);
    double[] all = {1.5, 2.25, 4, 7, 10};
    double mean = Arrays.stream(all).average().orElseThrow();
    double m2 = Arrays.stream(all).map(v -> (v - mean) * (v - mean)).sum();
    assertThat(s.result(true, false, false)).isCloseTo(m2 / 5, within(1e-12));
    assertThat(s.result(true, true, false)).isCloseTo(m2 / 4, within(1e-12));
    assertThat(s.result(true, true, true)).isCloseTo(Math.sqrt(m2 / 4), within(1e-12));
  }

  @Test
  void oneRepeatedDoubleHasNoSpreadAlthoughPartialMeansDiffer() {
    Spread s = new Spread();
    unit(s, false, null, 0.1, 0.1, 0.1);
    unit(s, false, null, 0.1);
    // 0.1 + 0.1 + 0.1 = 0.30000000000000004: that unit's mean is not 0.1
    assertThat(s.result(true, false, true)).isZero();
  }

  @Test
  void largeValuesWithASmallSpreadKeepTheirPrecision() {
    Spread s = new Spread();
    unit(s, false, null, 1e9 + 1, 1e9 + 2);
    unit(s, false, null, 1e9 + 3);
    assertThat(s.result(true, false, false)).isCloseTo(2.0 / 3, within(1e-9));
  }

  @Test
  void sampleOfOneRowAndNoRowsAreNull() {
    Spread one = new Spread();
    unit(one, false, null, 5);
    unit(one, false, null);
    assertThat(one.result(true, true, false)).isNull();
    assertThat(one.result(true, false, false)).isZero();
    Spread none = new Spread();
    unit(none, false, null);
    assertThat(none.result(true, false, true)).isNull();
  }

  @Test
  void exactArgumentsRoundToTheirScalePlusFourOnTheTextProtocol() {
    Spread text = new Spread();
    unit(text, true, 3.141593, 1);
    unit(text, true, 3.141593, 2, 3);
    // values 1, 2, 3: 2/3 = 0.666666..., sent as 0.6667 on the text protocol
    assertThat(text.result(true, false, false)).isEqualTo(0.6667);
    assertThat(text.result(false, false, false)).isCloseTo(2.0 / 3, within(1e-15));
    Spread binary = new Spread();
    unit(binary, true, Math.PI, 1);
    unit(binary, true, Math.PI, 2, 3);
    assertThat(binary.result(true, false, false)).isCloseTo(2.0 / 3, within(1e-15));
    Spread doubles = new Spread();
    unit(doubles, false, 3.141593, 1, 2, 3);
    assertThat(doubles.result(true, false, false)).isCloseTo(2.0 / 3, within(1e-15));
  }
}
