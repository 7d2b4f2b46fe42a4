package io.shardkit.router.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardkit.router.conformance.Comparison.Mode;
import io.shardkit.router.conformance.Comparison.Result;
import io.vertx.core.buffer.Buffer;
import io.vertx.sqlclient.data.Numeric;
import java.math.BigDecimal;
import java.time.LocalDate;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The comparison rules of the conformance runner, without a database. */
class ComparisonTest {

  static final List<String> COLUMNS = List.of("k", "v");
  static final Mode UNORDERED = new Mode(false, Optional.empty(), false, null);
  static final Mode ORDERED_BY_K = new Mode(true, Optional.of(List.of(0)), false, null);
  static final Mode IN_ORDER = new Mode(true, Optional.empty(), false, null);

  static Result result(Object[]... rows) {
    return new Result(COLUMNS, Arrays.stream(rows).map(Arrays::asList).toList(), 0);
  }

  @Test
  void numbersOfEveryJavaTypeAndNumericStringsCompareByValue() {
    assertThat(Comparison.canonical(Numeric.create(new BigDecimal("200.00")))).isEqualTo("200");
    assertThat(Comparison.canonical(200L)).isEqualTo("200");
    assertThat(Comparison.canonical((short) 200)).isEqualTo("200");
    assertThat(Comparison.canonical("200")).isEqualTo("200");
    assertThat(Comparison.canonical(new BigDecimal("12.3300"))).isEqualTo("12.33");
    assertThat(Comparison.canonical(0.5d)).isEqualTo("0.5");
    assertThat(Comparison.canonical(new BigDecimal("0.000"))).isEqualTo("0");
  }

  @Test
  void differentNumbersDatesAndNullStayDifferent() {
    assertThat(Comparison.canonical(new BigDecimal("12.3333")))
        .isNotEqualTo(Comparison.canonical(new BigDecimal("12.333333")));
    assertThat(Comparison.canonical(LocalDate.of(2017, 8, 8))).isEqualTo("2017-08-08");
    assertThat(Comparison.canonical(null)).isNull();
    assertThat(Comparison.canonical("NULL")).isEqualTo("NULL");
    assertThat(Comparison.canonical(Buffer.buffer(new byte[] {1, (byte) 0xff})))
        .isEqualTo("0x01ff");
  }

  @Test
  void unorderedResultsCompareAsMultisets() {
    Result expected = result(new Object[] {1, "a"}, new Object[] {2, "b"}, new Object[] {2, "b"});
    Result reordered = result(new Object[] {2, "b"}, new Object[] {1, "a"}, new Object[] {2, "b"});
    Result duplicateLost =
        result(new Object[] {2, "b"}, new Object[] {1, "a"}, new Object[] {1, "a"});

    assertThat(Comparison.compareQuery(expected, reordered, UNORDERED)).isEmpty();
    Optional<String> actualReason = Comparison.compareQuery(expected, duplicateLost, UNORDERED);
    assertThat(actualReason).hasValueSatisfying(r -> assertThat(r).contains("missing row [2, b]"));
  }

  @Test
  void orderedResultsAllowTiesInAnyOrderButNotOtherReorderings() {
    Result expected =
        result(
            new Object[] {1, "a"},
            new Object[] {2, "b"},
            new Object[] {2, "c"},
            new Object[] {3, "d"});
    Result tiesSwapped =
        result(
            new Object[] {1, "a"},
            new Object[] {2, "c"},
            new Object[] {2, "b"},
            new Object[] {3, "d"});
    Result keysSwapped =
        result(
            new Object[] {2, "b"},
            new Object[] {1, "a"},
            new Object[] {2, "c"},
            new Object[] {3, "d"});
    Result tieValueWrong =
        result(
            new Object[] {1, "a"},
            new Object[] {2, "c"},
            new Object[] {2, "c"},
            new Object[] {3, "d"});

    assertThat(Comparison.compareQuery(expected, tiesSwapped, ORDERED_BY_K)).isEmpty();
    assertThat(Comparison.compareQuery(expected, keysSwapped, ORDERED_BY_K))
        .hasValueSatisfying(r -> assertThat(r).contains("ORDER BY order differs at row 0"));
    assertThat(Comparison.compareQuery(expected, tieValueWrong, ORDERED_BY_K))
        .hasValueSatisfying(r -> assertThat(r).contains("rows 1..2"));
    assertThat(Comparison.compareQuery(expected, tiesSwapped, IN_ORDER))
        .hasValueSatisfying(r -> assertThat(r).contains("row 1 differs"));
  }

  @Test
  void columnLabelsAndRowCountsMustMatch() {
    Result expected = result(new Object[] {1, "a"});
    Result otherLabels = new Result(List.of("K", "v"), expected.rows(), 0);
    Result moreRows = result(new Object[] {1, "a"}, new Object[] {1, "a"});

    assertThat(Comparison.compareQuery(expected, otherLabels, UNORDERED))
        .hasValueSatisfying(r -> assertThat(r).startsWith("columns differ"));
    assertThat(Comparison.compareQuery(expected, moreRows, UNORDERED))
        .hasValueSatisfying(r -> assertThat(r).startsWith("expected 1 rows, actual 2"));
  }

  @Test
  void groupConcatElementsCompareAsSetsOnlyWhenTheCaseSaysSo() {
    Result expected = result(new Object[] {1, "x;y z,w"});
    Result permuted = result(new Object[] {1, "w;z,y x"});
    Mode concat =
        new Mode(
            false,
            Optional.empty(),
            false,
            Comparison.concatSplit(
                "SELECT GROUP_CONCAT(a SEPARATOR ';'), GROUP_CONCAT(b SEPARATOR ' ')"));

    assertThat(Comparison.compareQuery(expected, permuted, concat)).isEmpty();
    assertThat(Comparison.compareQuery(expected, permuted, UNORDERED)).isPresent();
  }

  @Test
  void limitWithoutOrderByAcceptsAnyRowsOfTheUnlimitedResult() {
    Result expected = result(new Object[] {1, "a"});
    Result candidates = result(new Object[] {1, "a"}, new Object[] {1, "b"});
    Result otherCandidate = result(new Object[] {1, "b"});
    Result notACandidate = result(new Object[] {1, "c"});

    assertThat(Comparison.compareSubset(expected, candidates, otherCandidate)).isEmpty();
    assertThat(Comparison.compareSubset(expected, candidates, notACandidate))
        .hasValueSatisfying(r -> assertThat(r).contains("not in the result without LIMIT"));
  }

  @Test
  void tableContentsIgnoreColumnAndRowOrder() {
    List<Map<String, Object>> expected =
        List.of(Map.of("id", 1, "s", "a"), Map.of("id", 2, "s", "b"));
    List<Map<String, Object>> sameRows =
        List.of(Map.of("s", "b", "id", 2L), Map.of("s", "a", "id", 1L));
    List<Map<String, Object>> oneChanged =
        List.of(Map.of("s", "b", "id", 2L), Map.of("s", "z", "id", 1L));

    assertThat(Comparison.compareContents("t", expected, sameRows)).isEmpty();
    assertThat(Comparison.compareContents("t", expected, oneChanged))
        .hasValueSatisfying(r -> assertThat(r).contains("missing").contains("unexpected"));
  }
}
