package io.shardkit.router.impl.analyse;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardkit.router.UnsupportedSqlException;
import io.vertx.sqlclient.data.Numeric;
import java.math.BigDecimal;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Expressions over merged aggregates against values measured on MariaDB 10.11 ({@code SELECT
 * (2/3)*3} and friends): result type, scale, rounding, NULLs.
 */
class ScalarTest {

  private static Scalar lit(Object v) {
    return v instanceof String s && s.matches("-?\\d+\\.\\d+")
        ? Scalar.decimal(s)
        : new Scalar.Literal(v);
  }

  private static Scalar op(String op, Object l, Object r) {
    return new Scalar.Binary(
        op, l instanceof Scalar s ? s : lit(l), r instanceof Scalar s ? s : lit(r));
  }

  private static Scalar fn(String name, Object... args) {
    return new Scalar.Call(
        name, Arrays.stream(args).map(a -> a instanceof Scalar s ? s : lit(a)).toList());
  }

  /** The value as the client reads it: DECIMAL as its text at the shown scale. */
  private static Object eval(Scalar s) {
    Object v = s.eval(new Object[0], 0, null);
    return v instanceof Numeric n ? n.bigDecimalValue().toPlainString() : v;
  }

  @Test
  void divisionShowsTheDividendScalePlusFourAndKeepsNineDigitWords() {
    assertThat(eval(op("/", 2L, 3L))).isEqualTo("0.6667");
    assertThat(eval(op("*", op("/", 2L, 3L), 3L))).isEqualTo("2.0000");
    assertThat(eval(op("*", op("/", 1L, 7L), 1000000000L))).isEqualTo("142857142.0000");
    assertThat(eval(op("*", op("/", "1.5", 7L), 7L))).isEqualTo("1.50000");
    assertThat(eval(op("/", "5.0", "3.00"))).isEqualTo("1.66667");
    assertThat(eval(op("*", op("/", "1.00000", "3.00000"), 1000000000000000000L)))
        .isEqualTo("333333333333333333.000000000");
    assertThat(
            eval(
                op(
                    "*",
                    op("/", op("/", 1L, 7L), 7L),
                    new BigDecimal("1e20").toBigInteger().longValue() / 1000 * 1000)))
        .isNotNull();
    assertThat(eval(op("/", 1L, 0L))).isNull();
    assertThat(eval(op("/", 1.0, 0L))).isNull();
  }

  @Test
  void integersStayIntegersAndDecimalsKeepTheirScale() {
    assertThat(eval(op("*", 3L, 2L))).isEqualTo(6L);
    assertThat(eval(op("*", 3L, "1.50"))).isEqualTo("4.50");
    assertThat(eval(op("-", 2L, "1.5"))).isEqualTo("0.5");
    assertThat(eval(op("DIV", 7L, 2L))).isEqualTo(3L);
    assertThat(eval(op("DIV", "7.9", 2L))).isEqualTo(3L);
    assertThat(eval(op("DIV", -7L, 2L))).isEqualTo(-3L);
    assertThat(eval(op("%", 7L, -3L))).isEqualTo(1L);
    assertThat(eval(op("%", -7L, 3L))).isEqualTo(-1L);
    assertThat(eval(op("%", "7.5", 2L))).isEqualTo("1.5");
    assertThat(eval(op("DIV", 1L, 0L))).isNull();
    assertThat(eval(op("%", 1L, 0L))).isNull();
    assertThat(eval(op("+", null, 1L))).isNull();
    assertThat(eval(op("+", 0.1, 0.2))).isEqualTo(0.1 + 0.2);
    assertThatThrownBy(() -> eval(op("+", Long.MAX_VALUE, 1L)))
        .isInstanceOf(UnsupportedSqlException.class)
        .hasMessageContaining("out of range");
  }

  @Test
  void roundIsHalfAwayFromZeroForExactValuesAndHalfEvenForDoubles() {
    assertThat(eval(fn("ROUND", "1.2", 3L))).isEqualTo("1.200");
    assertThat(eval(fn("ROUND", 5L, 2L))).isEqualTo(5L);
    assertThat(eval(fn("ROUND", "5.55", -1L))).isEqualTo("10");
    assertThat(eval(fn("ROUND", "-2.5"))).isEqualTo("-3");
    assertThat(eval(fn("ROUND", "1.25", 1L))).isEqualTo("1.3");
    assertThat(eval(fn("ROUND", 2.5))).isEqualTo(2.0);
    assertThat(eval(fn("ROUND", 3.5))).isEqualTo(4.0);
    assertThat(eval(fn("ROUND", -2.5))).isEqualTo(-2.0);
    assertThat(eval(fn("ROUND", 1.25, 1L))).isEqualTo(1.2);
    assertThat(eval(fn("ROUND", 0.125, 2L))).isEqualTo(0.12);
    assertThat(eval(fn("ROUND", op("/", "1.5", 7L), 2L))).isEqualTo("0.21");
    assertThat(eval(fn("TRUNCATE", "1.29", 1L))).isEqualTo("1.2");
    assertThat(eval(fn("TRUNCATE", "-1.29", 1L))).isEqualTo("-1.2");
    assertThat(eval(fn("TRUNCATE", 1.25, 1L))).isEqualTo(1.2);
    assertThat(eval(fn("ROUND", null, 1L))).isNull();
  }

  @Test
  void absCeilFloorCoalesce() {
    assertThat(eval(fn("CEIL", "1.2"))).isEqualTo(2L);
    assertThat(eval(fn("FLOOR", "-1.2"))).isEqualTo(-2L);
    assertThat(eval(fn("CEILING", "-1.5"))).isEqualTo(-1L);
    assertThat(eval(fn("CEIL", 1.5))).isEqualTo(2.0);
    assertThat(eval(fn("ABS", "-1.50"))).isEqualTo("1.50");
    assertThat(eval(fn("ABS", -2L))).isEqualTo(2L);
    assertThat(eval(fn("COALESCE", null, "1.50", 2L))).isEqualTo("1.50");
    assertThat(eval(fn("IFNULL", null, 2L))).isEqualTo(2L);
    assertThat(eval(fn("IFNULL", "1.5", 2L))).isEqualTo("1.5");
    assertThat(eval(fn("IFNULL", null, null))).isNull();
  }

  @Test
  void concatWritesNumbersAsTheServer() {
    assertThat(eval(fn("CONCAT", "1.50", "x", 2L, 1.0, 0.1))).isEqualTo("1.50x210.1");
    assertThat(eval(fn("CONCAT", 1e14))).isEqualTo("100000000000000");
    assertThat(eval(fn("CONCAT", 1e-5))).isEqualTo("0.00001");
    assertThat(eval(fn("CONCAT", 123456789.123456789))).isEqualTo("123456789.12345679");
    assertThat(eval(fn("CONCAT", 1.0 / 3))).isEqualTo("0.3333333333333333");
    assertThat(eval(fn("CONCAT", "n=", null))).isNull();
    assertThatThrownBy(() -> eval(fn("CONCAT", 1e20)))
        .isInstanceOf(UnsupportedSqlException.class)
        .hasMessageContaining("CONCAT");
  }

  @Test
  void mergedColumnsAreReadInTheirSqlType() {
    Scalar sum = new Scalar.Ref(MergeSpec.ColumnRef.start(0));
    Scalar count = new Scalar.Ref(MergeSpec.ColumnRef.start(1));
    Object[] row = {Numeric.create(new BigDecimal("7.50")), 3L};
    Object v = new Scalar.Binary("/", sum, count).eval(row, 2, null);
    assertThat(((Numeric) v).bigDecimalValue()).isEqualTo(new BigDecimal("2.500000"));
    assertThat(List.of(new Scalar.Binary("+", count, lit(1L)).eval(row, 2, null)))
        .containsExactly(4L);
  }
}
