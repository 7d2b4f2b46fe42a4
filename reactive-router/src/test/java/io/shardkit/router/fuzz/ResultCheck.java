package io.shardkit.router.fuzz;

import io.shardkit.router.fuzz.SelectSpec.SortKey;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Compares the router's result of a query with the reference's. Labels and column types must be
 * identical and the row counts equal. Unordered results compare as multisets; ordered ones compare
 * their sort keys row by row (collation-equal keys are ties) and the rows of each run of equal keys
 * as multisets. A floating-point key is equal within its tolerance, so the keys after it do not
 * order the rows of a run: both sides order such rows by digits the comparison drops. A LIMIT may
 * cut a run of ties anywhere, so a limited result is compared with the reference's un-limited
 * result: same keys in the same places, and each run's rows drawn from the rows the reference has
 * with that key.
 */
final class ResultCheck {

  /** A difference: a short kind (the mismatch class) and a description. */
  record Difference(String kind, String detail) {}

  private final Canonical canonical;

  ResultCheck(Canonical canonical) {
    this.canonical = canonical;
  }

  /**
   * @param unlimited the reference's result without the LIMIT, or null when the query has none
   */
  Optional<Difference> compare(
      SelectSpec spec, QueryResult expected, QueryResult actual, QueryResult unlimited) {
    if (!expected.columns().equals(actual.columns())) {
      return diff("column labels", expected.columns() + " vs " + actual.columns());
    }
    if (!sameTypes(widthFree(spec, expected.types()), widthFree(spec, actual.types()))
        && !(expected.rows().isEmpty()
            && actual.rows().isEmpty()
            && sameTypes(bitsAsIntegers(expected.types()), bitsAsIntegers(actual.types())))
        && !bitsEitherWay(spec, expected.types(), actual.types())) {
      return diff("column types", expected.types() + " vs " + actual.types());
    }
    List<ValueCompare> compares = spec.star() ? List.<ValueCompare>of() : spec.columnCompares();
    List<List<String>> e = canonicalRows(expected, compares);
    List<List<String>> a = canonicalRows(actual, compares);
    if (unlimited != null && e.equals(a)) {
      // row for row what one database answered to this very statement: right by definition, even
      // where that database's answer with the LIMIT is not a part of its answer without it (seeds
      // 48 and 115: MariaDB 11.4.5 returns another group under HAVING on a TIMESTAMP(3) with a
      // LIMIT)
      return Optional.empty();
    }
    if (unlimited != null && spec.limit() != null) {
      QueryResult window = window(spec.limit(), expected, unlimited);
      if (window != null
          && (subset(e, canonicalRows(unlimited, compares), "").isPresent()
              || window.rows().size() != e.size())) {
        // the reference's LIMITed answer holds a row its answer without the LIMIT lacks, so one
        // database contradicts itself (seed 121: MariaDB 11.4.5 returns the group 1970-01-02 for
        // HAVING timestamp3_key = '2024-01-15 10:00:00.500000' ... LIMIT 1 next to a
        // GROUP_CONCAT, and the group 2024-01-15 without the LIMIT): the router's answer is judged
        // as that un-limited answer cut by the LIMIT. So is a LIMITed answer with fewer rows than
        // the LIMIT keeps of the un-limited one (seed 150, generation 4: MariaDB 11.4.5 returns no
        // row for SELECT c5, COUNT(DISTINCT c3, c2) FROM t GROUP BY c5 HAVING c5 IN ('1970-01-02
        // 00:00:00') LIMIT 10 on a TIMESTAMP(3) c5, and the group 1970-01-02 without the LIMIT,
        // measured on one table of two rows)
        return compare(spec, window, actual, unlimited);
      }
    }
    if (expected.rows().size() != actual.rows().size()) {
      return diff(
          "row count",
          "expected " + expected.rows().size() + " rows, actual " + actual.rows().size());
    }
    Optional<List<SortKey>> keys = spec.sortKeys();
    if (keys.isEmpty()) {
      if (unlimited == null) {
        Optional<Difference> d = multiset(e, a, "wrong rows");
        return d.isPresent() && withinTolerance(expected.rows(), actual.rows(), compares)
            ? Optional.empty()
            : d;
      }
      return subset(a, canonicalRows(unlimited, compares), "wrong rows");
    }
    List<List<String>> ek = sortKeys(expected, keys.get());
    List<List<String>> ak = sortKeys(actual, keys.get());
    for (int i = 0; i < ek.size(); i++) {
      if (!ek.get(i).equals(ak.get(i))
          && !keysWithinTolerance(expected.rows().get(i), actual.rows().get(i), keys.get())) {
        return diff(
            "wrong order",
            "row " + i + ": expected sort key " + ek.get(i) + ", actual " + ak.get(i));
      }
    }
    if (unlimited != null) {
      return limitedRuns(
          a, ak, canonicalRows(unlimited, compares), sortKeys(unlimited, keys.get()));
    }
    int start = 0;
    for (int i = 0; i < e.size(); i++) {
      if (i + 1 == e.size() || !ek.get(i + 1).equals(ek.get(i))) {
        Optional<Difference> d =
            multiset(e.subList(start, i + 1), a.subList(start, i + 1), "wrong rows");
        if (d.isPresent()
            && !withinTolerance(
                expected.rows().subList(start, i + 1),
                actual.rows().subList(start, i + 1),
                compares)) {
          return diff(d.get().kind(), "rows " + start + ".." + i + ": " + d.get().detail());
        }
        start = i + 1;
      }
    }
    return Optional.empty();
  }

  /**
   * Whether the reference's ordered answer differs, as a multiset, from its {@code unordered}
   * answer to the same query without the ORDER BY, and the router's {@code actual} answer does not
   * (see {@code DifferentialCheck}: one database contradicts itself).
   */
  boolean orderContradicts(
      SelectSpec unorderedSpec, QueryResult unordered, QueryResult expected, QueryResult actual) {
    return orderContradicts(unorderedSpec, unordered, expected, actual, null);
  }

  /**
   * As above for a query with a LIMIT: {@code ordered} is the reference's answer without the LIMIT,
   * {@code unordered} its answer without the LIMIT and the ORDER BY; the router's rows must be as
   * many as the LIMIT keeps of the unordered answer, each one of its rows (which ones the LIMIT
   * keeps, and their order, are not checked: the reference's order is what contradicts itself).
   */
  boolean orderContradicts(
      SelectSpec unorderedSpec,
      QueryResult unordered,
      QueryResult ordered,
      QueryResult actual,
      SelectSpec.Limit limit) {
    if (compare(unorderedSpec, unordered, ordered, null).isEmpty()) {
      return false;
    }
    if (limit == null) {
      return compare(unorderedSpec, unordered, actual, null).isEmpty();
    }
    QueryResult window = window(limit, ordered, unordered);
    if (window == null
        || window.rows().size() != actual.rows().size()
        || !unordered.columns().equals(actual.columns())) {
      return false;
    }
    List<ValueCompare> compares =
        unorderedSpec.star() ? List.<ValueCompare>of() : unorderedSpec.columnCompares();
    return subset(canonicalRows(actual, compares), canonicalRows(unordered, compares), "")
        .isEmpty();
  }

  /**
   * The rows of {@code unlimited} that the LIMIT keeps (its offset and count as literals or
   * parameter values), or null when they cannot be read as numbers.
   */
  private static QueryResult window(
      SelectSpec.Limit limit, QueryResult expected, QueryResult unlimited) {
    try {
      long offset =
          limit.offset() == null
              ? 0
              : new BigDecimal(String.valueOf(limit.offset())).longValueExact();
      BigDecimal count = new BigDecimal(String.valueOf(limit.count()));
      int size = unlimited.rows().size();
      int from = (int) Math.min(size, Math.max(0, offset));
      int to =
          (int)
              Math.min(
                  size, from + count.max(BigDecimal.ZERO).min(BigDecimal.valueOf(size)).intValue());
      return new QueryResult(
          expected.columns(),
          expected.types(),
          new ArrayList<>(unlimited.rows().subList(from, to)),
          expected.rowCount());
    } catch (NumberFormatException | ArithmeticException e) {
      return null;
    }
  }

  private Optional<Difference> limitedRuns(
      List<List<String>> a,
      List<List<String>> ak,
      List<List<String>> full,
      List<List<String>> fullKeys) {
    Map<List<String>, List<List<String>>> byKey = new HashMap<>();
    for (int i = 0; i < full.size(); i++) {
      byKey.computeIfAbsent(fullKeys.get(i), k -> new ArrayList<>()).add(full.get(i));
    }
    Map<List<String>, List<List<String>>> actualByKey = new HashMap<>();
    for (int i = 0; i < a.size(); i++) {
      actualByKey.computeIfAbsent(ak.get(i), k -> new ArrayList<>()).add(a.get(i));
    }
    for (var run : actualByKey.entrySet()) {
      Optional<Difference> d =
          subset(run.getValue(), byKey.getOrDefault(run.getKey(), List.of()), "wrong rows");
      if (d.isPresent()) {
        return diff(d.get().kind(), "sort key " + run.getKey() + ": " + d.get().detail());
      }
    }
    return Optional.empty();
  }

  private List<List<String>> canonicalRows(QueryResult r, List<ValueCompare> compares) {
    List<List<String>> out = new ArrayList<>();
    for (List<Object> row : r.rows()) {
      out.add(canonical.row(row, compares));
    }
    return out;
  }

  private List<List<String>> sortKeys(QueryResult r, List<SortKey> keys) {
    List<List<String>> out = new ArrayList<>();
    for (List<Object> row : r.rows()) {
      List<String> k = new ArrayList<>();
      for (SortKey key : keys) {
        k.add(canonical.value(row.get(key.column()), key.compare()));
        if (key.compare().tolerant()) {
          // values equal within the tolerance may differ in digits the comparison drops (the
          // server's variance by Welford's algorithm in its row order, the router's by merging the
          // nodes' partial ones): each side orders such rows by those digits, so the rows form one
          // run, compared as a multiset, and the keys after it do not order them
          break;
        }
      }
      out.add(k);
    }
    return out;
  }

  /**
   * The types with every integer width read as one for the columns that hold a scalar function of a
   * column: MariaDB 11.4 reports {@code COALESCE(int_column, 0)} as INT or BIGINT depending on its
   * plan (measured: LONG when the query sorts, LONGLONG when not; {@code MAX(COALESCE(id, 0))} is
   * LONG once a GROUP BY is sorted), so one database has no single width to reproduce.
   */
  private static List<String> widthFree(SelectSpec spec, List<String> types) {
    if (spec.star()) {
      return types;
    }
    List<String> out = new ArrayList<>(types);
    for (int i = 0; i < out.size() && i < spec.items().size(); i++) {
      if (Expr.hasScalar(spec.items().get(i).expr()) && out.get(i).matches("INT(8|16|24|32|64)")) {
        out.set(i, "INT");
      }
    }
    return out;
  }

  /**
   * Whether the rows pair up as multisets when floating-point columns compare within a relative
   * 1e-9 instead of by their 9-digit rounding: two values a few units of the 15th digit apart round
   * differently when they straddle a 9-digit boundary (seed 106: VAR_POP 2.0254392249999999e19
   * exactly, the server's 2.025439224999561e19 and the merge's ...25e19 rounded to ...22 and
   * ...23).
   */
  private boolean withinTolerance(
      List<List<Object>> expected, List<List<Object>> actual, List<ValueCompare> compares) {
    if (compares.stream().noneMatch(c -> c.mode() == ValueCompare.Mode.APPROX)
        || expected.size() != actual.size()
        || expected.size() > 2000) {
      return false;
    }
    boolean[] used = new boolean[expected.size()];
    for (List<Object> row : actual) {
      boolean found = false;
      for (int j = 0; j < expected.size() && !found; j++) {
        if (!used[j] && sameWithinTolerance(expected.get(j), row, compares)) {
          used[j] = true;
          found = true;
        }
      }
      if (!found) {
        return false;
      }
    }
    return true;
  }

  private boolean sameWithinTolerance(
      List<Object> expected, List<Object> actual, List<ValueCompare> compares) {
    for (int i = 0; i < expected.size(); i++) {
      ValueCompare c = i < compares.size() ? compares.get(i) : ValueCompare.EXACT;
      Object x = expected.get(i);
      Object y = actual.get(i);
      if (c.mode() == ValueCompare.Mode.APPROX && number(x) != null && number(y) != null) {
        double a = number(x);
        double b = number(y);
        if (Math.abs(a - b) > 1e-9 * Math.max(Math.abs(a), Math.abs(b))
            && !adjacentRoundings(x, y, c.shownScale())) {
          return false;
        }
      } else if (!java.util.Objects.equals(canonical.value(x, c), canonical.value(y, c))) {
        return false;
      }
    }
    return true;
  }

  /**
   * Whether two values shown rounded to {@code scale} decimals are one unit of that last decimal
   * apart: the roundings of two doubles that straddle a half at that scale (see {@link
   * ValueCompare#approxShown}). Only for values that do hold at most that many decimals, so an
   * unrounded double (the binary protocol) is not given the unit.
   */
  private static boolean adjacentRoundings(Object x, Object y, int scale) {
    if (scale < 0) {
      return false;
    }
    BigDecimal a = decimal(x);
    BigDecimal b = decimal(y);
    return a != null
        && b != null
        && a.stripTrailingZeros().scale() <= scale
        && b.stripTrailingZeros().scale() <= scale
        && a.subtract(b).abs().compareTo(BigDecimal.ONE.movePointLeft(scale)) == 0;
  }

  private static BigDecimal decimal(Object v) {
    if (v instanceof io.vertx.sqlclient.data.Numeric n) {
      return n.bigDecimalValue();
    }
    if (v instanceof BigDecimal d) {
      return d;
    }
    if (v instanceof Double || v instanceof Float) {
      double d = ((Number) v).doubleValue();
      return Double.isFinite(d) ? new BigDecimal(Double.toString(d)) : null;
    }
    return null;
  }

  /** The sort keys of two rows, floating-point ones within a relative 1e-9 (see above). */
  private boolean keysWithinTolerance(List<Object> e, List<Object> a, List<SortKey> keys) {
    for (SortKey key : keys) {
      if (!sameWithinTolerance(
          java.util.Arrays.asList(e.get(key.column())),
          java.util.Arrays.asList(a.get(key.column())),
          List.of(key.compare()))) {
        return false;
      }
      if (key.compare().tolerant()) {
        break;
      }
    }
    return true;
  }

  private static Double number(Object v) {
    if (v instanceof io.vertx.sqlclient.data.Numeric n) {
      return n.doubleValue();
    }
    if (v instanceof Number n) {
      return n.doubleValue();
    }
    return null;
  }

  /** Equal as multisets. */
  static Optional<Difference> multiset(
      List<List<String>> expected, List<List<String>> actual, String kind) {
    Map<List<String>, Integer> counts = counts(expected);
    actual.forEach(row -> counts.merge(row, -1, Integer::sum));
    for (var entry : counts.entrySet()) {
      if (entry.getValue() != 0) {
        return diff(
            kind,
            (entry.getValue() > 0 ? "missing row " : "unexpected row ")
                + entry.getKey()
                + other(counts, entry.getValue() > 0));
      }
    }
    return Optional.empty();
  }

  /** Every actual row is one of the candidates (as a multiset). */
  static Optional<Difference> subset(
      List<List<String>> actual, List<List<String>> candidates, String kind) {
    Map<List<String>, Integer> counts = counts(candidates);
    for (List<String> row : actual) {
      if (counts.merge(row, -1, Integer::sum) < 0) {
        return diff(kind, "unexpected row " + row + " (not in the reference's un-limited result)");
      }
    }
    return Optional.empty();
  }

  private static String other(Map<List<String>, Integer> counts, boolean missing) {
    for (var entry : counts.entrySet()) {
      if (missing ? entry.getValue() < 0 : entry.getValue() > 0) {
        return (missing ? "; unexpected row " : "; missing row ") + entry.getKey();
      }
    }
    return "";
  }

  private static Map<List<String>, Integer> counts(List<List<String>> rows) {
    Map<List<String>, Integer> counts = new HashMap<>();
    rows.forEach(row -> counts.merge(row, 1, Integer::sum));
    return counts;
  }

  static Optional<Difference> diff(String kind, String detail) {
    String oneLine = detail.replaceAll("\\s+", " ");
    return Optional.of(
        new Difference(kind, oneLine.length() > 400 ? oneLine.substring(0, 400) + "..." : oneLine));
  }

  /**
   * Column types as the protocol reports them, with STRING and VARSTRING taken as one: the server
   * itself reports either for the same expression depending on its plan (MIN/MAX of an ENUM or SET
   * column is STRING when read from a temporary table, VARSTRING otherwise), and both decode to the
   * same Java String.
   */
  static boolean sameTypes(List<String> expected, List<String> actual) {
    if (expected.size() != actual.size()) {
      return false;
    }
    for (int i = 0; i < expected.size(); i++) {
      String e = expected.get(i);
      String a = actual.get(i);
      if (!e.equals(a) && !(isText(e) && isText(a)) && !lengthClass(e).equals(lengthClass(a))) {
        return false;
      }
    }
    return true;
  }

  /**
   * For empty results only: MariaDB describes {@code SELECT DISTINCT bit_column} as BIT or as an
   * unsigned integer depending on whether its plan used a temporary table; with rows the values
   * decide (they are compared), without rows nothing else is there to compare.
   */
  /**
   * Whether the types differ only where a column of BIT values (compared in either encoding, {@link
   * ValueCompare.Mode#BITS}) is described as BIT on one side and as an unsigned integer on the
   * other: seed 152 (generation 4), {@code SELECT DISTINCT k AS e0 FROM t ORDER BY e0 DESC} on a
   * BIT(16) key came back as BIT from one database and as an unsigned BIGINT from a shard (its
   * smaller table, another plan), with the same values.
   */
  private static boolean bitsEitherWay(
      SelectSpec spec, List<String> expected, List<String> actual) {
    if (spec.star() || expected.size() != actual.size()) {
      return false;
    }
    List<ValueCompare> compares = spec.columnCompares();
    for (int i = 0; i < expected.size(); i++) {
      if (expected.get(i).equals(actual.get(i))) {
        continue;
      }
      if (i >= compares.size()
          || compares.get(i).mode() != ValueCompare.Mode.BITS
          || !bitOrInteger(expected.get(i))
          || !bitOrInteger(actual.get(i))) {
        return false;
      }
    }
    return true;
  }

  private static boolean bitOrInteger(String type) {
    return type.equals("BIT") || type.matches("U?_?INT\\d+");
  }

  private static List<String> bitsAsIntegers(List<String> types) {
    return types.stream()
        .map(t -> t.equals("BIT") || t.matches("U?_?INT\\d+") ? "INT" : t)
        .toList();
  }

  private static boolean isText(String type) {
    return type.equals("STRING") || type.equals("VARSTRING");
  }

  /**
   * The length class of a TEXT or BLOB result: the server reports {@code MIN(json_column)} as
   * LONG_TEXT when it reads the column directly and as TEXT through a temporary table (a unit's
   * GROUP BY for a DISTINCT aggregate), both decoded to the same Java type.
   */
  private static String lengthClass(String type) {
    return type.replaceFirst("^(TINY_|MEDIUM_|LONG_)(TEXT|BLOB)$", "$2");
  }
}
