package io.shardkit.router.conformance;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Tuple;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One case of a corpus's {@code cases.json}: a SQL text with one parameter set, and what the
 * comparison needs to know about it (ordered, DML tables to compare, flags for results that are not
 * fully determined by the SQL).
 *
 * @param id unique within the scenario, e.g. {@code dql-select-or#2}
 * @param sql the statement, {@code ?} placeholders
 * @param params typed parameter values (Integer, Long, String, ...)
 * @param kind {@code dql} or {@code dml}
 * @param ordered whether the statement has a top-level ORDER BY
 * @param tables the logical tables the statement uses
 * @param tablesToCompare for DML: the tables whose contents are compared afterwards
 * @param flags the corpus's flags (see the corpus README)
 * @param runnable false when the case cannot run as a plain differential case
 * @param orderByHasTies the reference check saw whole rows change order with the load order
 * @param recordedCount the corpus's own reference run: rows of a query or affected rows of a DML,
 *     or -1 when not recorded; a different count on our reference database points at the harness
 */
record CorpusCase(
    String id,
    String sql,
    List<Object> params,
    String kind,
    boolean ordered,
    List<String> tables,
    List<String> tablesToCompare,
    List<String> flags,
    boolean runnable,
    boolean orderByHasTies,
    long recordedCount) {

  boolean isDml() {
    return "dml".equals(kind);
  }

  boolean hasFlag(String flag) {
    return flags.contains(flag);
  }

  Tuple tuple() {
    return Tuple.wrap(new ArrayList<>(params));
  }

  static CorpusCase fromJson(JsonObject json) {
    String id = json.getString("id");
    if (id == null || json.getString("sql") == null) {
      throw new IllegalArgumentException("case without id or sql: " + json.encode());
    }
    List<Object> params = new ArrayList<>();
    JsonArray paramsJson = json.getJsonArray("params", new JsonArray());
    for (int i = 0; i < paramsJson.size(); i++) {
      Object p = paramsJson.getValue(i);
      if (p instanceof JsonObject typed) {
        params.add(typedValue(typed.getValue("value"), typed.getString("type"), id));
      } else {
        params.add(p);
      }
    }
    JsonObject expected = json.getJsonObject("expected", new JsonObject());
    JsonObject check = json.getJsonObject("reference_check", new JsonObject());
    String kind = json.getString("kind", "dql").toLowerCase(Locale.ROOT);
    return new CorpusCase(
        id,
        json.getString("sql"),
        params,
        kind,
        json.getBoolean("ordered", false),
        strings(json.getJsonArray("tables")),
        strings(expected.getJsonArray("tables_in_expected_file")),
        strings(json.getJsonArray("flags")),
        json.getBoolean("runnable", true) && appliesToMySql(json),
        check.getBoolean("order_by_has_ties", false),
        check.getLong("row_count", check.getLong("affected_rows", -1L)));
  }

  /** A case whose {@code db_types} is present and does not name MySQL is not for this runner. */
  private static boolean appliesToMySql(JsonObject json) {
    JsonArray types = json.getJsonArray("db_types");
    return types == null
        || types.stream().anyMatch(t -> "mysql".equalsIgnoreCase(String.valueOf(t)));
  }

  /** Converts a JSON parameter to the Java type its source type name asks for. */
  static Object typedValue(Object value, String type, String caseId) {
    if (value == null) {
      return null;
    }
    String t = type == null ? "" : type.toLowerCase(Locale.ROOT);
    if (value instanceof Number n) {
      return switch (t) {
        case "int", "integer", "short", "byte", "" -> n instanceof Integer ? n : toIntOrLong(n);
        case "long", "bigint" -> n.longValue();
        case "float", "double" -> n.doubleValue();
        case "decimal", "bigdecimal", "numeric" -> new BigDecimal(n.toString());
        case "string", "varchar", "char" -> n.toString();
        default ->
            throw new IllegalArgumentException(
                "case " + caseId + ": unknown parameter type '" + type + "' for " + value);
      };
    }
    if (value instanceof Boolean || value instanceof String) {
      return value;
    }
    throw new IllegalArgumentException(
        "case " + caseId + ": unsupported parameter value " + value + " (type " + type + ")");
  }

  private static Object toIntOrLong(Number n) {
    long l = n.longValue();
    return l == (int) l ? (Object) (int) l : (Object) l;
  }

  private static List<String> strings(JsonArray array) {
    List<String> out = new ArrayList<>();
    if (array != null) {
      array.forEach(o -> out.add(String.valueOf(o)));
    }
    return List.copyOf(out);
  }
}
