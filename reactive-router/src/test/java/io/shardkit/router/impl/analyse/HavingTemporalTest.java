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
  void aDateTimeComparedWithADateTimeStillCompares() {
    Having h =
        new Having.Compare(
            "<",
            new Having.Literal(LocalDateTime.of(2023, 12, 15, 12, 0)),
            new Having.Literal(LocalDateTime.of(2024, 1, 1, 0, 0)));
    assertThat(h.test(new Object[0], 0, null)).isTrue();
  }
}
