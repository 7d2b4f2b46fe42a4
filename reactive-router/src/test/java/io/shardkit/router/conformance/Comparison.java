package io.shardkit.router.conformance;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.data.Numeric;
import java.math.BigDecimal;
import java.time.temporal.TemporalAccessor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Compares what the router returned with what the unsharded reference database returned. Pure: no
 * I/O.
 *
 * <p>Values are compared in a canonical text form, so that a DECIMAL the router merged into a
 * {@code BigDecimal} equals the reference's {@code Numeric} and a number equals its decimal string
 * ({@code 200}, {@code 200.0} and {@code "200"} are one value); dates compare by ISO text. Column
 * labels must be identical. Row order is checked only as far as the SQL fixes it: unordered results
 * compare as multisets; ordered results compare their ORDER BY keys row by row and the rows within
 * a run of equal keys as multisets (ties may come back in any order).
 */
final class Comparison {

  private static final int MAX_REASON = 300;

  private Comparison() {}

  /**
   * A query result as the client saw it.
   *
   * @param columns the column labels
   * @param rows the raw values
   * @param rowCount the update count ({@code SqlResult.rowCount()}), summed over result sets
   * @param types the column type names of the result metadata ({@code
   *     ColumnDescriptor.typeName()}), empty when the client gave none
   */
  record Result(List<String> columns, List<List<Object>> rows, long rowCount, List<String> types) {

    Result(List<String> columns, List<List<Object>> rows, long rowCount) {
      this(columns, rows, rowCount, List.of());
    }

    static Result of(RowSet<Row> first) {
      List<String> columns = first.columnsNames() == null ? List.of() : first.columnsNames();
      List<List<Object>> rows = new ArrayList<>();
      for (Row row : first) {
        List<Object> values = new ArrayList<>(row.size());
        for (int i = 0; i < row.size(); i++) {
          values.add(row.getValue(i));
        }
        rows.add(values);
      }
      long count = 0;
      for (RowSet<Row> rs = first; rs != null; rs = rs.next()) {
        count += rs.rowCount();
      }
      List<String> types = new ArrayList<>();
      if (first.columnDescriptors() != null) {
        first.columnDescriptors().forEach(d -> types.add(String.valueOf(d.typeName())));
      }
      return new Result(List.copyOf(columns), rows, count, List.copyOf(types));
    }
  }

  /**
   * How a case's rows must match.
   *
   * @param ordered the SQL has a top-level ORDER BY
   * @param sortKeys result column indexes of the ORDER BY items, empty when not all map to a column
   * @param tiesExpected the reference reordered whole rows between two load orders
   * @param concatSplit GROUP_CONCAT without ORDER BY: a regex of its separators, to compare its
   *     elements as a set; null to compare values whole
   */
  record Mode(
      boolean ordered, Optional<List<Integer>> sortKeys, boolean tiesExpected, String concatSplit) {

    String describe() {
      if (!ordered) {
        return "as a multiset" + (concatSplit != null ? ", GROUP_CONCAT elements as sets" : "");
      }
      if (sortKeys.isPresent()) {
        return "ordered by result columns " + sortKeys.get() + ", ties as multisets";
      }
      return tiesExpected ? "as a multiset (order has ties, keys not in the result)" : "in order";
    }
  }

  /** Why the results differ, or empty when they match. */
  static Optional<String> compareQuery(Result expected, Result actual, Mode mode) {
    Optional<String> metadata = compareMetadata(expected, actual);
    if (metadata.isPresent()) {
      return metadata;
    }
    List<List<String>> e = canonical(expected.rows(), mode.concatSplit());
    List<List<String>> a = canonical(actual.rows(), mode.concatSplit());
    if (e.size() != a.size()) {
      return reason("expected " + e.size() + " rows, actual " + a.size() + firstDifference(e, a));
    }
    if (!mode.ordered()) {
      return multisetDifference(e, a);
    }
    if (mode.sortKeys().isPresent()) {
      return compareRuns(e, a, mode.sortKeys().get());
    }
    if (mode.tiesExpected()) {
      return multisetDifference(e, a);
    }
    for (int i = 0; i < e.size(); i++) {
      if (!e.get(i).equals(a.get(i))) {
        return reason("row " + i + " differs: expected " + e.get(i) + ", actual " + a.get(i));
      }
    }
    return Optional.empty();
  }

  /**
   * For a LIMIT without ORDER BY: the router may return any {@code expected.rows().size()} rows of
   * the un-limited result {@code candidates}.
   */
  static Optional<String> compareSubset(Result expected, Result candidates, Result actual) {
    Optional<String> metadata = compareMetadata(expected, actual);
    if (metadata.isPresent()) {
      return metadata;
    }
    if (expected.rows().size() != actual.rows().size()) {
      return reason("expected " + expected.rows().size() + " rows, actual " + actual.rows().size());
    }
    Map<List<String>, Integer> pool = counts(canonical(candidates.rows(), null));
    for (List<String> row : canonical(actual.rows(), null)) {
      if (pool.merge(row, -1, Integer::sum) < 0) {
        return reason("row " + row + " is not in the result without LIMIT");
      }
    }
    return Optional.empty();
  }

  /**
   * Labels must be identical; column types too when both sides report them; and each column's
   * values must be of one kind (number, text, temporal, binary) on both sides, so that a user's
   * {@code row.getInteger(...)} works on the router's rows wherever it works on the database's.
   */
  private static Optional<String> compareMetadata(Result expected, Result actual) {
    if (!expected.columns().equals(actual.columns())) {
      return reason(
          "columns differ: expected " + expected.columns() + ", actual " + actual.columns());
    }
    if (!expected.types().isEmpty()
        && !actual.types().isEmpty()
        && !expected.types().equals(actual.types())) {
      return reason(
          "column types differ: expected " + expected.types() + ", actual " + actual.types());
    }
    for (int c = 0; c < expected.columns().size(); c++) {
      String e = kindOf(expected.rows(), c);
      String a = kindOf(actual.rows(), c);
      if (e != null && a != null && !e.equals(a)) {
        return reason(
            "column "
                + expected.columns().get(c)
                + " holds "
                + a
                + " values, the database gives "
                + e);
      }
    }
    return Optional.empty();
  }

  /** The kind of the first non-null value of a column, or null. */
  static String kindOf(List<List<Object>> rows, int column) {
    for (List<Object> row : rows) {
      Object v = row.get(column);
      if (v != null) {
        return kind(v);
      }
    }
    return null;
  }

  static String kind(Object v) {
    if (v instanceof Number || v instanceof Numeric) {
      return "number";
    }
    if (v instanceof String) {
      return "text";
    }
    if (v instanceof TemporalAccessor || v instanceof java.time.Duration) {
      return "temporal";
    }
    if (v instanceof Buffer || v instanceof byte[]) {
      return "binary";
    }
    return v.getClass().getSimpleName();
  }

  /** Why two tables' contents differ (rows as column → value maps), or empty when they match. */
  static Optional<String> compareContents(
      String what, List<Map<String, Object>> expected, List<Map<String, Object>> actual) {
    List<String> e = canonicalRows(expected);
    List<String> a = canonicalRows(actual);
    if (e.equals(a)) {
      return Optional.empty();
    }
    List<String> missing = new ArrayList<>(e);
    List<String> extra = new ArrayList<>();
    for (String row : a) {
      if (!missing.remove(row)) {
        extra.add(row);
      }
    }
    return reason(
        what
            + ": expected "
            + e.size()
            + " rows, actual "
            + a.size()
            + (missing.isEmpty() ? "" : "; missing " + missing.get(0))
            + (extra.isEmpty() ? "" : "; unexpected " + extra.get(0)));
  }

  /** Rows as lower-case column name → raw value. */
  static List<Map<String, Object>> rowMaps(RowSet<Row> rows) {
    List<Map<String, Object>> out = new ArrayList<>();
    List<String> names = rows.columnsNames();
    for (Row row : rows) {
      Map<String, Object> m = new LinkedHashMap<>();
      for (int i = 0; i < row.size(); i++) {
        m.put(names.get(i).toLowerCase(Locale.ROOT), row.getValue(i));
      }
      out.add(m);
    }
    return out;
  }

  /** Sorted canonical texts of rows given as column → value maps (column order ignored). */
  static List<String> canonicalRows(List<Map<String, Object>> rows) {
    List<String> out = new ArrayList<>();
    for (Map<String, Object> row : rows) {
      JsonArray r = new JsonArray();
      new TreeMap<>(row).forEach((k, v) -> r.add(k).add(canonical(v)));
      out.add(r.encode());
    }
    out.sort(null);
    return out;
  }

  /** The canonical text of a value; null stays null. */
  static String canonical(Object v) {
    if (v == null) {
      return null;
    }
    if (v instanceof Numeric n) {
      BigDecimal d = n.bigDecimalValue();
      return d == null ? n.toString() : plain(d);
    }
    if (v instanceof BigDecimal d) {
      return plain(d);
    }
    if (v instanceof Double || v instanceof Float) {
      double d = ((Number) v).doubleValue();
      return Double.isFinite(d) ? plain(BigDecimal.valueOf(d)) : Double.toString(d);
    }
    if (v instanceof Number n) {
      return plain(new BigDecimal(n.toString()));
    }
    if (v instanceof Boolean b) {
      return b ? "1" : "0";
    }
    if (v instanceof Buffer b) {
      return "0x" + HexFormat.of().formatHex(b.getBytes());
    }
    if (v instanceof byte[] b) {
      return "0x" + HexFormat.of().formatHex(b);
    }
    if (v instanceof String s) {
      return looksNumeric(s) ? plain(new BigDecimal(s.strip())) : s;
    }
    if (v instanceof TemporalAccessor) {
      return v.toString();
    }
    return v.toString();
  }

  private static boolean looksNumeric(String s) {
    return s.strip().matches("[+-]?(\\d+\\.?\\d*|\\.\\d+)") && s.strip().length() < 60;
  }

  private static String plain(BigDecimal d) {
    BigDecimal s = d.stripTrailingZeros();
    return s.signum() == 0 ? "0" : s.toPlainString();
  }

  /**
   * The regex splitting GROUP_CONCAT values into elements: the SEPARATOR literals of the SQL and
   * the default comma.
   */
  static String concatSplit(String sql) {
    StringBuilder regex = new StringBuilder("(?:,");
    Matcher m = SEPARATOR.matcher(sql);
    while (m.find()) {
      if (!m.group(1).isEmpty()) {
        regex.append('|').append(Pattern.quote(m.group(1)));
      }
    }
    return regex.append(")").toString();
  }

  private static final Pattern SEPARATOR = Pattern.compile("(?i)SEPARATOR\\s+'([^']*)'");

  private static List<List<String>> canonical(List<List<Object>> rows, String concatSplit) {
    List<List<String>> out = new ArrayList<>(rows.size());
    for (List<Object> row : rows) {
      List<String> r = new ArrayList<>(row.size());
      for (Object v : row) {
        String c = canonical(v);
        if (concatSplit != null && c != null) {
          String[] parts = c.split(concatSplit, -1);
          Arrays.sort(parts);
          c = String.join(",", parts);
        }
        r.add(c);
      }
      out.add(r);
    }
    return out;
  }

  private static Optional<String> compareRuns(
      List<List<String>> e, List<List<String>> a, List<Integer> keys) {
    int start = 0;
    for (int i = 0; i < e.size(); i++) {
      List<String> ek = key(e.get(i), keys);
      List<String> ak = key(a.get(i), keys);
      if (!ek.equals(ak)) {
        return reason(
            "ORDER BY order differs at row " + i + ": expected key " + ek + ", actual key " + ak);
      }
      boolean runEnds = i + 1 == e.size() || !key(e.get(i + 1), keys).equals(ek);
      if (runEnds) {
        Optional<String> diff =
            multisetDifference(e.subList(start, i + 1), a.subList(start, i + 1));
        if (diff.isPresent()) {
          return reason("rows " + start + ".." + i + " (sort key " + ek + "): " + diff.get());
        }
        start = i + 1;
      }
    }
    return Optional.empty();
  }

  private static List<String> key(List<String> row, List<Integer> keys) {
    List<String> k = new ArrayList<>(keys.size());
    for (int index : keys) {
      k.add(row.get(index));
    }
    return k;
  }

  private static Optional<String> multisetDifference(List<List<String>> e, List<List<String>> a) {
    Map<List<String>, Integer> counts = counts(e);
    for (List<String> row : a) {
      counts.merge(row, -1, Integer::sum);
    }
    for (var entry : counts.entrySet()) {
      if (entry.getValue() > 0) {
        return reason("missing row " + entry.getKey() + firstExtra(counts));
      }
    }
    for (var entry : counts.entrySet()) {
      if (entry.getValue() < 0) {
        return reason("unexpected row " + entry.getKey());
      }
    }
    return Optional.empty();
  }

  private static String firstExtra(Map<List<String>, Integer> counts) {
    for (var entry : counts.entrySet()) {
      if (entry.getValue() < 0) {
        return "; unexpected row " + entry.getKey();
      }
    }
    return "";
  }

  private static String firstDifference(List<List<String>> e, List<List<String>> a) {
    return multisetDifference(e, a).map(s -> "; " + s).orElse("");
  }

  private static Map<List<String>, Integer> counts(List<List<String>> rows) {
    Map<List<String>, Integer> counts = new HashMap<>();
    for (List<String> row : rows) {
      counts.merge(row, 1, Integer::sum);
    }
    return counts;
  }

  static Optional<String> reason(String text) {
    String oneLine = text.replaceAll("\\s+", " ");
    return Optional.of(
        oneLine.length() <= MAX_REASON ? oneLine : oneLine.substring(0, MAX_REASON) + "...");
  }
}
