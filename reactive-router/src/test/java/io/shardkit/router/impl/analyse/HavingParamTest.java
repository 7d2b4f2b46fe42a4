package io.shardkit.router.impl.analyse;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardkit.router.UnsupportedSqlException;
import io.vertx.sqlclient.Tuple;
import io.vertx.sqlclient.data.Numeric;
import java.math.BigDecimal;
import java.math.BigInteger;
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

  @Test
  void aBigIntegerParameterIsItsTextToo() {
    // Vert.x infers no number type for a BigInteger and sends its decimal text
    assertThat(
            new Having.Param(0).eval(NO_ROW, 0, Tuple.of(new BigInteger("18446744073709551616"))))
        .isEqualTo("18446744073709551616");
  }

  @Test
  void anIntegerComparesWithAStringExactlyADecimalAsDoubles() {
    // measured on MariaDB 11.4: 9007199254740993 = '9007199254740992' is 0 (DECIMAL, not
    // doubles), 2.5 = '2.5000000000000001' is 1 (doubles)
    assertThat(
            new Having.Compare(
                    "=",
                    new Having.Literal(9007199254740993L),
                    new Having.Literal("9007199254740992"))
                .test(NO_ROW, 0, Tuple.tuple()))
        .isFalse();
    assertThat(
            new Having.Compare(
                    "=",
                    new Having.Literal(new BigDecimal("2.5")),
                    new Having.Literal("2.5000000000000001"))
                .test(NO_ROW, 0, Tuple.tuple()))
        .isTrue();
  }

  @Test
  void betweenAggregatesItsOperandsTypesLeftToRight() {
    // measured on MariaDB 11.4: 9007199254740993 BETWEEN 9007199254740992 AND '9007199254740992'
    // is 0 (integer, integer, string: DECIMAL), BETWEEN '9007199254740992' AND '9007199254740992'
    // is 1 (the DECIMAL of the first two meets a string: doubles)
    Having x = new Having.Literal(9007199254740993L);
    assertThat(
            between(
                    x,
                    new Having.Literal(9007199254740992L),
                    new Having.Literal("9007199254740992"))
                .test(NO_ROW, 0, Tuple.tuple()))
        .isFalse();
    assertThat(
            between(
                    x,
                    new Having.Literal("9007199254740992"),
                    new Having.Literal("9007199254740992"))
                .test(NO_ROW, 0, Tuple.tuple()))
        .isTrue();
  }

  @Test
  void aBetweenWhoseAnswerDependsOnTypesTheRouterCannotTellIsRefused() {
    // fuzz seed 113: b.c1 NOT BETWEEN ? AND 18446744073709551615 with a BigInteger 2^64 (sent as
    // text) keeps the BIGINT UNSIGNED group 18446744073709551615 on one database (an integer with
    // a string compares exactly); the merge compared doubles and dropped it. The group value
    // reaches the merge as a decimal, which would compare as doubles: refused, not guessed
    BigDecimal max = new BigDecimal("18446744073709551615");
    Having notBetween =
        new Having.Not(
            between(new Having.Literal(max), new Having.Param(0), new Having.Literal(max)));
    Tuple param = Tuple.of(new BigInteger("18446744073709551616"));
    assertThatThrownBy(() -> notBetween.test(NO_ROW, 0, param))
        .isInstanceOf(UnsupportedSqlException.class)
        .hasMessageContaining("BETWEEN '18446744073709551616' AND 18446744073709551615");
  }

  @Test
  void aColumnWhoseBoundsTheServerMayConvertToItsIntegersIsRefusedWhenThatDiffers() {
    // measured on MariaDB 11.4: HAVING c1 BETWEEN '1' AND '9007199254740992' drops the BIGINT
    // group 9007199254740993 (the server converts both strings to BIGINTs: exact), while HAVING
    // MAX(c1) BETWEEN ... keeps it (doubles); the merge cannot tell a column from an aggregate
    Having column = new Having.Ref(MergeSpec.ColumnRef.start(0));
    Having between =
        between(column, new Having.Literal("1"), new Having.Literal("9007199254740992"));
    assertThatThrownBy(() -> between.test(new Object[] {9007199254740993L}, 1, Tuple.tuple()))
        .isInstanceOf(UnsupportedSqlException.class);
    assertThat(between.test(new Object[] {9007199254740991L}, 1, Tuple.tuple())).isTrue();
  }

  private static Having between(Having x, Having a, Having b) {
    return new Having.Between(
        x,
        a,
        b,
        new Having.Logic(true, new Having.Compare(">=", x, a), new Having.Compare("<=", x, b)));
  }
}
