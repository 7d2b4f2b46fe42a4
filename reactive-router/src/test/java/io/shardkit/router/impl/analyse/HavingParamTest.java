package io.shardkit.router.impl.analyse;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.sqlclient.Tuple;
import io.vertx.sqlclient.data.Numeric;
import java.math.BigDecimal;
import org.junit.jupiter.api.Test;

/**
 * A HAVING parameter is what the server receives: the MySQL client sends a BigDecimal (or Numeric)
 * as its text, so {@code MAX(name) < ?} with 1.5 compares the strings 'Zurich' and '1.5' (false, by
 * the weights the units return for both), where a Double 1.5 compares as a number ('Zurich' reads
 * as 0: true); measured through Vert.x on MariaDB 11.4 (fuzz seed 105: the merge kept the group).
 * Next to a number or in arithmetic the text reads as a double again, as on the server.
 */
class HavingParamTest {

  private static final Object[] NO_ROW = new Object[0];

  @Test
  void aBigDecimalParameterIsItsText() {
    assertThat(new Having.Param(0).eval(NO_ROW, 0, Tuple.of(new BigDecimal("1.5"))))
        .isEqualTo("1.5");
    assertThat(
            new Having.Param(0).eval(NO_ROW, 0, Tuple.of(Numeric.create(new BigDecimal("2.50")))))
        .isEqualTo("2.50");
    assertThat(new Having.Param(0).eval(NO_ROW, 0, Tuple.of(1.5d))).isEqualTo(1.5d);
  }

  @Test
  void nextToANumberOrInArithmeticTheTextIsANumberAgain() {
    Tuple param = Tuple.of(new BigDecimal("1.5"));
    assertThat(
            new Having.Compare("=", new Having.Param(0), new Having.Literal(new BigDecimal("1.50")))
                .test(NO_ROW, 0, param))
        .isTrue();
    Having sum = new Having.Arithmetic('+', new Having.Literal(2L), new Having.Param(0));
    assertThat(
            new Having.Compare("=", sum, new Having.Literal(new BigDecimal("3.5")))
                .test(NO_ROW, 0, param))
        .isTrue();
  }
}
