package io.shardkit.router.impl.analyse;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardkit.router.UnsupportedSqlException;
import java.time.LocalDateTime;
import org.junit.jupiter.api.Test;

/**
 * HAVING MIN(dt) >= 3: the server reads the number as a date-time or the date-time as a number (one
 * database keeps the group: found by the fuzzer); the merge refuses instead of comparing by its own
 * rule.
 */
class HavingTemporalTest {

  @Test
  void aDateTimeComparedWithANumberIsRefused() {
    Having h =
        new Having.Compare(
            ">=",
            new Having.Literal(LocalDateTime.of(2023, 12, 15, 12, 0)),
            new Having.Literal(3L));
    assertThatThrownBy(() -> h.test(new Object[0], 0, null))
        .isInstanceOf(UnsupportedSqlException.class)
        .hasMessageContaining("date/time value 2023-12-15T12:00 with the number 3");
  }

  @Test
  void arithmeticOnAStringOrADateTimeIsRefusedTyped() {
    // fuzz seed 102: HAVING (json_key + 0) <=> ? and (timestamp_key + 0) < '...' failed with an
    // IllegalArgumentException; the server computes with the string's numeric prefix or the
    // date-time's digits
    for (Object value : new Object[] {"x", LocalDateTime.of(2024, 1, 15, 10, 0)}) {
      // a merged column's value (a string column's text may be JSON, quotes included)
      Having column = new Having.Ref(MergeSpec.ColumnRef.start(0));
      Having h =
          new Having.Compare(
              "<",
              new Having.Arithmetic('+', column, new Having.Literal(0L)),
              new Having.Literal(3L));
      assertThatThrownBy(() -> h.test(new Object[] {value}, 1, null))
          .isInstanceOf(UnsupportedSqlException.class)
          .hasMessageContaining("HAVING computes with the value " + value);
    }
    Having numbers =
        new Having.Compare(
            "<",
            new Having.Arithmetic('+', new Having.Literal(2L), new Having.Literal(0L)),
            new Having.Literal(3L));
    assertThat(numbers.test(new Object[0], 0, null)).isTrue();
  }

  @Test
  void aDateTimeComparedWithADateTimeStillCompares() {
    Having h =
        new Having.Compare(
            "<",
            new Having.Literal(LocalDateTime.of(2023, 12, 15, 12, 0)),
            new Having.Literal(LocalDateTime.of(2024, 1, 1, 0, 0)));
    assertThat(h.test(new Object[0], 0, null)).isTrue();
  }
}
