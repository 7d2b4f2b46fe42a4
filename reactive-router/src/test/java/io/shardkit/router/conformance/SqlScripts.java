package io.shardkit.router.conformance;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import net.sf.jsqlparser.parser.CCJSqlParserUtil;
import net.sf.jsqlparser.statement.Statement;
import net.sf.jsqlparser.statement.create.table.ColumnDefinition;
import net.sf.jsqlparser.statement.create.table.CreateTable;

/** Splits the corpus's SQL scripts into statements and reads their CREATE TABLE column lists. */
final class SqlScripts {

  private static final Pattern QUALIFIED = Pattern.compile("`?(\\w+)`?\\s*\\.\\s*`?\\w");

  private SqlScripts() {}

  /**
   * The statements of a script: {@code --} and {@code #} comment lines removed, split at {@code ;}
   * outside quotes, blank ones dropped.
   */
  static List<String> statements(String script) {
    StringBuilder text = new StringBuilder();
    for (String line : script.split("\\R")) {
      String t = line.strip();
      if (t.startsWith("--") || t.startsWith("#")) {
        continue;
      }
      text.append(line).append('\n');
    }
    List<String> out = new ArrayList<>();
    StringBuilder current = new StringBuilder();
    char quote = 0;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (quote != 0) {
        current.append(c);
        if (c == '\\' && i + 1 < text.length()) {
          current.append(text.charAt(++i));
        } else if (c == quote) {
          quote = 0;
        }
      } else if (c == '\'' || c == '"' || c == '`') {
        quote = c;
        current.append(c);
      } else if (c == ';') {
        add(out, current);
      } else {
        current.append(c);
      }
    }
    add(out, current);
    return out;
  }

  private static void add(List<String> out, StringBuilder current) {
    String s = current.toString().strip();
    if (!s.isEmpty()) {
      out.add(s);
    }
    current.setLength(0);
  }

  /** The database names used as qualifiers ({@code db.table}) in a statement, lower case. */
  static List<String> qualifiers(String statement) {
    List<String> out = new ArrayList<>();
    Matcher m = QUALIFIED.matcher(statement);
    while (m.find()) {
      out.add(m.group(1).toLowerCase(Locale.ROOT));
    }
    return out;
  }

  /** Removes the qualifier {@code database.} (with or without backticks) from a statement. */
  static String unqualify(String statement, String database) {
    return statement.replaceAll(
        "(?i)`?\\b" + Pattern.quote(database) + "\\b`?\\s*\\.\\s*(?=`?\\w)", "");
  }

  /** Lower-case table name → column names in DDL order, from the script's CREATE TABLEs. */
  static Map<String, List<String>> columns(String script) {
    Map<String, List<String>> out = new LinkedHashMap<>();
    for (String sql : statements(script)) {
      if (!sql.regionMatches(true, 0, "CREATE TABLE", 0, 12)) {
        continue;
      }
      Statement statement;
      try {
        statement = CCJSqlParserUtil.newParser(sql).Statement();
      } catch (Exception e) {
        throw new IllegalArgumentException("cannot parse DDL: " + sql, e);
      }
      if (statement instanceof CreateTable create && create.getColumnDefinitions() != null) {
        List<String> names = new ArrayList<>();
        for (ColumnDefinition d : create.getColumnDefinitions()) {
          names.add(unquote(d.getColumnName()).toLowerCase(Locale.ROOT));
        }
        out.put(unquote(create.getTable().getName()).toLowerCase(Locale.ROOT), names);
      }
    }
    return out;
  }

  static String unquote(String identifier) {
    String s = identifier.strip();
    if (s.length() >= 2
        && (s.charAt(0) == '`' || s.charAt(0) == '"')
        && s.charAt(s.length() - 1) == s.charAt(0)) {
      return s.substring(1, s.length() - 1);
    }
    return s;
  }

  /** A SQL literal for a JSON value: NULL, a number, or a quoted, escaped string. */
  static String literal(Object value) {
    if (value == null) {
      return "NULL";
    }
    if (value instanceof Number || value instanceof Boolean) {
      return value.toString();
    }
    return "'" + value.toString().replace("\\", "\\\\").replace("'", "''") + "'";
  }

  /** Groups actual_schema.sql's statements by data source, their database qualifiers removed. */
  static Map<String, List<String>> physicalDdl(
      String script, Map<String, String> dataSourceByDatabase) {
    Set<String> declared = new LinkedHashSet<>();
    Map<String, List<String>> byDs = new LinkedHashMap<>();
    String current = null;
    for (String sql : statements(script)) {
      String upper = sql.toUpperCase(Locale.ROOT);
      if (upper.startsWith("CREATE DATABASE") || upper.startsWith("CREATE SCHEMA")) {
        String[] words = sql.replace("`", "").split("\\s+");
        declared.add(words[words.length - 1].toLowerCase(Locale.ROOT));
        continue;
      }
      if (upper.startsWith("USE ")) {
        current = unquote(sql.substring(4).strip()).toLowerCase(Locale.ROOT);
        continue;
      }
      if (upper.startsWith("DROP DATABASE") || upper.startsWith("SET ")) {
        continue;
      }
      String target = null;
      boolean foreign = false;
      for (String q : qualifiers(sql)) {
        if (dataSourceByDatabase.containsKey(q)) {
          if (target != null && !target.equals(q)) {
            throw new IllegalArgumentException(
                "actual_schema.sql: statement spans databases "
                    + target
                    + " and "
                    + q
                    + ": "
                    + sql);
          }
          target = q;
        } else if (declared.contains(q)) {
          foreign = true;
        }
      }
      if (target == null && foreign) {
        continue; // a database no data source uses (e.g. a read replica)
      }
      if (target == null) {
        target = current;
      }
      if (target == null) {
        throw new IllegalArgumentException(
            "actual_schema.sql: no database for statement (qualify its table or USE one): " + sql);
      }
      String ds = dataSourceByDatabase.get(target);
      if (ds == null) {
        continue;
      }
      byDs.computeIfAbsent(ds, k -> new ArrayList<>()).add(unqualify(sql, target));
    }
    return byDs;
  }

  static List<String> insertStatements(String table, List<JsonObject> rows) {
    List<String> out = new ArrayList<>();
    StringBuilder sql = null;
    List<String> columns = null;
    int inBatch = 0;
    for (JsonObject row : rows) {
      List<String> rowColumns = new ArrayList<>(row.fieldNames());
      if (sql == null || !rowColumns.equals(columns) || inBatch == 200) {
        if (sql != null) {
          out.add(sql.toString());
        }
        columns = rowColumns;
        sql = new StringBuilder("INSERT INTO `").append(table).append("` (");
        for (int i = 0; i < columns.size(); i++) {
          sql.append(i == 0 ? "" : ", ").append('`').append(columns.get(i)).append('`');
        }
        sql.append(") VALUES ");
        inBatch = 0;
      } else {
        sql.append(", ");
      }
      sql.append('(');
      for (int i = 0; i < columns.size(); i++) {
        sql.append(i == 0 ? "" : ", ").append(literal(row.getValue(columns.get(i))));
      }
      sql.append(')');
      inBatch++;
    }
    if (sql != null) {
      out.add(sql.toString());
    }
    return out;
  }

  static List<JsonObject> rows(JsonArray array, String where) {
    List<JsonObject> out = new ArrayList<>();
    if (array == null) {
      throw new IllegalArgumentException(where + ": must be an array of row objects");
    }
    for (Object o : array) {
      if (!(o instanceof JsonObject row)) {
        throw new IllegalArgumentException(where + ": row " + o + " is not an object");
      }
      out.add(row);
    }
    return out;
  }
}
