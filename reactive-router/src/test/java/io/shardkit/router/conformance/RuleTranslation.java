package io.shardkit.router.conformance;

import io.shardkit.router.ShardingRules;
import io.shardkit.router.spi.KeyGenerator;
import io.shardkit.router.spi.KeyGeneratorFactory;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A scenario's rules in shardkit's model, and where each data source's rows are in the corpus.
 *
 * <p>Two {@code rules.json} formats are read:
 *
 * <ul>
 *   <li>shardkit's own rule JSON (what {@link ShardingRules#fromJson} reads) with one extra
 *       top-level object {@code "shardkit": {"format": 1, "databases": {dataSource: database}}};
 *       {@code databases} (optional, default: the data source's own name) names the database each
 *       data source is called by in {@code actual_schema.sql} and {@code actual_data.json}.
 *   <li>the ShardingSphere-derived description of the shared corpus ({@code sharding_tables},
 *       {@code data_sources}, ...): each physical database becomes one shardkit data source of the
 *       same name; {@code <column> % <n>} strategies become the built-in {@code mod} algorithm with
 *       {@code count = n}; a {@code HINT_INLINE} strategy {@code prefix${value}} becomes a
 *       hint-only {@code mod} (no column; the value comes from the routing hint); the {@code
 *       IT.AUTO_INCREMENT.FIXTURE} key generator becomes a sequence 1, 2, 3, ... registered through
 *       the key generator SPI.
 * </ul>
 *
 * @param format {@code shardkit} or {@code shardingsphere}
 * @param rules the rules the router is built with
 * @param databases data source → the database name the corpus files use for it
 */
record RuleTranslation(String format, ShardingRules rules, Map<String, String> databases) {

  static final String MARKER = "shardkit";
  private static final Pattern MOD_EXPRESSION = Pattern.compile("^\\s*(\\w+)\\s*%\\s*(\\d+)\\s*$");
  private static final Pattern HINT_EXPRESSION =
      Pattern.compile("^\\s*(\\w*)\\$\\{\\s*value\\s*}\\s*$");

  /** Reads a scenario's rules; fails naming the rule it cannot express. */
  static RuleTranslation of(Scenario scenario) {
    JsonObject json = scenario.rules();
    if (json.containsKey(MARKER)) {
      return shardkit(json);
    }
    if (json.containsKey("sharding_tables") || json.containsKey("data_sources")) {
      return shardingSphere(json, SqlScripts.columns(scenario.schemaSql()));
    }
    throw new IllegalArgumentException(
        "scenario "
            + scenario.name()
            + ": rules.json is neither shardkit rule JSON (top-level \""
            + MARKER
            + "\" object) nor a ShardingSphere-derived description (\"sharding_tables\")");
  }

  private static RuleTranslation shardkit(JsonObject json) {
    JsonObject copy = json.copy();
    Object marker = copy.remove(MARKER);
    if (!(marker instanceof JsonObject options)) {
      throw new IllegalArgumentException(
          "rules.json: \"" + MARKER + "\" must be an object like {\"format\": 1}, got " + marker);
    }
    Object format = options.getValue("format", 1);
    if (!Integer.valueOf(1).equals(format)) {
      throw new IllegalArgumentException(
          "rules.json: unknown " + MARKER + ".format " + format + " (known: 1)");
    }
    ShardingRules rules = ShardingRules.fromJson(copy);
    JsonObject mapping = options.getJsonObject("databases", new JsonObject());
    Map<String, String> databases = new LinkedHashMap<>();
    for (String ds : rules.dataSourceNames()) {
      databases.put(ds, mapping.getString(ds, ds).toLowerCase(Locale.ROOT));
    }
    for (String ds : mapping.fieldNames()) {
      if (!rules.dataSourceNames().contains(ds)) {
        throw new IllegalArgumentException(
            "rules.json: " + MARKER + ".databases names unknown data source " + ds);
      }
    }
    return new RuleTranslation("shardkit", rules, databases);
  }

  private static RuleTranslation shardingSphere(
      JsonObject json, Map<String, List<String>> columns) {
    ShardingRules.Builder builder = ShardingRules.builder();
    Set<String> dataSources = new LinkedHashSet<>();
    JsonObject dataSourcesJson = json.getJsonObject("data_sources", new JsonObject());
    for (String name : dataSourcesJson.fieldNames()) {
      dataSources.add(
          dataSourcesJson.getJsonObject(name).getString("database", name).toLowerCase(Locale.ROOT));
    }
    boolean sequence = false;
    JsonObject tables = json.getJsonObject("sharding_tables", new JsonObject());
    for (String table : tables.fieldNames()) {
      JsonObject t = tables.getJsonObject(table);
      JsonObject out = new JsonObject();
      JsonArray nodes = new JsonArray();
      List<String> targetsDb = new ArrayList<>();
      List<String> targetsTable = new ArrayList<>();
      for (Object node : t.getJsonArray("actual_data_nodes_expanded")) {
        String n = String.valueOf(node).toLowerCase(Locale.ROOT);
        nodes.add(n);
        String db = n.substring(0, n.indexOf('.'));
        dataSources.add(db);
        if (!targetsDb.contains(db)) {
          targetsDb.add(db);
        }
        String actual = n.substring(n.indexOf('.') + 1);
        if (!targetsTable.contains(actual)) {
          targetsTable.add(actual);
        }
      }
      out.put("dataNodes", nodes);
      JsonObject db = t.getJsonObject("database_strategy");
      if (db != null) {
        out.put("databaseStrategy", strategy(table, "database_strategy", db, targetsDb.size()));
      }
      JsonObject tbl = t.getJsonObject("table_strategy");
      if (tbl != null) {
        out.put("tableStrategy", strategy(table, "table_strategy", tbl, targetsTable.size()));
      }
      JsonObject key = t.getJsonObject("key_generator");
      if (key != null) {
        out.put("keyGenerator", keyGenerator(table, key));
        sequence |= SequenceKeys.TYPE.equals(out.getJsonObject("keyGenerator").getString("type"));
      }
      List<String> tableColumns = columns.get(table.toLowerCase(Locale.ROOT));
      if (tableColumns != null) {
        out.put("columns", new JsonArray(new ArrayList<>(tableColumns)));
      }
      builder.table(table, out);
    }
    for (Object group : json.getJsonArray("binding_table_groups", new JsonArray())) {
      List<String> members = new ArrayList<>();
      for (Object member : (JsonArray) group) {
        members.add(String.valueOf(member));
      }
      builder.bindingGroup(members.toArray(String[]::new));
    }
    List<String> broadcast = new ArrayList<>();
    json.getJsonArray("broadcast_tables", new JsonArray()).forEach(b -> broadcast.add((String) b));
    builder.broadcastTables(broadcast.toArray(String[]::new));
    JsonObject singles = json.getJsonObject("single_tables", new JsonObject());
    for (String table : singles.fieldNames()) {
      String db = singles.getString(table).toLowerCase(Locale.ROOT);
      dataSources.add(db);
      builder.singleTable(table, db);
    }
    builder.dataSources(dataSources.toArray(String[]::new));
    if (sequence) {
      builder.keyGeneratorType(new SequenceKeys());
    }
    ShardingRules rules = builder.build();
    Map<String, String> databases = new LinkedHashMap<>();
    rules.dataSourceNames().forEach(ds -> databases.put(ds, ds));
    return new RuleTranslation("shardingsphere", rules, databases);
  }

  private static JsonObject strategy(String table, String level, JsonObject s, int targets) {
    String type = s.getString("type", "standard").toLowerCase(Locale.ROOT);
    String where = "sharding_tables." + table + "." + level;
    if (type.equals("standard")) {
      String column = s.getString("sharding_column");
      String expression = s.getString("expression", "");
      Matcher m = MOD_EXPRESSION.matcher(expression);
      if (column == null || !m.matches() || !m.group(1).equalsIgnoreCase(column)) {
        throw new IllegalArgumentException(
            where
                + ": cannot express '"
                + expression
                + "' on column "
                + column
                + " (only '<column> % <n>' is translated)");
      }
      return new JsonObject()
          .put("column", column)
          .put(
              "algorithm",
              new JsonObject()
                  .put("type", "mod")
                  .put("props", new JsonObject().put("count", Long.parseLong(m.group(2)))));
    }
    if (type.equals("hint")) {
      JsonObject props = s.getJsonObject("props", new JsonObject());
      String expression = props.getString("algorithm-expression", "");
      if (!HINT_EXPRESSION.matcher(expression).matches()) {
        throw new IllegalArgumentException(
            where + ": cannot express hint expression '" + expression + "' (only prefix${value})");
      }
      return new JsonObject()
          .put("columns", new JsonArray())
          .put(
              "algorithm",
              new JsonObject()
                  .put("type", "mod")
                  .put("props", new JsonObject().put("count", targets)));
    }
    throw new IllegalArgumentException(where + ": unknown strategy type " + type);
  }

  private static JsonObject keyGenerator(String table, JsonObject key) {
    String type = key.getString("type", "");
    String column = key.getString("column");
    if (type.equalsIgnoreCase("IT.AUTO_INCREMENT.FIXTURE")) {
      return new JsonObject().put("column", column).put("type", SequenceKeys.TYPE);
    }
    if (type.equalsIgnoreCase("SNOWFLAKE")) {
      return new JsonObject()
          .put("column", column)
          .put("type", "snowflake")
          .put("props", new JsonObject().put("workerId", 1));
    }
    throw new IllegalArgumentException(
        "sharding_tables." + table + ".key_generator: unknown type " + type);
  }

  /** The {@code IT.AUTO_INCREMENT.FIXTURE} key generator: 1, 2, 3, ... per generator. */
  static final class SequenceKeys implements KeyGeneratorFactory {
    static final String TYPE = "conformance-sequence";

    @Override
    public String type() {
      return TYPE;
    }

    @Override
    public KeyGenerator create(JsonObject props) {
      AtomicLong next = new AtomicLong(1);
      return next::getAndIncrement;
    }
  }
}
