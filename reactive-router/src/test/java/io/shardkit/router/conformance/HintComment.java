package io.shardkit.router.conformance;

import io.shardkit.context.RoutingHint;
import io.shardkit.context.ScopeOptions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A ShardingSphere SQL hint comment, {@code /* SHARDINGSPHERE_HINT: t.SHARDING_TABLE_VALUE=1,
 * DATA_SOURCE_NAME=ds_0 *}{@code /}, read into the values of a shardkit routing hint. The comment
 * stays in the SQL (the router and MySQL ignore comments); the runner passes the values as the
 * routing hint of the statement.
 *
 * @param dataSource {@code DATA_SOURCE_NAME}, or null
 * @param databaseValues lower-case table → {@code SHARDING_DATABASE_VALUE}s
 * @param tableValues lower-case table → {@code SHARDING_TABLE_VALUE}s
 */
record HintComment(
    String dataSource,
    Map<String, List<Object>> databaseValues,
    Map<String, List<Object>> tableValues) {

  private static final Pattern COMMENT =
      Pattern.compile("/\\*\\s*SHARDINGSPHERE_HINT\\s*:(.*?)\\*/", Pattern.DOTALL);

  /** The hint of a SQL text, if it has a hint comment. */
  static Optional<HintComment> of(String sql) {
    Matcher m = COMMENT.matcher(sql);
    if (!m.find()) {
      return Optional.empty();
    }
    String dataSource = null;
    Map<String, List<Object>> db = new LinkedHashMap<>();
    Map<String, List<Object>> table = new LinkedHashMap<>();
    for (String item : m.group(1).split(",")) {
      int eq = item.indexOf('=');
      if (eq < 0) {
        throw new IllegalArgumentException("hint item without '=': '" + item.strip() + "'");
      }
      String key = item.substring(0, eq).strip();
      Object value = value(item.substring(eq + 1).strip());
      String upper = key.toUpperCase(Locale.ROOT);
      if (upper.equals("DATA_SOURCE_NAME")) {
        dataSource = String.valueOf(value);
      } else if (upper.endsWith(".SHARDING_DATABASE_VALUE")) {
        db.computeIfAbsent(tableOf(key), k -> new ArrayList<>()).add(value);
      } else if (upper.endsWith(".SHARDING_TABLE_VALUE")) {
        table.computeIfAbsent(tableOf(key), k -> new ArrayList<>()).add(value);
      } else {
        throw new IllegalArgumentException("hint item not understood: '" + item.strip() + "'");
      }
    }
    return Optional.of(new HintComment(dataSource, db, table));
  }

  private static String tableOf(String key) {
    return key.substring(0, key.lastIndexOf('.')).strip().toLowerCase(Locale.ROOT);
  }

  private static Object value(String text) {
    String t =
        text.length() >= 2 && text.startsWith("'") && text.endsWith("'")
            ? text.substring(1, text.length() - 1)
            : text;
    return t.matches("-?\\d{1,18}") ? (Object) Long.parseLong(t) : t;
  }

  /** Transaction-scope options carrying this hint, the way a shardkit user passes one. */
  ScopeOptions scopeOptions() {
    RoutingHint.Builder builder = RoutingHint.builder();
    if (dataSource != null) {
      builder.dataSource(dataSource);
    }
    databaseValues.forEach((t, v) -> builder.databaseValues(t, comparables(v)));
    tableValues.forEach((t, v) -> builder.tableValues(t, comparables(v)));
    return ScopeOptions.builder().routingHint(builder.build()).build();
  }

  private static List<Comparable<?>> comparables(List<Object> values) {
    List<Comparable<?>> out = new ArrayList<>();
    values.forEach(v -> out.add((Comparable<?>) v));
    return out;
  }
}
