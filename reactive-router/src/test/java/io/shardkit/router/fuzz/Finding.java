package io.shardkit.router.fuzz;

import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * A mismatch made minimal, with everything needed to reproduce it on two databases by hand: the
 * seed and statement number, the tables' DDL and rules, the rows, the statement, and what differed.
 */
record Finding(
    String signature,
    long seed,
    int statementIndex,
    String original,
    String minimal,
    Verdict verdict,
    List<FuzzTable> tables,
    Map<String, List<List<Object>>> rows,
    JsonObject rules) {

  private static final Pattern STRING = Pattern.compile("'(?:[^'\\\\]|''|\\\\.)*'");
  private static final Pattern NUMBER = Pattern.compile("(?<![\\w.])-?\\d+(\\.\\d+)?(e-?\\d+)?");
  private static final Pattern COLUMN = Pattern.compile("\\b(?:[a-z]\\.)?(c\\d+)\\b");

  /** The class of a minimal statement: the mismatch kind and its shape with values elided. */
  static String signature(Verdict verdict, FuzzStatement statement) {
    String sql = statement.sql();
    sql = STRING.matcher(sql).replaceAll("'?'");
    sql = NUMBER.matcher(sql).replaceAll("N");
    List<FuzzTable> tables = statement.tables();
    sql =
        COLUMN
            .matcher(sql)
            .replaceAll(
                m -> {
                  boolean joined = m.group().startsWith("b.") && tables.size() > 1;
                  FuzzTable table = tables.get(joined ? 1 : 0);
                  return table.columns().stream()
                      .filter(c -> c.name().equals(m.group(1)))
                      .findFirst()
                      .map(c -> "<" + c.type().tag() + collationTag(c.type()) + ">")
                      .orElse(m.group());
                });
    return verdict.category() + " | " + sql;
  }

  private static String collationTag(ColumnType type) {
    return type.collation() == null ? "" : " " + type.collation();
  }

  /** Markdown: repro for the findings file. */
  String markdown() {
    StringBuilder md = new StringBuilder();
    md.append("### ").append(verdict.category()).append("\n\n");
    md.append("- class: `").append(signature).append("`\n");
    md.append("- seed ").append(seed).append(", statement #").append(statementIndex).append("\n");
    md.append("- minimal statement: `").append(minimal).append("`\n");
    md.append("- original statement: `").append(original).append("`\n");
    md.append("- difference: ").append(verdict.detail().replace("\n", "\n  ")).append("\n\n");
    md.append("```sql\n");
    for (FuzzTable t : tables) {
      md.append(t.ddl(t.name())).append(";\n");
      List<List<Object>> r = rows.get(t.name());
      if (r != null && !r.isEmpty()) {
        md.append("INSERT INTO ")
            .append(t.name())
            .append(" (")
            .append(t.columnList())
            .append(") VALUES\n");
        for (int i = 0; i < r.size(); i++) {
          md.append("  (");
          for (int c = 0; c < r.get(i).size(); c++) {
            md.append(c == 0 ? "" : ", ").append(SqlText.literal(r.get(i).get(c)));
          }
          md.append(i + 1 < r.size() ? "),\n" : ");\n");
        }
      }
    }
    md.append("```\n\nrules:\n```json\n");
    JsonObject tablesJson = rules.getJsonObject("tables");
    JsonObject relevant = new JsonObject();
    for (FuzzTable t : tables) {
      if (tablesJson.containsKey(t.name())) {
        relevant.put(t.name(), tablesJson.getJsonObject(t.name()));
      }
    }
    md.append(rules.copy().put("tables", relevant).encode()).append("\n```\n");
    return md.toString();
  }

  JsonObject toJson() {
    return new JsonObject()
        .put("class", signature)
        .put("kind", verdict.category())
        .put("seed", seed)
        .put("statement", statementIndex)
        .put("minimal", minimal)
        .put("original", original)
        .put("detail", verdict.detail());
  }
}
