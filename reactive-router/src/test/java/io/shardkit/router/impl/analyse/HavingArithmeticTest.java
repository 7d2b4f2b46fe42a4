package io.shardkit.router.impl.analyse;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigDecimal;
import org.junit.jupiter.api.Test;

/**
 * HAVING arithmetic in the server's algebra, measured on MariaDB 11.4: {@code 4/3 = 1.3333} is true
 * and {@code 4/3 > 1.3333} false (a quotient compares at the scale the client sees, dividend scale
 * + 4, rounded), {@code 2/3 = 0.6667}, {@code (4/3)*3 = 4} (it keeps its internal digits for the
 * next operation), {@code 7 + 2 = 9} stays an integer.
 */
class HavingArithmeticTest {

  private static Having.Arithmetic op(char op, Object l, Object r) {
    return new Having.Arithmetic(op, literal(l), literal(r));
  }

  private static Having literal(Object v) {
    return v instanceof Having h ? h : new Having.Literal(v);
  }

  private static boolean holds(String cmp, Having left, Object right) {
    return new Having.Compare(cmp, left, literal(right)).test(new Object[0], 0, null);
  }

  @Test
  void aQuotientComparesAtItsShownScale() {
    BigDecimal four = new BigDecimal("4");
    assertThat(holds("=", op('/', four, 3L), new BigDecimal("1.3333"))).isTrue();
    assertThat(holds(">", op('/', four, 3L), new BigDecimal("1.3333"))).isFalse();
    assertThat(holds("<", op('/', four, 3L), new BigDecimal("1.33333"))).isTrue();
    assertThat(holds("=", op('/', 2L, 3L), new BigDecimal("0.6667"))).isTrue();
  }

  @Test
  void aQuotientKeepsItsDigitsInFurtherArithmetic() {
    assertThat(holds("=", op('*', op('/', 4L, 3L), 3L), 4L)).isTrue();
    assertThat(holds("=", op('+', 7L, 2L), 9L)).isTrue();
    assertThat(op('+', 7L, 2L).eval(new Object[0], 0, null)).isEqualTo(9L);
  }
}
