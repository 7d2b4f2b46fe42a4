package io.shardkit.router;

import io.shardkit.router.spi.KeyGeneratorFactory;
import io.shardkit.router.spi.ShardingAlgorithmFactory;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The immutable sharding rules of a set of data sources: sharded tables ({@link TableRule}),
 * binding groups, broadcast tables, single tables and a default data source. Built from a {@link
 * #builder()} or from JSON ({@link #fromJson(JsonObject)}, format in the module README); every
 * value is validated when built and a bad one fails with a {@link ShardingConfigurationException}
 * naming the field path (e.g. {@code tables.t_order.tableStrategy.algorithm.type}) and the value.
 *
 * <p>Table names are matched case-insensitively and kept in lower case; column names likewise.
 */
public final class ShardingRules {

  private final Map<String, TableRule> tables;
  private final List<List<String>> bindingGroups;
  private final Set<String> broadcastTables;
  private final Map<String, String> singleTables;
  private final String defaultDataSource;
  private final Set<String> dataSourceNames;

  ShardingRules(
      Map<String, TableRule> tables,
      List<List<String>> bindingGroups,
      Set<String> broadcastTables,
      Map<String, String> singleTables,
      String defaultDataSource,
      Set<String> dataSourceNames) {
    this.tables = Map.copyOf(tables);
    this.bindingGroups = bindingGroups.stream().map(List::copyOf).toList();
    this.broadcastTables = Set.copyOf(broadcastTables);
    this.singleTables = Map.copyOf(singleTables);
    this.defaultDataSource = defaultDataSource;
    this.dataSourceNames =
        java.util.Collections.unmodifiableSet(new LinkedHashSet<>(dataSourceNames));
  }

  /** Starts a builder. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Reads rules from JSON (the format is in the module README). Algorithm and key generator types
   * are the built-in ones plus those found through {@link java.util.ServiceLoader}.
   *
   * @throws ShardingConfigurationException naming the field path and value of the first invalid
   *     entry
   */
  public static ShardingRules fromJson(JsonObject json) {
    return new RulesReader(List.of(), List.of()).read(json);
  }

  /** Every data source the rules refer to, in order of first mention. */
  public Set<String> dataSourceNames() {
    return dataSourceNames;
  }

  /** The rule of a sharded logical table (case-insensitive), if it is sharded. */
  public Optional<TableRule> tableRule(String logicalTable) {
    return Optional.ofNullable(tables.get(logicalTable.toLowerCase(Locale.ROOT)));
  }

  /** All sharded tables by lower-case logical name. */
  public Map<String, TableRule> tableRules() {
    return tables;
  }

  /** Groups of co-sharded tables that join pairwise on their sharding columns. */
  public List<List<String>> bindingGroups() {
    return bindingGroups;
  }

  /** The binding group containing the table, or a group of just the table. */
  public List<String> bindingGroupOf(String logicalTable) {
    String name = logicalTable.toLowerCase(Locale.ROOT);
    for (List<String> group : bindingGroups) {
      if (group.contains(name)) {
        return group;
      }
    }
    return List.of(name);
  }

  /** Tables with a full copy on every data source. */
  public Set<String> broadcastTables() {
    return broadcastTables;
  }

  /** Whether the table is a broadcast table. */
  public boolean isBroadcast(String logicalTable) {
    return broadcastTables.contains(logicalTable.toLowerCase(Locale.ROOT));
  }

  /** Tables that live whole on one data source: table → data source. */
  public Map<String, String> singleTables() {
    return singleTables;
  }

  /** The data source for tables no rule mentions, if configured. */
  public Optional<String> defaultDataSource() {
    return Optional.ofNullable(defaultDataSource);
  }

  /**
   * The data node that holds the row of a sharded table whose sharding columns have these values
   * (column names case-insensitive). Pure: no I/O. Single tables give their data source and the
   * table itself.
   *
   * @throws IllegalArgumentException when the table is unknown or a sharding column has no value
   */
  public DataNode nodeFor(String logicalTable, Map<String, ?> shardingValues) {
    String name = logicalTable.toLowerCase(Locale.ROOT);
    Map<String, Object> values = new LinkedHashMap<>();
    shardingValues.forEach((k, v) -> values.put(k.toLowerCase(Locale.ROOT), v));
    TableRule rule = tables.get(name);
    if (rule == null) {
      String single = singleTables.get(name);
      if (single != null) {
        return new DataNode(single, logicalTable);
      }
      throw new IllegalArgumentException("table " + logicalTable + " is not sharded nor single");
    }
    String dataSource =
        rule.databaseStrategy()
            .map(s -> pick(rule, "databaseStrategy", s, values))
            .orElse(rule.dataNodes().get(0).dataSource());
    String table =
        rule.tableStrategy().map(s -> pick(rule, "tableStrategy", s, values)).orElse(null);
    for (DataNode node : rule.dataNodes()) {
      if (node.dataSource().equals(dataSource) && (table == null || node.table().equals(table))) {
        return node;
      }
    }
    throw new IllegalArgumentException(
        "table " + logicalTable + ": no data node " + dataSource + "." + table + " for " + values);
  }

  /**
   * The data source holding the row of a sharded table whose database sharding column (the only one
   * of the database strategy) has this value; for tables on a single data source, that data source.
   * Pure: no I/O. Used, for example, by TCC to find the shard that owns a key.
   */
  public String dataSourceFor(String logicalTable, Object shardingValue) {
    TableRule rule = tables.get(logicalTable.toLowerCase(Locale.ROOT));
    if (rule == null) {
      return nodeFor(logicalTable, Map.of()).dataSource();
    }
    if (rule.databaseStrategy().isEmpty()) {
      return rule.dataNodes().get(0).dataSource();
    }
    ShardingStrategy strategy = rule.databaseStrategy().get();
    if (!strategy.isSingleColumn()) {
      throw new IllegalArgumentException(
          "table "
              + logicalTable
              + ": database strategy has columns "
              + strategy.columns()
              + "; use nodeFor(table, values)");
    }
    return pick(
        rule, "databaseStrategy", strategy, Map.of(strategy.columns().get(0), shardingValue));
  }

  private static String pick(
      TableRule rule, String level, ShardingStrategy strategy, Map<String, ?> values) {
    List<Object> args = new ArrayList<>();
    for (String column : strategy.columns()) {
      if (!values.containsKey(column)) {
        throw new IllegalArgumentException(
            "table "
                + rule.logicalTable()
                + ": no value for sharding column "
                + column
                + " ("
                + level
                + ")");
      }
      Object value = values.get(column);
      if (value instanceof CharSequence
          && strategy.algorithm() instanceof io.shardkit.router.impl.algorithm.CollationKeyed) {
        // the router hashes a text key's sort key in the column's collation, which these rules
        // do not know: answering from the raw text could name another shard than the router's
        throw new IllegalArgumentException(
            "table "
                + rule.logicalTable()
                + ": the node of "
                + column
                + " = '"
                + value
                + "' depends on the column's collation (a hashed text key is placed by its sort"
                + " key), which only a started ShardedPool knows; use"
                + " pool.dataSourcesFor(\"SELECT ... WHERE "
                + column
                + " = ?\", Tuple.of(value))");
      }
      args.add(value);
    }
    String target = strategy.algorithm().target(args);
    if (target == null) {
      throw new IllegalArgumentException(
          "table " + rule.logicalTable() + ": no " + level + " target for " + values);
    }
    return target;
  }

  @Override
  public String toString() {
    return "ShardingRules{tables="
        + tables.keySet()
        + ", binding="
        + bindingGroups
        + ", broadcast="
        + broadcastTables
        + ", single="
        + singleTables
        + ", default="
        + defaultDataSource
        + "}";
  }

  /**
   * Builds {@link ShardingRules}. The builder writes the same JSON {@link #fromJson} reads and
   * validates it the same way, so both give the same field paths in errors.
   */
  public static final class Builder {

    private final JsonObject json = new JsonObject();
    private final List<ShardingAlgorithmFactory> algorithmTypes = new ArrayList<>();
    private final List<KeyGeneratorFactory> keyGeneratorTypes = new ArrayList<>();

    private Builder() {}

    /** Declares the data sources (optional: by default, those the rules mention). */
    public Builder dataSources(String... names) {
      json.put("dataSources", new JsonArray(List.of((Object[]) names)));
      return this;
    }

    /** Adds a sharded table; its JSON follows the README format ({@code dataNodes}, ...). */
    public Builder table(String logicalTable, JsonObject tableJson) {
      tables().put(logicalTable, tableJson.copy());
      return this;
    }

    /** Adds a sharded table described through a {@link TableBuilder}. */
    public Builder table(String logicalTable, java.util.function.Consumer<TableBuilder> spec) {
      TableBuilder table = new TableBuilder();
      spec.accept(table);
      tables().put(logicalTable, table.json);
      return this;
    }

    /** Declares tables that are co-sharded and joined on their sharding columns. */
    public Builder bindingGroup(String... logicalTables) {
      JsonArray groups = json.getJsonArray("bindingGroups");
      if (groups == null) {
        groups = new JsonArray();
        json.put("bindingGroups", groups);
      }
      groups.add(new JsonArray(List.of((Object[]) logicalTables)));
      return this;
    }

    /** Declares broadcast tables (a full copy on every data source). */
    public Builder broadcastTables(String... logicalTables) {
      JsonArray tables = json.getJsonArray("broadcastTables");
      if (tables == null) {
        tables = new JsonArray();
        json.put("broadcastTables", tables);
      }
      for (String t : logicalTables) {
        tables.add(t);
      }
      return this;
    }

    /** Declares a table that lives whole on one data source. */
    public Builder singleTable(String logicalTable, String dataSource) {
      JsonObject singles = json.getJsonObject("singleTables");
      if (singles == null) {
        singles = new JsonObject();
        json.put("singleTables", singles);
      }
      singles.put(logicalTable, dataSource);
      return this;
    }

    /** The data source for tables no rule mentions. */
    public Builder defaultDataSource(String dataSource) {
      json.put("defaultDataSource", dataSource);
      return this;
    }

    /** Registers a user algorithm type (overrides a built-in one of the same name). */
    public Builder algorithmType(ShardingAlgorithmFactory factory) {
      algorithmTypes.add(factory);
      return this;
    }

    /** Registers a user key generator type. */
    public Builder keyGeneratorType(KeyGeneratorFactory factory) {
      keyGeneratorTypes.add(factory);
      return this;
    }

    /**
     * Validates and builds; fails with a {@link ShardingConfigurationException} naming the field.
     */
    public ShardingRules build() {
      return new RulesReader(algorithmTypes, keyGeneratorTypes).read(json);
    }

    private JsonObject tables() {
      JsonObject tables = json.getJsonObject("tables");
      if (tables == null) {
        tables = new JsonObject();
        json.put("tables", tables);
      }
      return tables;
    }
  }

  /** Describes one sharded table for {@link Builder#table(String, java.util.function.Consumer)}. */
  public static final class TableBuilder {

    private final JsonObject json = new JsonObject();

    private TableBuilder() {}

    /** Data node expression, e.g. {@code ds_${0..3}.t_order_${0..7}}. */
    public TableBuilder dataNodes(String expression) {
      json.put("dataNodes", expression);
      return this;
    }

    /** Database strategy on one column with a built-in or registered algorithm type. */
    public TableBuilder databaseStrategy(String column, String algorithmType) {
      return databaseStrategy(List.of(column), algorithmType, new JsonObject());
    }

    /** Database strategy on columns with an algorithm type and its properties. */
    public TableBuilder databaseStrategy(
        List<String> columns, String algorithmType, JsonObject props) {
      json.put("databaseStrategy", strategy(columns, algorithmType, props));
      return this;
    }

    /** Table strategy on one column with a built-in or registered algorithm type. */
    public TableBuilder tableStrategy(String column, String algorithmType) {
      return tableStrategy(List.of(column), algorithmType, new JsonObject());
    }

    /** Table strategy on columns with an algorithm type and its properties. */
    public TableBuilder tableStrategy(
        List<String> columns, String algorithmType, JsonObject props) {
      json.put("tableStrategy", strategy(columns, algorithmType, props));
      return this;
    }

    /** A Snowflake key generator for the column, with this worker id (0..1023). */
    public TableBuilder snowflakeKey(String column, int workerId) {
      return keyGenerator(column, "snowflake", new JsonObject().put("workerId", workerId));
    }

    /** A key generator of a type for the column. */
    public TableBuilder keyGenerator(String column, String type, JsonObject props) {
      json.put(
          "keyGenerator",
          new JsonObject().put("column", column).put("type", type).put("props", props));
      return this;
    }

    /** The table's columns in DDL order, so INSERTs without a column list can be routed. */
    public TableBuilder columns(String... columns) {
      json.put("columns", new JsonArray(List.of((Object[]) columns)));
      return this;
    }

    private static JsonObject strategy(List<String> columns, String type, JsonObject props) {
      return new JsonObject()
          .put("columns", new JsonArray(new ArrayList<>(columns)))
          .put("algorithm", new JsonObject().put("type", type).put("props", props));
    }
  }
}
