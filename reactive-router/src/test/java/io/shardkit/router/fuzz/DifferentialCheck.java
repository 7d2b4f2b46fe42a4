package io.shardkit.router.fuzz;

import io.shardkit.router.DataNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Runs one statement through the router and on the reference database and judges it: MATCH, REFUSED
 * (a typed refusal failing the Future, with nothing written) or MISMATCH. A query's rows go through
 * {@link ResultCheck}; a write is judged by its update count and by the whole table afterwards: the
 * reference's rows against the union of the actual tables read directly, every broadcast copy, the
 * table read through the router, and each row's place under the rules. A write that left the two
 * sides different is repaired (the reference's rows reloaded everywhere).
 */
final class DifferentialCheck {

  private static final long ROUTER_SECONDS = 10;

  private final FuzzWorld world;
  private final ResultCheck results;
  private final StreamRead stream;

  DifferentialCheck(FuzzWorld world, CollationKey collations) {
    this.world = world;
    this.results = new ResultCheck(new Canonical(collations));
    this.stream = new StreamRead(world.router());
  }

  Verdict check(FuzzStatement statement) {
    try {
      return statement.isQuery() ? query(statement) : write(statement);
    } catch (RuntimeException e) {
      return Verdict.mismatch("fuzzer error " + e.getClass().getSimpleName(), e.toString());
    }
  }

  private Verdict query(FuzzStatement st) {
    String sql = st.sql();
    List<Object> params = st.params();
    Attempt expected = Attempt.run(world.reference(), sql, params, st.prepared());
    Attempt actual = routed(sql, params, st.prepared());
    Optional<Verdict> errors = errors(expected, actual);
    if (errors.isPresent()) {
      return errors.get();
    }
    QueryResult unlimited = null;
    if (st.select().limit() != null) {
      FuzzStatement all = st.with(st.select().withLimit(null));
      Attempt full = Attempt.run(world.reference(), all.sql(), all.params(), st.prepared());
      // rows past the LIMIT may fail to evaluate (an overflow): then compare without them
      unlimited = full.failed() ? null : full.result();
    }
    Optional<ResultCheck.Difference> difference =
        results.compare(st.select(), expected.result(), actual.result(), unlimited);
    if (difference.isPresent() && contradictedByItsOrder(st, expected, actual, unlimited)) {
      return Verdict.REFERENCE_CONTRADICTED;
    }
    if (difference.isPresent() && contradictedByItsPlan(st, expected, actual)) {
      return Verdict.REFERENCE_CONTRADICTED;
    }
    if (difference.isPresent()) {
      return Verdict.mismatch(
          difference.get().kind(), difference.get().detail() + expectedActual(expected, actual));
    }
    // aggregates are not streamed across units, and a cursor rounds DOUBLE aggregates to their
    // display decimals on one unit: compare streams of plain rows only
    return st.paramDelta() == 0 && !st.select().grouping()
        ? streamed(st, expected.result(), unlimited)
        : Verdict.MATCH;
  }

  /**
   * Whether the reference's ordered answer is not, as a multiset, its answer to the same query
   * without the ORDER BY (and without a LIMIT, the ORDER BY cannot change which rows there are),
   * while the router's answer is: one database contradicts itself, and the router has the rows it
   * answers unordered. Seed 122: MariaDB 11.4.5 merges the NULL group into the group 3.000 for
   * {@code SELECT MOD(c3, 7), AVG(DISTINCT c5) FROM t GROUP BY MOD(c3, 7) ORDER BY MOD(c3, 7) DESC}
   * (a DECIMAL c3 holding 17.000 and NULL; right with ASC, without the ORDER BY or without
   * DISTINCT), measured on one table of two rows. The router's order is then not checked. With a
   * LIMIT (seed 128: the same with {@code ABS(dec)} and {@code COUNT(DISTINCT datetime)}, {@code
   * LIMIT 10}) the reference's answers without the LIMIT are compared, and the router's rows must
   * be as many as the LIMIT keeps, each a row of the unordered answer.
   */
  private boolean contradictedByItsOrder(
      FuzzStatement st, Attempt expected, Attempt actual, QueryResult unlimited) {
    SelectSpec.Limit limit = st.select().limit();
    if (st.select().orderBy().isEmpty()
        || st.paramDelta() != 0
        || limit != null && unlimited == null) {
      return false;
    }
    FuzzStatement unordered = st.with(st.select().withOrderBy(List.of()).withLimit(null));
    Attempt plain =
        Attempt.run(world.reference(), unordered.sql(), unordered.params(), st.prepared());
    return !plain.failed()
        && results.orderContradicts(
            unordered.select(),
            plain.result(),
            limit == null ? expected.result() : unlimited,
            actual.result(),
            limit);
  }

  /**
   * Whether the reference answers the same query on the same rows differently once its plan may not
   * look values up through an index ({@code IGNORE INDEX (k)} on every table), and the router's
   * answer is that one: one database contradicts itself, its answer depending on its plan. Seeds
   * 132 and 181: MariaDB 11.4.5 answers neither {@code k IN (SELECT k ...)} nor {@code k NOT IN
   * (SELECT k ...)} for a DOUBLE {@code k} of -1.5 looked up through an INT column's index (an
   * {@code index_subquery}; the subquery holds no NULL), and answers the row with the index
   * ignored, as 10.11 does either way. Without a LIMIT only (a LIMIT's rows may differ by plan).
   */
  private boolean contradictedByItsPlan(FuzzStatement st, Attempt expected, Attempt actual) {
    if (st.select().limit() != null || st.paramDelta() != 0) {
      return false;
    }
    Attempt planless =
        Attempt.run(world.reference(), st.sqlIgnoringIndexes(), st.params(), st.prepared());
    return !planless.failed()
        && results.compare(st.select(), planless.result(), actual.result(), null).isEmpty()
        && results.compare(st.select(), planless.result(), expected.result(), null).isPresent();
  }

  /** The same query through {@code stream()}: a refusal is fine, a wrong row is not. */
  private Verdict streamed(FuzzStatement st, QueryResult textExpected, QueryResult unlimited) {
    QueryResult expected = textExpected;
    if (!st.prepared() && expected.types().contains("FLOAT")) {
      // a cursor reads rows in the binary protocol, which sends a FLOAT as its 4 bytes where the
      // text protocol sends 6 significant digits: compare with the reference's prepared answer
      Attempt binary = Attempt.run(world.reference(), st.sql(), st.params(), true);
      if (binary.failed()) {
        return Verdict.MATCH;
      }
      expected = binary.result();
      if (unlimited != null) {
        FuzzStatement all = st.with(st.select().withLimit(null));
        Attempt full = Attempt.run(world.reference(), all.sql(), all.params(), true);
        unlimited = full.failed() ? null : full.result();
      }
    }
    return streamedAgainst(st, expected, unlimited);
  }

  private Verdict streamedAgainst(FuzzStatement st, QueryResult expected, QueryResult unlimited) {
    StreamRead.Outcome o = stream.read(st.sql(), st.params(), expected.types());
    if (o == null || o.refused()) {
      return Verdict.MATCH;
    }
    if (o.error() != null) {
      Attempt failed = new Attempt(null, o.error(), false);
      return Verdict.mismatch("stream: " + failed.errorKind(), failed.describeError());
    }
    QueryResult streamedResult =
        o.result().rows().isEmpty()
            ? new QueryResult(expected.columns(), expected.types(), List.of(), 0)
            : o.result();
    return results
        .compare(st.select(), expected, streamedResult, unlimited)
        .map(
            d ->
                Verdict.mismatch(
                    "stream: " + d.kind(),
                    d.detail()
                        + expectedActual(
                            new Attempt(expected, null, false),
                            new Attempt(streamedResult, null, false))))
        .orElse(Verdict.MATCH);
  }

  /** Whether the router sends this write to several data sources. */
  private boolean multiNode(String sql, List<Object> params) {
    try {
      return world.router().dataSourcesFor(sql, io.vertx.sqlclient.Tuple.wrap(params)).size() > 1;
    } catch (RuntimeException e) {
      return false;
    }
  }

  private Attempt routed(String sql, List<Object> params, boolean prepared) {
    return Attempt.guarded(world.router(), sql, params, prepared, ROUTER_SECONDS);
  }

  private static String expectedActual(Attempt expected, Attempt actual) {
    return "\n  expected: " + rows(expected.result()) + "\n  actual:   " + rows(actual.result());
  }

  private static String rows(QueryResult r) {
    List<String> out = new ArrayList<>();
    for (List<Object> row : r.rows().subList(0, Math.min(12, r.rows().size()))) {
      out.add(row.stream().map(v -> v == null ? "NULL" : Canonical.exact(v)).toList().toString());
    }
    return out + (r.rows().size() > 12 ? " ... (" + r.rows().size() + " rows)" : "");
  }

  /** The verdict when either side failed; empty when both answered. */
  private static Optional<Verdict> errors(Attempt expected, Attempt actual) {
    if (actual.thrown()) {
      return Optional.of(Verdict.mismatch(actual.errorKind(), actual.describeError()));
    }
    if (actual.refused()) {
      return Optional.of(Verdict.refused(actual.refusalReason()));
    }
    if (expected.failed()) {
      if (actual.databaseError()
          || (!actual.thrown() && actual.failed() && sameClass(expected, actual))) {
        return Optional.of(Verdict.BOTH_FAILED);
      }
      if (!actual.failed()) {
        return Optional.of(
            Verdict.mismatch(
                "router answered where the reference failed",
                "reference: " + expected.describeError()));
      }
      return Optional.of(
          Verdict.mismatch(
              actual.errorKind(),
              actual.describeError() + "; reference: " + expected.describeError()));
    }
    if (actual.failed()) {
      return Optional.of(Verdict.mismatch(actual.errorKind(), actual.describeError()));
    }
    return Optional.empty();
  }

  /** Both failed with the same client-side error (e.g. the driver's parameter count check). */
  private static boolean sameClass(Attempt expected, Attempt actual) {
    return !(expected.error() instanceof io.vertx.sqlclient.DatabaseException)
        && expected.error().getClass().equals(actual.error().getClass());
  }

  private Verdict write(FuzzStatement st) {
    FuzzTable table = st.dml().table();
    String sql = st.sql();
    List<Object> params = st.params();
    Attempt actual = routed(sql, params, st.prepared());
    if (actual.refused() || actual.thrown()) {
      Optional<String> changed = compareTable(table);
      if (changed.isPresent()) {
        world.load(table.name(), world.referenceRows(table));
        return Verdict.mismatch(
            actual.thrown() ? actual.errorKind() : "refused after writing",
            actual.describeError() + "; " + changed.get());
      }
      return errors(null, actual).orElseThrow();
    }
    Attempt expected = Attempt.run(world.reference(), sql, params, st.prepared());
    Verdict verdict = writeVerdict(expected, actual);
    Optional<String> contents = compareTable(table);
    if (contents.isPresent()) {
      world.load(table.name(), world.referenceRows(table));
      if (expected.failed() && actual.failed() && !actual.thrown() && multiNode(sql, params)) {
        return Verdict.partialWrite(actual.describeError() + "; " + contents.get());
      }
      if (!verdict.isMismatch()) {
        verdict =
            Verdict.mismatch(
                contents.get().substring(0, contents.get().indexOf(':')), contents.get());
      }
    }
    return verdict;
  }

  private static Verdict writeVerdict(Attempt expected, Attempt actual) {
    if (expected.failed() || actual.failed()) {
      return errors(expected, actual).orElse(Verdict.MATCH);
    }
    if (expected.result().rowCount() != actual.result().rowCount()) {
      return Verdict.mismatch(
          "update count",
          "expected " + expected.result().rowCount() + ", actual " + actual.result().rowCount());
    }
    return Verdict.MATCH;
  }

  /** Why the table differs between the reference and the data nodes, or empty. */
  private Optional<String> compareTable(FuzzTable table) {
    List<List<String>> expected = exact(world.referenceRows(table));
    Map<DataNode, List<List<Object>>> physical = world.physicalRows(table);
    List<List<String>> union = new ArrayList<>();
    for (var entry : physical.entrySet()) {
      List<List<String>> rows = exact(entry.getValue());
      if (table.distribution() == FuzzTable.Distribution.BROADCAST) {
        Optional<ResultCheck.Difference> d = ResultCheck.multiset(expected, rows, "");
        if (d.isPresent()) {
          return Optional.of("broadcast copy differs: " + entry.getKey() + " " + d.get().detail());
        }
        continue;
      }
      union.addAll(rows);
      for (List<Object> row : entry.getValue()) {
        Optional<String> wrong = misplaced(table, entry.getKey(), row);
        if (wrong.isPresent()) {
          return wrong;
        }
      }
    }
    if (table.distribution() != FuzzTable.Distribution.BROADCAST) {
      Optional<ResultCheck.Difference> d = ResultCheck.multiset(expected, union, "");
      if (d.isPresent()) {
        return Optional.of("table contents differ: " + table.name() + " " + d.get().detail());
      }
    }
    Attempt routed =
        routed("SELECT " + table.columnList() + " FROM " + table.name(), List.of(), false);
    if (routed.failed()) {
      return Optional.of("table read through the router failed: " + routed.describeError());
    }
    Optional<ResultCheck.Difference> d =
        ResultCheck.multiset(expected, exact(routed.result().rows()), "");
    return d.map(x -> "table read through the router differs: " + table.name() + " " + x.detail());
  }

  private Optional<String> misplaced(FuzzTable table, DataNode node, List<Object> row) {
    Object key = row.get(1);
    ColumnType.Kind keyKind = table.key().type().kind();
    if (keyKind == ColumnType.Kind.INET6 || keyKind == ColumnType.Kind.INET4) {
      // the router hashes no INET6/INET4 key (a condition reads every node, an INSERT is
      // refused): any node is the row's, and the contents are compared as a union above
      return Optional.empty();
    }
    DataNode expected;
    try {
      expected = world.nodeOf(table, row);
    } catch (RuntimeException e) {
      return Optional.of(
          "misplaced row: k=" + key + " has no node (" + e.getMessage() + ") but is on " + node);
    }
    if (!expected.equals(node)) {
      return Optional.of(
          "misplaced row: "
              + rowText(row)
              + " is on "
              + node
              + ", the rules place it on "
              + expected);
    }
    return Optional.empty();
  }

  private static String rowText(List<Object> row) {
    return row.stream().map(v -> v == null ? "NULL" : Canonical.exact(v)).toList().toString();
  }

  private static List<List<String>> exact(List<List<Object>> rows) {
    List<List<String>> out = new ArrayList<>();
    for (List<Object> row : rows) {
      out.add(row.stream().map(v -> v == null ? null : Canonical.exact(v)).toList());
    }
    return out;
  }
}
