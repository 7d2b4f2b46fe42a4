package io.shardkit.router.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardkit.router.fuzz.ResultCheck.Difference;
import io.shardkit.router.fuzz.SelectSpec.From;
import io.shardkit.router.fuzz.SelectSpec.Item;
import io.shardkit.router.fuzz.SelectSpec.Limit;
import io.shardkit.router.fuzz.SelectSpec.Order;
import java.math.BigDecimal;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The fuzzer's comparison, without a database: what it accepts and what it reports. */
class ResultCheckTest {

  private static final String CI = "utf8mb4_general_ci";
  private static final FuzzColumn NAME = new FuzzColumn("c1", ColumnType.varchar(CI));
  private static final FuzzColumn AMOUNT = new FuzzColumn("c2", ColumnType.decimal(10, 2));
  private static final FuzzTable TABLE =
      new FuzzTable(
          "t_x",
          FuzzTable.Distribution.SINGLE,
          "single",
          List.of(
              new FuzzColumn("id", ColumnType.INT),
              new FuzzColumn("k", ColumnType.INT),
              NAME,
              AMOUNT),
          null);

  /** Lower case, accents and trailing spaces dropped: close to utf8mb4_general_ci. */
  private static final CollationKey APPROXIMATE_CI =
      (collation, value) ->
          Normalizer.normalize(value, Normalizer.Form.NFD)
              .replaceAll("\\p{M}", "")
              .toLowerCase(Locale.ROOT)
              .replaceAll(" +$", "");

  private final ResultCheck check = new ResultCheck(new Canonical(APPROXIMATE_CI));

  @Test
  void doublesAnUlpApartAcrossANineDigitTieReadAlike() {
    Canonical c = new Canonical(APPROXIMATE_CI);
    assertThat(c.value(4033.4843749999995, ValueCompare.APPROX))
        .isEqualTo(c.value(4033.484375, ValueCompare.APPROX))
        .isEqualTo(c.value(4033.4843750000005, ValueCompare.APPROX));
    assertThat(c.value(4033.48437, ValueCompare.APPROX))
        .isNotEqualTo(c.value(4033.48438, ValueCompare.APPROX));
  }

  @Test
  void aggregatesOfADivisionAgreeToThreeDecimalsOnly() {
    Canonical c = new Canonical(APPROXIMATE_CI);
    ValueCompare d = ValueCompare.DIVISION;
    assertThat(c.value(new java.math.BigDecimal("5.8824"), d))
        .isEqualTo(c.value(new java.math.BigDecimal("5.88235294"), d));
    assertThat(c.value(new java.math.BigDecimal("5.8834"), d))
        .isNotEqualTo(c.value(new java.math.BigDecimal("5.88235294"), d));
    assertThat(c.value(new java.math.BigDecimal("5.8824"), ValueCompare.EXACT))
        .isNotEqualTo(c.value(new java.math.BigDecimal("5.88235294"), ValueCompare.EXACT));
  }

  @Test
  void tiesUnderTheCollationMayComeInAnyOrderButTheOrderIsChecked() {
    SelectSpec spec = select(false, orderByName());
    QueryResult expected = result(row("Zürich"), row("zurich"), row("zz"));

    assertThat(check.compare(spec, expected, result(row("zurich"), row("Zürich"), row("zz")), null))
        .isEmpty();
    assertThat(compare(spec, expected, result(row("zz"), row("zurich"), row("Zürich"))))
        .hasValueSatisfying(d -> assertThat(d.kind()).isEqualTo("wrong order"));
  }

  @Test
  void plainRowsCompareExactlyButGroupsMayPickAnotherRepresentative() {
    QueryResult expected = result(row("Zürich"));
    QueryResult actual = result(row("zurich"));

    assertThat(compare(select(false, List.of()), expected, actual))
        .hasValueSatisfying(d -> assertThat(d.kind()).isEqualTo("wrong rows"));
    assertThat(compare(select(true, List.of()), expected, actual)).isEmpty();
  }

  @Test
  void aWindowMaxMayShowAnyOfItsPartitionsCollationEqualValues() {
    SelectSpec spec =
        spec(
            false,
            List.of(
                new Item(
                    new Expr.Window("MAX", new Expr.Col(null, NAME), new Expr.Col(null, AMOUNT)),
                    null)),
            List.of(),
            List.of());

    assertThat(
            compare(spec, result(row("emile"), row("emile")), result(row("émile"), row("émile"))))
        .as("MAX over 'emile' and 'émile' under utf8mb4_general_ci: either is the maximum")
        .isEmpty();
    assertThat(compare(spec, result(row("emile"), row("emile")), result(row("zz"), row("emile"))))
        .hasValueSatisfying(d -> assertThat(d.kind()).isEqualTo("wrong rows"));
  }

  @Test
  void aLimitedResultEqualToTheReferencesLimitedResultPassesEvenIfTheUnlimitedOneDisagrees() {
    SelectSpec spec = select(false, List.of());
    QueryResult limited = result(row("a"), row("b"));
    QueryResult unlimited = result(row("b"));

    assertThat(check.compare(spec, limited, result(row("a"), row("b")), unlimited))
        .as("the same rows as one database's answer to the same statement")
        .isEmpty();
    assertThat(check.compare(spec, limited, result(row("a"), row("c")), unlimited))
        .as("a different answer is still checked against the un-limited rows")
        .hasValueSatisfying(d -> assertThat(d.kind()).isEqualTo("wrong rows"));
  }

  @Test
  void whenTheReferencesLimitedAnswerHoldsARowItsUnlimitedOneLacksTheLimitCutsTheUnlimitedOne() {
    // seed 121: MariaDB 11.4.5 answers HAVING timestamp3_key = '2024-01-15 10:00:00.500000' ...
    // ORDER BY 1 LIMIT 1 with the group 1970-01-02, without the LIMIT with the group 2024-01-15
    SelectSpec spec = select(false, orderByName()).withLimit(new Limit(null, 1L, false, false));
    QueryResult limited = result(row("a"));
    QueryResult unlimited = result(row("b"), row("c"));

    assertThat(check.compare(spec, limited, result(row("b")), unlimited))
        .as("the first row of the un-limited answer")
        .isEmpty();
    assertThat(check.compare(spec, limited, result(row("a")), unlimited))
        .as("row for row one database's answer to the same statement")
        .isEmpty();
    assertThat(check.compare(spec, limited, result(row("c")), unlimited)).isPresent();
    SelectSpec offset = select(false, orderByName()).withLimit(new Limit(1L, 1L, true, false));
    assertThat(check.compare(offset, limited, result(row("c")), unlimited)).isEmpty();
    assertThat(check.compare(offset, limited, result(row("b")), unlimited)).isPresent();
  }

  @Test
  void anOrderedReferenceAnswerThatIsNotItsUnorderedOneIsASelfContradiction() {
    // seed 122: MariaDB 11.4.5 merges a NULL group into another under GROUP BY MOD(c3, 7) ORDER
    // BY MOD(c3, 7) DESC next to AVG(DISTINCT c5); without the ORDER BY both groups come back
    SelectSpec unordered = select(false, List.of());
    QueryResult plain = result(row("a"), row("b"));
    QueryResult ordered = result(row("a"));

    assertThat(check.orderContradicts(unordered, plain, ordered, result(row("b"), row("a"))))
        .isTrue();
    assertThat(check.orderContradicts(unordered, plain, ordered, result(row("a"))))
        .as("the router's answer is not the unordered one either")
        .isFalse();
    assertThat(check.orderContradicts(unordered, plain, plain, result(row("a"))))
        .as("the reference agrees with itself")
        .isFalse();
    // seed 128: with LIMIT 10, the answers without the LIMIT are compared
    Limit ten = new Limit(null, 10L, false, false);
    assertThat(check.orderContradicts(unordered, plain, ordered, result(row("b"), row("a")), ten))
        .isTrue();
    assertThat(check.orderContradicts(unordered, plain, ordered, result(row("a")), ten))
        .as("fewer rows than the LIMIT keeps")
        .isFalse();
    Limit one = new Limit(null, 1L, false, false);
    assertThat(check.orderContradicts(unordered, plain, ordered, result(row("b")), one)).isTrue();
    assertThat(check.orderContradicts(unordered, plain, ordered, result(row("c")), one)).isFalse();
  }

  @Test
  void numbersCompareByValue() {
    SelectSpec spec =
        spec(false, List.of(new Item(new Expr.Col(null, AMOUNT), null)), List.of(), List.of());
    QueryResult expected =
        new QueryResult(List.of("c2"), List.of("NEWDECIMAL"), rows(new BigDecimal("1.50")), 0);
    QueryResult same =
        new QueryResult(List.of("c2"), List.of("NEWDECIMAL"), rows(new BigDecimal("1.5")), 0);
    QueryResult other =
        new QueryResult(List.of("c2"), List.of("NEWDECIMAL"), rows(new BigDecimal("1.51")), 0);

    assertThat(compare(spec, expected, same)).isEmpty();
    assertThat(compare(spec, expected, other)).isPresent();
  }

  @Test
  void aLimitThatCutsARunOfTiesAcceptsAnyRowsOfThatRun() {
    SelectSpec spec = select(false, orderByName()).withLimit(new Limit(null, 2L, false, false));
    QueryResult unlimited = result(row("a"), row("b"), row("B"), row("b "));
    QueryResult expected = result(row("a"), row("b"));

    assertThat(check.compare(spec, expected, result(row("a"), row("b ")), unlimited)).isEmpty();
    assertThat(check.compare(spec, expected, result(row("a"), row("c")), unlimited)).isPresent();
    assertThat(check.compare(spec, expected, result(row("a"), row("a")), unlimited)).isPresent();
  }

  @Test
  void aBitColumnMatchesItsUnsignedIntegerReadingWhenThePlanChangesTheEncoding() {
    // seed 113: SELECT DISTINCT d.c1 ... LIMIT 10 on a BIT(64) holding 2^63 reads as the Long
    // -9223372036854775808 (BIT); the same query without the LIMIT as the Numeric
    // 9223372036854775808 (U_INT64), and a BIT sent as digits as the Long of their last 8 bytes
    FuzzColumn bits = new FuzzColumn("c1", ColumnType.BIT64);
    SelectSpec spec =
        spec(true, List.of(new Item(new Expr.Col(null, bits), "e1")), List.of(), List.of())
            .withLimit(new Limit(null, 10L, false, false));
    List<String> labels = List.of("e1");
    QueryResult limited = new QueryResult(labels, List.of("BIT"), rows(Long.MIN_VALUE, -1L), 0);
    QueryResult unlimited =
        new QueryResult(
            labels,
            List.of("U_INT64"),
            rows(
                io.vertx.sqlclient.data.Numeric.parse("9223372036854775808"),
                io.vertx.sqlclient.data.Numeric.parse("18446744073709551615")),
            0);
    QueryResult digits =
        new QueryResult(
            labels,
            List.of("BIT"),
            // the last 8 bytes of '9223372036854775808' and of '18446744073709551615'
            rows(0x3534373735383038L, 0x3039353531363135L),
            0);
    QueryResult other =
        new QueryResult(
            labels,
            List.of("U_INT64"),
            rows(
                io.vertx.sqlclient.data.Numeric.parse("9223372036854775809"),
                io.vertx.sqlclient.data.Numeric.parse("18446744073709551615")),
            0);

    assertThat(check.compare(spec, limited, limited, unlimited)).isEmpty();
    assertThat(check.compare(spec, limited, limited, digits)).isEmpty();
    // (the reference's limited answer is the other value here: an answer equal to it would pass)
    QueryResult otherLimited =
        new QueryResult(labels, List.of("BIT"), rows(Long.MIN_VALUE + 1, -1L), 0);
    assertThat(check.compare(spec, otherLimited, limited, other))
        .hasValueSatisfying(d -> assertThat(d.kind()).isEqualTo("wrong rows"));
  }

  @Test
  void labelsTypesAndRowCountsMustBeEqual() {
    SelectSpec spec = select(false, List.of());
    QueryResult expected = result(row("a"));

    assertThat(
            compare(
                spec, expected, new QueryResult(List.of("x"), List.of("VARSTRING"), rows("a"), 0)))
        .hasValueSatisfying(d -> assertThat(d.kind()).isEqualTo("column labels"));
    assertThat(
            compare(spec, expected, new QueryResult(List.of("c1"), List.of("INT64"), rows("a"), 0)))
        .hasValueSatisfying(d -> assertThat(d.kind()).isEqualTo("column types"));
    // the server itself reports STRING or VARSTRING for one expression depending on its plan
    assertThat(
            compare(
                spec, expected, new QueryResult(List.of("c1"), List.of("STRING"), rows("a"), 0)))
        .isEmpty();
    assertThat(compare(spec, expected, result(row("a"), row("a"))))
        .hasValueSatisfying(d -> assertThat(d.kind()).isEqualTo("row count"));
  }

  @Test
  void groupConcatElementsWithoutOrderCompareAsASet() {
    Expr concat = new Expr.Aggregate("GROUP_CONCAT", false, new Expr.Col(null, NAME), null, null);
    SelectSpec spec = spec(false, List.of(new Item(concat, null)), List.of(), List.of());
    List<String> labels = List.of("GROUP_CONCAT(c1)");
    QueryResult expected = new QueryResult(labels, List.of("BLOB"), rows("a,Zürich,b"), 0);

    assertThat(
            compare(
                spec, expected, new QueryResult(labels, List.of("BLOB"), rows("b,zurich,a"), 0)))
        .isEmpty();
    assertThat(compare(spec, expected, new QueryResult(labels, List.of("BLOB"), rows("b,a"), 0)))
        .isPresent();
  }

  @Test
  void rowsWhoseFloatingPointKeysAgreeWithinTheToleranceAreOneRunWhateverTheLaterKeys() {
    // seed 46: two groups' VAR_POP of BIGINTs near 2^63 agree to 9 digits; the server orders them
    // by their last bits, the router's merged values by its own: the next key must not decide
    Expr variance = new Expr.Aggregate("VAR_POP", false, new Expr.Col(null, AMOUNT), null, null);
    SelectSpec spec =
        spec(
            false,
            List.of(new Item(variance, "a0"), new Item(new Expr.Col(null, NAME), null)),
            List.of(new Expr.Col(null, NAME)),
            List.of(
                new Order(0, null, Order.Style.POSITION, null, false),
                new Order(1, null, Order.Style.POSITION, null, false)));
    List<String> labels = List.of("a0", "c1");
    List<String> types = List.of("DOUBLE", "VARSTRING");
    QueryResult expected =
        new QueryResult(
            labels,
            types,
            List.of(row(1.8904575900000002e37, "b"), row(1.8904575900000004e37, "a")),
            0);
    QueryResult tiedByTheRouter =
        new QueryResult(
            labels,
            types,
            List.of(row(1.8904575900000003e37, "a"), row(1.8904575900000003e37, "b")),
            0);
    QueryResult otherValue =
        new QueryResult(
            labels, types, List.of(row(1.89045e37, "a"), row(1.8904575900000003e37, "b")), 0);

    assertThat(compare(spec, expected, tiedByTheRouter)).isEmpty();
    assertThat(compare(spec, expected, otherValue)).isPresent();
    // seed 110: 2490.109375 exactly, the server's and the merge's values round to ...37 and ...38
    QueryResult boundary =
        new QueryResult(labels, types, List.of(row(2490.10937499999, "b"), row(3.5, "a")), 0);
    QueryResult otherSide =
        new QueryResult(labels, types, List.of(row(2490.10937500001, "b"), row(3.5, "a")), 0);
    assertThat(compare(spec, boundary, otherSide)).isEmpty();
  }

  @Test
  void floatingPointValuesStraddlingANineDigitBoundaryAreEqualWithinTolerance() {
    // seed 106: VAR_POP is 2.0254392249999999e19 exactly; the server's 2.025439224999561e19 and
    // the merge's 2.0254392250000e19 round to ...22 and ...23 at 9 digits
    Expr variance = new Expr.Aggregate("VAR_POP", false, new Expr.Col(null, AMOUNT), null, null);
    SelectSpec spec = spec(false, List.of(new Item(variance, "v")), List.of(), List.of());
    List<String> labels = List.of("v");
    List<String> types = List.of("DOUBLE");
    QueryResult expected = new QueryResult(labels, types, List.of(row(2.025439224999561e19)), 0);
    QueryResult close = new QueryResult(labels, types, List.of(row(2.0254392250000e19)), 0);
    QueryResult far = new QueryResult(labels, types, List.of(row(2.0254392350000e19)), 0);

    assertThat(compare(spec, expected, close)).isEmpty();
    assertThat(compare(spec, expected, far)).isPresent();
  }

  @Test
  void concatenatedCharactersCompareByCollationWeightsSoAnExpandingLetterEqualsItsExpansion() {
    // seed 46: GROUP_CONCAT(DISTINCT c1 SEPARATOR '') over 'ss' and 'ß', equal in
    // utf8mb4_unicode_ci, where the key of 'ß' is the two weights of 'ss'
    CollationKey unicodeCi =
        (collation, value) -> {
          StringBuilder hex = new StringBuilder();
          value
              .toLowerCase(Locale.ROOT)
              .replace("ß", "ss")
              .chars()
              .forEach(c -> hex.append(String.format("%04X", c)));
          return hex.toString();
        };
    Canonical c = new Canonical(unicodeCi);
    ValueCompare noSeparator = ValueCompare.concat("utf8mb4_unicode_ci", "", false);

    assertThat(c.value("ß", noSeparator)).isEqualTo(c.value("ss", noSeparator));
    assertThat(c.value("Sß", noSeparator)).isEqualTo(c.value("sss", noSeparator));
    assertThat(c.value("ß", noSeparator)).isNotEqualTo(c.value("s", noSeparator));
    assertThat(c.value("ßa", noSeparator)).isNotEqualTo(c.value("ssb", noSeparator));
  }

  @Test
  void aUnionColumnTiesUnderTheCollationOfEveryBranchNotJustTheFirstTwo() {
    // seed 118: TIME in the first two branches, a latin1_swedish_ci VARCHAR in the third; the
    // union's column is that VARCHAR, so 'Åsa' and 'åsa' tie under ORDER BY 1 DESC
    FuzzColumn time = new FuzzColumn("c2", ColumnType.TIME);
    FuzzColumn latin1 = new FuzzColumn("c5", ColumnType.varchar("latin1_swedish_ci"));
    SelectSpec third =
        spec(false, List.of(new Item(new Expr.Col(null, latin1), null)), List.of(), List.of());
    SelectSpec second =
        new SelectSpec(
            new From(TABLE, null, null, null, null),
            false,
            false,
            List.of(new Item(new Expr.Col(null, time), null)),
            null,
            List.of(),
            null,
            List.of(),
            null,
            third,
            false);
    SelectSpec spec =
        new SelectSpec(
            new From(TABLE, null, null, null, null),
            false,
            false,
            List.of(new Item(new Expr.Col(null, time), null)),
            null,
            List.of(),
            null,
            List.of(new Order(0, null, Order.Style.POSITION, null, true)),
            null,
            second,
            false);

    assertThat(compare(spec, result(row("Åsa"), row("åsa")), result(row("åsa"), row("Åsa"))))
        .isEmpty();
    assertThat(compare(spec, result(row("Åsa"), row("b")), result(row("b"), row("Åsa"))))
        .isPresent();
  }

  @Test
  void aVarianceShownRoundedMayDifferByOneUnitOfItsLastDecimal() {
    // seed 120: VARIANCE of a DECIMAL(6,3) over -0.010, -0.010, -0.010, 0.000 is 0.00001875
    // exactly; the server shows 0.0000187 or 0.0000188 (7 decimals) depending on its row order
    FuzzColumn dec = new FuzzColumn("c1", ColumnType.decimal(6, 3));
    SelectSpec spec =
        spec(
            false,
            List.of(
                new Item(
                    new Expr.Aggregate("VARIANCE", false, new Expr.Col(null, dec), null, null),
                    null)),
            List.of(),
            orderByName());

    assertThat(compare(spec, variances(0.0, 0.0000187), variances(0.0, 0.0000188))).isEmpty();
    assertThat(compare(spec, variances(0.0000187), variances(0.0000189))).isPresent();
    // an unrounded double (binary protocol) is not given the unit
    assertThat(compare(spec, variances(0.00001875), variances(0.00001885))).isPresent();

    FuzzColumn dbl = new FuzzColumn("c1", ColumnType.DOUBLE);
    SelectSpec ofDoubles =
        spec(
            false,
            List.of(
                new Item(
                    new Expr.Aggregate("VARIANCE", false, new Expr.Col(null, dbl), null, null),
                    null)),
            List.of(),
            orderByName());
    assertThat(compare(ofDoubles, variances(0.0000187), variances(0.0000188))).isPresent();
  }

  private static QueryResult variances(Double... values) {
    List<List<Object>> rows = new ArrayList<>();
    for (Double v : values) {
      rows.add(row(v));
    }
    return new QueryResult(List.of("c1"), List.of("DOUBLE"), rows, 0);
  }

  private Optional<Difference> compare(SelectSpec spec, QueryResult expected, QueryResult actual) {
    return check.compare(spec, expected, actual, null);
  }

  private static List<Order> orderByName() {
    return List.of(new Order(0, null, Order.Style.POSITION, null, false));
  }

  private static SelectSpec select(boolean distinct, List<Order> orderBy) {
    return spec(distinct, List.of(new Item(new Expr.Col(null, NAME), null)), List.of(), orderBy);
  }

  /** {@code SELECT [DISTINCT] items FROM t_x [GROUP BY ...] [ORDER BY ...]}. */
  @Test
  void theQueryUnderAPlanWithoutIndexLookupsIgnoresTheIndexOfEveryTableItReadsByName() {
    // seeds 132 and 181: one database answers k NOT IN (SELECT k ...) by its plan; the fuzzer asks
    // it again with IGNORE INDEX (k) on every table, subqueries and joins included
    FuzzColumn k = new FuzzColumn("k", ColumnType.INT);
    SelectSpec sub =
        spec(false, List.of(new Item(new Expr.Col(null, k), null)), List.of(), List.of());
    SelectSpec spec =
        new SelectSpec(
            new From(TABLE, "a", TABLE, "b", "JOIN"),
            false,
            false,
            List.of(new Item(new Expr.Col("a", k), "id")),
            new Pred.InSelect(new Expr.Col("a", k), sub, true),
            List.of(),
            null,
            List.of(),
            null,
            null,
            false);
    FuzzStatement st = FuzzStatement.query(spec, false);
    assertThat(st.sql()).doesNotContain("IGNORE");
    assertThat(st.sqlIgnoringIndexes())
        .isEqualTo(
            "SELECT a.k AS id FROM t_x a IGNORE INDEX (k) JOIN t_x b IGNORE INDEX (k) ON a.k = b.k"
                + " WHERE a.k NOT IN (SELECT k FROM t_x IGNORE INDEX (k))");
  }

  private static SelectSpec spec(
      boolean distinct, List<Item> items, List<Expr> groupBy, List<Order> orderBy) {
    return new SelectSpec(
        new From(TABLE, null, null, null, null),
        false,
        distinct,
        items,
        null,
        groupBy,
        null,
        orderBy,
        null,
        null,
        false);
  }

  private static List<Object> row(Object... values) {
    return Arrays.asList(values);
  }

  @SafeVarargs
  private static QueryResult result(List<Object>... rows) {
    return new QueryResult(List.of("c1"), List.of("VARSTRING"), new ArrayList<>(List.of(rows)), 0);
  }

  private static List<List<Object>> rows(Object... single) {
    List<List<Object>> out = new ArrayList<>();
    for (Object v : single) {
      out.add(row(v));
    }
    return out;
  }

  /** A BIT value reads alike in either encoding, also when its own bytes are digits (seed 153). */
  @org.junit.jupiter.api.Test
  void bitsReadAlikeInEitherEncoding() {
    for (long v : new long[] {5, 17, 55, 12599, 255, 65535, 123456789L}) {
      String digits = Long.toString(v);
      String kept = digits.length() > 8 ? digits.substring(digits.length() - 8) : digits;
      long asBytes =
          new java.math.BigInteger(1, kept.getBytes(java.nio.charset.StandardCharsets.US_ASCII))
              .longValue();
      assertThat(Canonical.bits(v)).as("%s", v).isEqualTo(Canonical.bits(asBytes));
      assertThat(Canonical.bits(io.vertx.sqlclient.data.Numeric.create(v)))
          .as("%s", v)
          .isEqualTo(Canonical.bits(v));
    }
    assertThat(Canonical.bits(-1L))
        .isEqualTo(
            Canonical.bits(
                io.vertx.sqlclient.data.Numeric.create(
                    new java.math.BigInteger("18446744073709551615"))));
    assertThat(Canonical.bits(5L)).isNotEqualTo(Canonical.bits(6L));
  }
}
