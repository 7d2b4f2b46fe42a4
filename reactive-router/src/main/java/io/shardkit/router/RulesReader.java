package io.shardkit.router;

import io.shardkit.router.spi.KeyGenerator;
import io.shardkit.router.spi.KeyGeneratorFactory;
import io.shardkit.router.spi.ShardingAlgorithm;
import io.shardkit.router.spi.ShardingAlgorithmFactory;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.Set;

/** Reads and validates the rule JSON; every error names the field path and the value. */
final class RulesReader {

  private static final Set<String> TOP_LEVEL =
      Set.of(
          "dataSources",
          "tables",
          "bindingGroups",
          "broadcastTables",
          "singleTables",
          "defaultDataSource");
  private static final Set<String> TABLE_FIELDS =
      Set.of("dataNodes", "databaseStrategy", "tableStrategy", "keyGenerator", "columns");

  private final Map<String, ShardingAlgorithmFactory> algorithms = new HashMap<>();
  private final Map<String, KeyGeneratorFactory> keyGenerators = new HashMap<>();

  RulesReader(
      List<ShardingAlgorithmFactory> userAlgorithms, List<KeyGeneratorFactory> userKeyGenerators) {
    ClassLoader loader = RulesReader.class.getClassLoader();
    for (ShardingAlgorithmFactory f : ServiceLoader.load(ShardingAlgorithmFactory.class, loader)) {
      algorithms.put(f.type().toLowerCase(Locale.ROOT), f);
    }
    for (KeyGeneratorFactory f : ServiceLoader.load(KeyGeneratorFactory.class, loader)) {
      keyGenerators.put(f.type().toLowerCase(Locale.ROOT), f);
    }
    userAlgorithms.forEach(f -> algorithms.put(f.type().toLowerCase(Locale.ROOT), f));
    userKeyGenerators.forEach(f -> keyGenerators.put(f.type().toLowerCase(Locale.ROOT), f));
  }

  ShardingRules read(JsonObject json) {
    if (json == null) {
      throw new ShardingConfigurationException("rules", "must not be null");
    }
    for (String field : json.fieldNames()) {
      if (!TOP_LEVEL.contains(field)) {
        throw new ShardingConfigurationException(field, "unknown field (known: " + TOP_LEVEL + ")");
      }
    }
    Set<String> declared = new LinkedHashSet<>(strings(json, "dataSources"));
    Set<String> mentioned = new LinkedHashSet<>(declared);

    Map<String, TableRule> tables = new LinkedHashMap<>();
    JsonObject tablesJson = object(json, "tables", "tables");
    if (tablesJson != null) {
      for (String name : tablesJson.fieldNames()) {
        String path = "tables." + name;
        JsonObject tableJson = object(tablesJson, name, path);
        TableRule rule = table(name.toLowerCase(Locale.ROOT), tableJson, path);
        if (tables.put(rule.logicalTable(), rule) != null) {
          throw new ShardingConfigurationException(
              path, "table declared twice (names are case-insensitive)");
        }
        rule.dataNodes().forEach(n -> mentioned.add(n.dataSource()));
      }
    }

    Set<String> broadcast = new LinkedHashSet<>();
    for (String t : strings(json, "broadcastTables")) {
      String name = t.toLowerCase(Locale.ROOT);
      if (tables.containsKey(name)) {
        throw new ShardingConfigurationException(
            "broadcastTables", "'" + t + "' is also a sharded table");
      }
      broadcast.add(name);
    }

    Map<String, String> singles = new LinkedHashMap<>();
    JsonObject singlesJson = object(json, "singleTables", "singleTables");
    if (singlesJson != null) {
      for (String t : singlesJson.fieldNames()) {
        String path = "singleTables." + t;
        Object ds = singlesJson.getValue(t);
        if (!(ds instanceof String dataSource) || dataSource.isBlank()) {
          throw new ShardingConfigurationException(path, "must be a data source name, got " + ds);
        }
        String name = t.toLowerCase(Locale.ROOT);
        if (tables.containsKey(name) || broadcast.contains(name)) {
          throw new ShardingConfigurationException(
              path, "'" + t + "' is also a sharded or broadcast table");
        }
        singles.put(name, dataSource);
        mentioned.add(dataSource);
      }
    }

    String defaultDs = null;
    if (json.containsKey("defaultDataSource")) {
      Object v = json.getValue("defaultDataSource");
      if (!(v instanceof String s) || s.isBlank()) {
        throw new ShardingConfigurationException(
            "defaultDataSource", "must be a data source name, got " + v);
      }
      defaultDs = s;
      mentioned.add(s);
    }

    if (!declared.isEmpty()) {
      for (String ds : mentioned) {
        if (!declared.contains(ds)) {
          throw new ShardingConfigurationException(
              "dataSources", "data source '" + ds + "' is used but not declared in " + declared);
        }
      }
    }
    if (mentioned.isEmpty()) {
      throw new ShardingConfigurationException("dataSources", "no data source declared or used");
    }

    List<List<String>> groups = new ArrayList<>();
    JsonArray groupsJson = array(json, "bindingGroups", "bindingGroups");
    Set<String> bound = new HashSet<>();
    if (groupsJson != null) {
      for (int i = 0; i < groupsJson.size(); i++) {
        String path = "bindingGroups[" + i + "]";
        if (!(groupsJson.getValue(i) instanceof JsonArray g) || g.size() < 2) {
          throw new ShardingConfigurationException(
              path, "must list at least two sharded tables, got " + groupsJson.getValue(i));
        }
        List<String> group = new ArrayList<>();
        for (Object o : g) {
          String name = String.valueOf(o).toLowerCase(Locale.ROOT);
          TableRule rule = tables.get(name);
          if (rule == null) {
            throw new ShardingConfigurationException(path, "'" + o + "' is not a sharded table");
          }
          if (!bound.add(name)) {
            throw new ShardingConfigurationException(path, "'" + o + "' is in two binding groups");
          }
          group.add(name);
        }
        checkAligned(tables, group, path);
        groups.add(group);
      }
    }
    return new ShardingRules(tables, groups, broadcast, singles, defaultDs, mentioned);
  }

  private static void checkAligned(Map<String, TableRule> tables, List<String> group, String path) {
    TableRule first = tables.get(group.get(0));
    for (String name : group.subList(1, group.size())) {
      TableRule other = tables.get(name);
      if (other.dataNodes().size() != first.dataNodes().size()) {
        throw new ShardingConfigurationException(
            path,
            name
                + " has "
                + other.dataNodes().size()
                + " data nodes but "
                + first.logicalTable()
                + " has "
                + first.dataNodes().size()
                + ": bound tables must pair node by node");
      }
      for (int i = 0; i < first.dataNodes().size(); i++) {
        if (!first.dataNodes().get(i).dataSource().equals(other.dataNodes().get(i).dataSource())) {
          throw new ShardingConfigurationException(
              path,
              "data node "
                  + i
                  + " of "
                  + name
                  + " is "
                  + other.dataNodes().get(i)
                  + " but of "
                  + first.logicalTable()
                  + " is "
                  + first.dataNodes().get(i));
        }
      }
      if (!sameShape(first.databaseStrategy(), other.databaseStrategy())
          || !sameShape(first.tableStrategy(), other.tableStrategy())) {
        throw new ShardingConfigurationException(
            path,
            name
                + " and "
                + first.logicalTable()
                + " must use the same algorithm types and column counts to be bound");
      }
    }
  }

  private static boolean sameShape(Optional<ShardingStrategy> a, Optional<ShardingStrategy> b) {
    if (a.isEmpty() || b.isEmpty()) {
      return a.isEmpty() && b.isEmpty();
    }
    return a.get().algorithmType().equalsIgnoreCase(b.get().algorithmType())
        && a.get().columns().size() == b.get().columns().size();
  }

  private TableRule table(String name, JsonObject json, String path) {
    for (String field : json.fieldNames()) {
      if (!TABLE_FIELDS.contains(field)) {
        throw new ShardingConfigurationException(
            path + "." + field, "unknown field (known: " + TABLE_FIELDS + ")");
      }
    }
    Object nodesValue = json.getValue("dataNodes");
    List<String> expressions = new ArrayList<>();
    if (nodesValue instanceof String s) {
      expressions.add(s);
    } else if (nodesValue instanceof JsonArray a && !a.isEmpty()) {
      a.forEach(o -> expressions.add(String.valueOf(o)));
    } else {
      throw new ShardingConfigurationException(
          path + ".dataNodes",
          "must be an expression like ds_${0..1}.t_${0..3}, got " + nodesValue);
    }
    List<DataNode> nodes = new ArrayList<>();
    Set<DataNode> seen = new HashSet<>();
    for (String expression : expressions) {
      List<String> expanded;
      try {
        expanded = InlineExpressions.expand(expression);
      } catch (IllegalArgumentException e) {
        throw new ShardingConfigurationException(path + ".dataNodes", e.getMessage());
      }
      for (String node : expanded) {
        int dot = node.indexOf('.');
        if (dot <= 0 || dot == node.length() - 1 || node.indexOf('.', dot + 1) >= 0) {
          throw new ShardingConfigurationException(
              path + ".dataNodes", "'" + node + "' is not dataSource.table");
        }
        DataNode dataNode =
            new DataNode(node.substring(0, dot).strip(), node.substring(dot + 1).strip());
        if (!seen.add(dataNode)) {
          throw new ShardingConfigurationException(
              path + ".dataNodes", "data node " + node + " listed twice");
        }
        nodes.add(dataNode);
      }
    }
    List<String> dataSources = nodes.stream().map(DataNode::dataSource).distinct().toList();
    List<String> actualTables = nodes.stream().map(DataNode::table).distinct().toList();
    Optional<ShardingStrategy> db = strategy(json, "databaseStrategy", path, dataSources);
    Optional<ShardingStrategy> tbl = strategy(json, "tableStrategy", path, actualTables);
    if (db.isEmpty() && dataSources.size() > 1) {
      throw new ShardingConfigurationException(
          path + ".databaseStrategy",
          "missing: the data nodes span " + dataSources.size() + " data sources " + dataSources);
    }
    if (tbl.isEmpty()) {
      for (String ds : dataSources) {
        long count = nodes.stream().filter(n -> n.dataSource().equals(ds)).count();
        if (count > 1) {
          throw new ShardingConfigurationException(
              path + ".tableStrategy",
              "missing: data source " + ds + " holds " + count + " actual tables");
        }
      }
    }
    String keyColumn = null;
    KeyGenerator keyGenerator = null;
    JsonObject keyJson = object(json, "keyGenerator", path + ".keyGenerator");
    if (keyJson != null) {
      String keyPath = path + ".keyGenerator";
      keyColumn = requiredString(keyJson, "column", keyPath).toLowerCase(Locale.ROOT);
      String type = requiredString(keyJson, "type", keyPath);
      KeyGeneratorFactory factory = keyGenerators.get(type.toLowerCase(Locale.ROOT));
      if (factory == null) {
        throw new ShardingConfigurationException(
            keyPath + ".type",
            "unknown key generator type '" + type + "' (known: " + keyGenerators.keySet() + ")");
      }
      JsonObject props = propsOf(keyJson, keyPath);
      try {
        keyGenerator = factory.create(props);
      } catch (IllegalArgumentException e) {
        throw new ShardingConfigurationException(keyPath + ".props", e.getMessage(), e);
      }
    }
    List<String> columns = new ArrayList<>();
    JsonArray columnsJson = array(json, "columns", path + ".columns");
    if (columnsJson != null) {
      for (Object c : columnsJson) {
        if (!(c instanceof String s) || s.isBlank()) {
          throw new ShardingConfigurationException(
              path + ".columns", "column names must be strings, got " + c);
        }
        columns.add(s.toLowerCase(Locale.ROOT));
      }
    }
    return new TableRule(name, nodes, db, tbl, keyColumn, keyGenerator, columns);
  }

  private Optional<ShardingStrategy> strategy(
      JsonObject table, String field, String tablePath, List<String> targets) {
    String path = tablePath + "." + field;
    JsonObject json = object(table, field, path);
    if (json == null) {
      return Optional.empty();
    }
    List<String> columns = new ArrayList<>();
    if (json.containsKey("column")) {
      columns.add(requiredString(json, "column", path).toLowerCase(Locale.ROOT));
    }
    JsonArray columnsJson = array(json, "columns", path + ".columns");
    if (columnsJson != null) {
      for (Object c : columnsJson) {
        if (!(c instanceof String s) || s.isBlank()) {
          throw new ShardingConfigurationException(
              path + ".columns", "column names must be strings, got " + c);
        }
        columns.add(s.toLowerCase(Locale.ROOT));
      }
    }
    JsonObject algorithmJson = object(json, "algorithm", path + ".algorithm");
    if (algorithmJson == null) {
      throw new ShardingConfigurationException(
          path + ".algorithm", "missing (e.g. {\"type\": \"mod\"})");
    }
    String type = requiredString(algorithmJson, "type", path + ".algorithm");
    ShardingAlgorithmFactory factory = algorithms.get(type.toLowerCase(Locale.ROOT));
    if (factory == null) {
      throw new ShardingConfigurationException(
          path + ".algorithm.type",
          "unknown algorithm type '" + type + "' (known: " + algorithms.keySet() + ")");
    }
    JsonObject props = propsOf(algorithmJson, path + ".algorithm");
    ShardingAlgorithm algorithm;
    try {
      algorithm = factory.create(new ShardingAlgorithmFactory.Context(columns, targets, props));
    } catch (IllegalArgumentException e) {
      throw new ShardingConfigurationException(path + ".algorithm.props", e.getMessage(), e);
    }
    if (algorithm == null) {
      throw new ShardingConfigurationException(
          path + ".algorithm.type", "factory for '" + type + "' returned null");
    }
    return Optional.of(new ShardingStrategy(columns, type.toLowerCase(Locale.ROOT), algorithm));
  }

  private static JsonObject propsOf(JsonObject json, String path) {
    Object props = json.getValue("props");
    if (props == null) {
      return new JsonObject();
    }
    if (!(props instanceof JsonObject p)) {
      throw new ShardingConfigurationException(path + ".props", "must be an object, got " + props);
    }
    return p.copy();
  }

  private static String requiredString(JsonObject json, String field, String path) {
    Object v = json.getValue(field);
    if (!(v instanceof String s) || s.isBlank()) {
      throw new ShardingConfigurationException(
          path + "." + field, "must be a non-empty string, got " + v);
    }
    return s.strip();
  }

  private static JsonObject object(JsonObject json, String field, String path) {
    Object v = json.getValue(field);
    if (v == null) {
      return null;
    }
    if (!(v instanceof JsonObject o)) {
      throw new ShardingConfigurationException(path, "must be an object, got " + v);
    }
    return o;
  }

  private static JsonArray array(JsonObject json, String field, String path) {
    Object v = json.getValue(field);
    if (v == null) {
      return null;
    }
    if (!(v instanceof JsonArray a)) {
      throw new ShardingConfigurationException(path, "must be an array, got " + v);
    }
    return a;
  }

  private static List<String> strings(JsonObject json, String field) {
    JsonArray a = array(json, field, field);
    List<String> out = new ArrayList<>();
    if (a != null) {
      for (int i = 0; i < a.size(); i++) {
        if (!(a.getValue(i) instanceof String s) || s.isBlank()) {
          throw new ShardingConfigurationException(
              field + "[" + i + "]", "must be a non-empty string, got " + a.getValue(i));
        }
        out.add(s.strip());
      }
    }
    return out;
  }
}
