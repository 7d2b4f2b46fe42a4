package io.shardkit.router.conformance;

import io.shardkit.context.ScopeOptions;
import io.shardkit.context.TxScope;
import io.shardkit.router.DataNode;
import io.shardkit.router.ShardedPool;
import io.shardkit.router.ShardingRules;
import io.shardkit.router.TableRule;
import io.shardkit.router.UnsupportedSqlException;
import io.shardkit.router.conformance.Comparison.Result;
import io.shardkit.router.conformance.Outcome.Status;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.DatabaseException;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Transaction;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Runs one case through the router and on the reference database and judges it.
 *
 * <p>DQL: the router's rows against the reference's ({@link Comparison}). DML: the update counts,
 * then the contents of the compared tables: the reference runs the statement inside a transaction
 * it rolls back after reading the tables; the router runs it for real, its physical tables are read
 * directly (not through the router), every row must sit on the node the rules compute, and every
 * physical table that changed is restored to its loaded rows afterwards. A refusal counts only if
 * it is an {@link UnsupportedSqlException} failing the Future and nothing was written.
 */
final class CaseRunner {

  private final ScenarioDatabases dbs;

  private final ShardedPool router;
  private final ShardingRules rules;
  private final Vertx vertx;
  private String referenceNote = "";
  private final StreamCheck stream;

  CaseRunner(ScenarioDatabases dbs, ShardedPool router, Vertx vertx) {
    this.dbs = dbs;
    this.router = router;
    this.vertx = vertx;
    this.stream = new StreamCheck(router);
    this.rules = router.rules();
  }

  Outcome run(CorpusCase c) {
    long start = System.nanoTime();
    referenceNote = "";
    Verdict v;
    try {
      v = c.isDml() ? dml(c) : dql(c);
    } catch (RuntimeException e) {
      v = Verdict.failed("runner error: " + describe(e));
    }
    return new Outcome(
        c.id(),
        c.kind(),
        v.status,
        v.reason,
        v.check,
        (System.nanoTime() - start) / 1_000_000,
        referenceNote);
  }

  /**
   * A query runs through {@code preparedQuery}; one without parameters runs through {@code query}
   * (text protocol) too, as ShardingSphere runs its cases as statements and prepared statements.
   * Both must pass.
   */
  private Verdict dql(CorpusCase c) {
    Verdict v = dql(c, !c.params().isEmpty());
    if (v.status != Status.PASSED) {
      return v;
    }
    if (c.params().isEmpty()) {
      Verdict prepared = dql(c, true);
      if (prepared.status != Status.PASSED) {
        return new Verdict(
            prepared.status, "as a prepared statement: " + prepared.reason, prepared.check);
      }
      v = v.checked(v.check + "; text and prepared");
    }
    return streamed(c, v);
  }

  /** A query the router answered correctly is read once more through its stream. */
  private Verdict streamed(CorpusCase c, Verdict v) {
    if (HintComment.of(c.sql()).isPresent() || c.hasFlag("limit_without_order_by")) {
      return v;
    }
    Attempt expected = execute(dbs.reference(), c.sql(), c, true);
    if (expected.error != null) {
      return v;
    }
    StreamCheck.Outcome o = stream.check(c, expected.result, mode(c, expected.result.columns()));
    return o.failed() ? Verdict.failed(o.text()) : v.checked(v.check + "; " + o.text());
  }

  private static Comparison.Mode mode(CorpusCase c, List<String> labels) {
    return new Comparison.Mode(
        c.ordered(),
        c.ordered() ? SortKeys.resolve(c.sql(), labels) : Optional.empty(),
        c.orderByHasTies(),
        c.hasFlag("group_concat_order_unspecified") ? Comparison.concatSplit(c.sql()) : null);
  }

  private Verdict dql(CorpusCase c, boolean prepared) {
    Attempt expected = execute(dbs.reference(), c.sql(), c, prepared);
    noteReference(c, expected, false);
    Attempt actual = routed(c, prepared);
    Optional<Verdict> early = errors(expected, actual);
    if (early.isPresent()) {
      return early.get();
    }
    Optional<String> diff;
    String check;
    if (c.hasFlag("limit_without_order_by")) {
      Optional<String> unlimited = SortKeys.withoutLimit(c.sql());
      if (unlimited.isEmpty()) {
        return Verdict.failed("runner: cannot remove the LIMIT of a limit_without_order_by case");
      }
      Attempt candidates = execute(dbs.reference(), unlimited.get(), c, prepared);
      if (candidates.error != null) {
        return Verdict.failed("reference without LIMIT failed: " + describe(candidates.error));
      }
      diff = Comparison.compareSubset(expected.result, candidates.result, actual.result);
      check =
          expected.result.rows().size()
              + " rows, any of the "
              + candidates.result.rows().size()
              + " rows without LIMIT";
    } else {
      Comparison.Mode mode = mode(c, expected.result.columns());
      diff = Comparison.compareQuery(expected.result, actual.result, mode);
      check = expected.result.rows().size() + " rows, " + mode.describe();
    }
    return diff.map(Verdict::failed).orElse(Verdict.PASSED).checked(check);
  }

  private Verdict dml(CorpusCase c) {
    Set<String> tables = new LinkedHashSet<>();
    c.tablesToCompare().forEach(t -> tables.add(t.toLowerCase(Locale.ROOT)));
    c.tables().forEach(t -> tables.add(t.toLowerCase(Locale.ROOT)));
    tables.removeIf(t -> dbs.nodesOf(t).isEmpty());

    Map<String, List<Map<String, Object>>> expectedContents = new LinkedHashMap<>();
    Attempt expected = referenceDml(c, tables, expectedContents);
    noteReference(c, expected, true);

    Attempt actual = routed(c, !c.params().isEmpty());
    List<DataNode> nodes = new ArrayList<>();
    tables.forEach(t -> nodes.addAll(dbs.nodesOf(t)));
    Map<DataNode, List<Map<String, Object>>> physical = dbs.readNodes(nodes);
    List<DataNode> changed = new ArrayList<>();
    physical.forEach(
        (node, rows) -> {
          if (!Comparison.canonicalRows(rows).equals(dbs.snapshot(node))) {
            changed.add(node);
          }
        });
    try {
      return judgeDml(c, tables, expected, expectedContents, actual, physical, changed);
    } finally {
      changed.forEach(dbs::restore);
    }
  }

  private void noteReference(CorpusCase c, Attempt expected, boolean dml) {
    if (c.recordedCount() < 0 || expected.result == null) {
      return;
    }
    long ours = dml ? expected.result.rowCount() : expected.result.rows().size();
    if (ours != c.recordedCount()) {
      referenceNote = "our reference gave " + ours + ", the corpus recorded " + c.recordedCount();
    }
  }

  private Verdict judgeDml(
      CorpusCase c,
      Set<String> tables,
      Attempt expected,
      Map<String, List<Map<String, Object>>> expectedContents,
      Attempt actual,
      Map<DataNode, List<Map<String, Object>>> physical,
      List<DataNode> changed) {
    if (isRefusal(actual) && !changed.isEmpty()) {
      return Verdict.failed(
          "refused (" + firstLine(actual.error) + ") but physical tables changed: " + changed);
    }
    Optional<Verdict> early = errors(expected, actual);
    if (early.isPresent() && early.get().status != Status.PASSED) {
      return early.get();
    }
    if (early.isEmpty() && expected.result.rowCount() != actual.result.rowCount()) {
      return Verdict.failed(
          "update count: expected "
              + expected.result.rowCount()
              + ", actual "
              + actual.result.rowCount());
    }
    StringBuilder check =
        new StringBuilder(
            early.isPresent() ? "both failed alike" : "update count " + expected.result.rowCount());
    for (String table : tables) {
      Optional<String> diff = compareTable(table, expectedContents.get(table), physical);
      if (diff.isPresent()) {
        return Verdict.failed(diff.get());
      }
      check
          .append(", ")
          .append(table)
          .append(" ")
          .append(expectedContents.get(table).size())
          .append(" rows");
    }
    check.append(", changed nodes ").append(changed);
    return early.orElse(Verdict.PASSED).checked(check.toString());
  }

  private Optional<String> compareTable(
      String table,
      List<Map<String, Object>> expected,
      Map<DataNode, List<Map<String, Object>>> physical) {
    List<DataNode> nodes = dbs.nodesOf(table);
    Optional<TableRule> rule = rules.tableRule(table);
    if (rules.isBroadcast(table)) {
      for (DataNode node : nodes) {
        Optional<String> diff =
            Comparison.compareContents(table + " copy " + node, expected, physical.get(node));
        if (diff.isPresent()) {
          return diff;
        }
      }
      return Optional.empty();
    }
    List<Map<String, Object>> union = new ArrayList<>();
    for (DataNode node : nodes) {
      union.addAll(physical.get(node));
      if (rule.isPresent() && ScenarioDatabases.columnRouted(rule.get())) {
        for (Map<String, Object> row : physical.get(node)) {
          Optional<String> wrong = dbs.misplaced(rule.get(), node, row);
          if (wrong.isPresent()) {
            return Comparison.reason("misplaced row: " + wrong.get());
          }
        }
      }
    }
    return Comparison.compareContents(table + " contents", expected, union);
  }

  /** Runs the DML on the reference inside a transaction, reads the tables, rolls back. */
  private Attempt referenceDml(
      CorpusCase c, Set<String> tables, Map<String, List<Map<String, Object>>> contents) {
    SqlConnection conn = ScenarioDatabases.await(dbs.reference().getConnection(), "reference");
    try {
      Transaction tx = ScenarioDatabases.await(conn.begin(), "reference BEGIN");
      Attempt attempt = execute(conn, c.sql(), c);
      for (String table : tables) {
        RowSet<Row> rows =
            ScenarioDatabases.await(
                conn.query("SELECT * FROM `" + table + "`").execute(), "reading " + table);
        contents.put(table, Comparison.rowMaps(rows));
      }
      ScenarioDatabases.await(tx.rollback(), "reference ROLLBACK");
      return attempt;
    } finally {
      conn.close();
    }
  }

  /**
   * The verdict when either side failed: refusal, both failed alike, or a failure; empty when both
   * succeeded.
   */
  private static Optional<Verdict> errors(Attempt expected, Attempt actual) {
    if (actual.synchronous) {
      return Optional.of(
          Verdict.failed("threw instead of failing the Future: " + describe(actual.error)));
    }
    if (isRefusal(actual)) {
      return Optional.of(new Verdict(Status.REFUSED, firstLine(actual.error), ""));
    }
    if (expected.error != null) {
      if (actual.error == null) {
        return Optional.of(
            Verdict.failed(
                "reference failed ("
                    + describe(expected.error)
                    + ") but the router answered with "
                    + actual.result.rows().size()
                    + " rows / "
                    + actual.result.rowCount()
                    + " updates"));
      }
      Integer e = errorCode(expected.error);
      Integer a = errorCode(actual.error);
      if (e != null && e.equals(a)) {
        return Optional.of(Verdict.PASSED);
      }
      return Optional.of(
          Verdict.failed(
              "both failed differently: reference "
                  + describe(expected.error)
                  + "; router "
                  + describe(actual.error)));
    }
    if (actual.error != null) {
      return Optional.of(Verdict.failed("router failed: " + describe(actual.error)));
    }
    return Optional.empty();
  }

  private static boolean isRefusal(Attempt attempt) {
    return attempt.error instanceof UnsupportedSqlException && !attempt.synchronous;
  }

  private static Integer errorCode(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof DatabaseException d) {
        return d.getErrorCode();
      }
    }
    return null;
  }

  /**
   * Runs the case through the router; a ShardingSphere hint comment in the SQL becomes the routing
   * hint of a transaction scope around the statement, the way a shardkit user passes a hint.
   */
  private Attempt routed(CorpusCase c, boolean prepared) {
    Optional<HintComment> hint = HintComment.of(c.sql());
    if (hint.isEmpty()) {
      return execute(router, c.sql(), c, prepared);
    }
    ScopeOptions options = hint.get().scopeOptions();
    return attempt(
        () -> TxScope.run(vertx, options, () -> statement(router, c.sql(), c, prepared)), c);
  }

  private static Future<RowSet<Row>> statement(
      SqlClient client, String sql, CorpusCase c, boolean prepared) {
    return prepared ? client.preparedQuery(sql).execute(c.tuple()) : client.query(sql).execute();
  }

  private static Attempt execute(SqlClient client, String sql, CorpusCase c) {
    return execute(client, sql, c, !c.params().isEmpty());
  }

  private static Attempt execute(SqlClient client, String sql, CorpusCase c, boolean prepared) {
    return attempt(() -> statement(client, sql, c, prepared), c);
  }

  private static Attempt attempt(Supplier<Future<RowSet<Row>>> work, CorpusCase c) {
    Future<RowSet<Row>> future;
    try {
      future = work.get();
    } catch (RuntimeException e) {
      return new Attempt(null, e, true);
    }
    try {
      return new Attempt(Result.of(ScenarioDatabases.await(future, c.id())), null, false);
    } catch (RuntimeException e) {
      return new Attempt(null, e, false);
    }
  }

  static String describe(Throwable t) {
    return t.getClass().getSimpleName() + ": " + firstLine(t);
  }

  static String firstLine(Throwable t) {
    String m = String.valueOf(t.getMessage()).strip();
    int nl = m.indexOf('\n');
    return nl < 0 ? m : m.substring(0, nl);
  }

  private record Attempt(Result result, Throwable error, boolean synchronous) {}

  private record Verdict(Status status, String reason, String check) {
    static final Verdict PASSED = new Verdict(Status.PASSED, "", "");

    static Verdict failed(String reason) {
      return new Verdict(Status.FAILED, Comparison.reason(reason).orElse(reason), "");
    }

    Verdict checked(String what) {
      return new Verdict(status, reason, what);
    }
  }
}
