package io.shardkit.router.impl.route;

import io.shardkit.router.ShardingRules;
import io.shardkit.router.ShardingStrategy;
import io.shardkit.router.TableRule;
import io.shardkit.router.UnsupportedSqlException;
import io.shardkit.router.impl.parse.ValueRef;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Route: plan + parameter values (+ routing hint) → route units. Pure and allocation-light: node
 * sets are bit sets over each binding group's aligned data nodes, condition trees are evaluated
 * once per group (AND intersects, OR unites, anything else is every node).
 */
public final class Router {

  private final ShardingRules rules;
  private final List<String> allDataSources;
  private final Map<String, TableIndex> indexes = new HashMap<>();
  private final NodeSets nodeSets;

  private final Coercion coercion;

  private Router(ShardingRules rules, io.shardkit.router.impl.schema.SchemaCatalog catalog) {
    this.rules = rules;
    this.coercion = new Coercion(catalog);
    this.allDataSources = List.copyOf(rules.dataSourceNames());
    for (TableRule rule : rules.tableRules().values()) {
      indexes.put(rule.logicalTable(), new TableIndex(rule));
    }
    this.nodeSets = new NodeSets(indexes, coercion);
  }

  /** A router for these rules, without schema metadata. */
  public static Router of(ShardingRules rules) {
    return new Router(rules, null);
  }

  /** A router that converts sharding values by the column types of the catalog. */
  public static Router of(
      ShardingRules rules, io.shardkit.router.impl.schema.SchemaCatalog catalog) {
    return new Router(rules, catalog);
  }

  /**
   * Routes one execution: INSERT rows (after generating their keys), a UNION whole or branch by
   * branch, anything else to its units with the IN-list node sets the rewriter prunes by.
   */
  public Routing routing(Plan plan, Tuple params, RoutingHint hint) {
    if (plan instanceof InsertPlan insert) {
      return insertRows(insert, params, hint);
    }
    Plan.OnUnits onUnits = (Plan.OnUnits) plan;
    List<RouteUnit> units;
    if (plan instanceof SelectPlan select && select.union() != null) {
      // the whole UNION on one unit when every table lands there; else branch by branch
      try {
        units = route(onUnits, params, hint);
      } catch (UnsupportedSqlException several) {
        return branches(select, params, hint);
      }
    } else if (onUnits.multiRefusal() != null
        && onUnits.multiRefusal().startsWith(UnionPlanner.REFUSAL)) {
      try {
        units = route(onUnits, params, hint);
      } catch (UnsupportedSqlException several) {
        // say why the union could not run branch by branch, then why it cannot run whole
        throw new UnsupportedSqlException(
            plan.tables(),
            onUnits.multiRefusal()
                + "; as one statement: "
                + several.getMessage().replaceFirst(" \\(tables: [^)]*\\)$", ""));
      }
    } else {
      units = route(onUnits, params, hint);
    }
    return new Routing.Units(units, plan.inItems().isEmpty() ? null : inNodes(plan, params));
  }

  /** Each branch of a UNION routed as its own statement, with its share of the parameters. */
  private Routing branches(SelectPlan plan, Tuple params, RoutingHint hint) {
    Plan.Union u = plan.union();
    List<Routing> branches = new ArrayList<>();
    List<Tuple> branchParamsList = new ArrayList<>();
    int next = 0;
    for (int b = 0; b < u.branches().size(); b++) {
      Tuple branchParams = null;
      if (params != null) {
        branchParams = Tuple.tuple();
        for (int i = 0; i < u.parameters().get(b); i++) {
          branchParams.addValue(params.getValue(next + i));
        }
      }
      next += u.parameters().get(b);
      branches.add(routing(u.branches().get(b), branchParams, hint));
      branchParamsList.add(branchParams);
    }
    return new Routing.Branches(List.copyOf(branches), branchParamsList);
  }

  /**
   * For each IN slot and item, the nodes its value can be on (null: anywhere), computed once per
   * execution and then tested per unit by the rewriter.
   */
  private BitSet[][] inNodes(Plan plan, Tuple params) {
    List<List<ValueRef>> inItems = plan.inItems();
    BitSet[][] nodes = new BitSet[inItems.size()][];
    for (int slot = 0; slot < inItems.size(); slot++) {
      Cond.Leaf leaf = plan.inLeaves().get(slot);
      List<ValueRef> items = inItems.get(slot);
      nodes[slot] = new BitSet[items.size()];
      boolean everywhere = false;
      for (int i = 0; i < items.size(); i++) {
        try {
          nodes[slot][i] = nodesOf(leaf, items.get(i).resolve(params));
        } catch (UnsupportedSqlException e) {
          nodes[slot][i] = null;
        }
        everywhere |= nodes[slot][i] == null;
      }
      if (everywhere) {
        // an item that may match on any node (a string against a BIT or integer key, NULL) leaves
        // the list as written on every unit: the server does not read an IN list item by item
        // (MariaDB 11.4.5 reads bit_k IN ('7', 7) through an index as bit_k = '7', the two items
        // being one constant to it, and finds no 7), so a list cut to a node's items may answer
        // otherwise than the whole one
        java.util.Arrays.fill(nodes[slot], null);
      }
    }
    return nodes;
  }

  /** An INSERT: generates the keys of a generated key column, then routes the rows. */
  private Routing insertRows(InsertPlan plan, Tuple params, RoutingHint hint) {
    Plan.InsertSpec spec = plan.insert();
    List<Object> keys = new ArrayList<>();
    Tuple effective = params;
    if (spec.generatedKey()) {
      io.shardkit.router.spi.KeyGenerator generator =
          rules.tableRule(spec.table()).orElseThrow().keyGenerator();
      List<Object> extended = new ArrayList<>();
      if (params != null) {
        for (int i = 0; i < params.size(); i++) {
          extended.add(params.getValue(i));
        }
      }
      for (int r = 0; r < spec.rows().size(); r++) {
        Object key = generator.nextKey();
        keys.add(key);
        extended.add(key);
      }
      effective = Tuple.wrap(extended);
    }
    return new Routing.Rows(routeInsert(plan, effective, hint), effective, keys);
  }

  /** Routes a non-INSERT plan. */
  private List<RouteUnit> route(Plan.OnUnits plan, Tuple params, RoutingHint hint) {
    List<RouteUnit> units = routeTables(plan, params, hint);
    if (units.size() > 1 && plan.multi() == null) {
      throw new UnsupportedSqlException(
          plan.tables(), plan.multiRefusal() + "; it routes to " + units.size() + " data nodes");
    }
    if (plan instanceof WritePlan write && !write.keyUpdates().isEmpty()) {
      checkKeyUpdates(write, params, units);
    }
    return units;
  }

  private List<RouteUnit> routeTables(Plan plan, Tuple params, RoutingHint hint) {
    String singleDs = null;
    boolean broadcast = false;
    boolean broadcastTarget = false;
    boolean sharded = false;
    Plan.Use onlySharded = null; // the one sharded table reference, when there is one
    int shardedUses = 0;
    for (Plan.Use use : plan.uses()) {
      switch (use.kind()) {
        case SINGLE -> {
          if (singleDs != null && !singleDs.equals(use.dataSource())) {
            throw new UnsupportedSqlException(
                plan.tables(),
                "tables on different data sources ("
                    + singleDs
                    + ", "
                    + use.dataSource()
                    + ") cannot be used in one statement");
          }
          singleDs = use.dataSource();
        }
        case BROADCAST -> {
          broadcast = true;
          broadcastTarget |= use.block() == 0 && plan.write() && plan.uses().get(0) == use;
        }
        case SHARDED -> {
          sharded = true;
          shardedUses++;
          onlySharded = use;
        }
      }
    }
    String forced = hint.dataSource();
    if (forced != null && singleDs != null && !forced.equals(singleDs)) {
      throw new UnsupportedSqlException(
          plan.tables(),
          "the routing hint forces " + forced + " but the tables live on " + singleDs);
    }
    int slots = plan.slots().size();
    if (!sharded) {
      if (broadcastTarget && singleDs == null && forced == null) {
        List<RouteUnit> all = new ArrayList<>();
        for (String ds : allDataSources) {
          all.add(new RouteUnit(ds, new String[0], new int[0]));
        }
        return all;
      }
      String ds =
          singleDs != null
              ? singleDs
              : forced != null ? forced : rules.defaultDataSource().orElse(allDataSources.get(0));
      return List.of(new RouteUnit(ds, new String[0], new int[0]));
    }
    if (broadcastTarget) {
      throw new UnsupportedSqlException(
          plan.tables(), "a write to a broadcast table cannot also read sharded tables");
    }
    if (shardedUses == 1 && onlySharded.block() == 0) {
      // one sharded table in the outer block (the common statement): its nodes, no join checks
      BitSet nodes = nodes(plan, 0, onlySharded.group(), params, hint);
      List<RouteUnit> units = new ArrayList<>(nodes.cardinality());
      for (int k = nodes.nextSetBit(0); k >= 0; k = nodes.nextSetBit(k + 1)) {
        String[] actual = new String[slots];
        int[] indexes = new int[slots];
        String ds = fill(plan, onlySharded.group(), k, actual, indexes);
        units.add(new RouteUnit(ds, actual, indexes));
      }
      checkOnSingleDataSource(plan, singleDs, units);
      return units;
    }
    Map<Integer, BitSet> top = new LinkedHashMap<>();
    Map<Long, BitSet> nested = new LinkedHashMap<>();
    for (Plan.Use use : plan.uses()) {
      if (use.kind() != Plan.UseKind.SHARDED) {
        continue;
      }
      if (use.block() == 0) {
        top.computeIfAbsent(use.group(), g -> nodes(plan, 0, g, params, hint));
      } else {
        long key = ((long) use.block() << 32) | use.group();
        nested.computeIfAbsent(key, k -> nodes(plan, use.block(), use.group(), params, hint));
      }
    }
    checkSelfJoins(plan, top);
    List<RouteUnit> units = new ArrayList<>();
    if (top.size() == 1) {
      Map.Entry<Integer, BitSet> only = top.entrySet().iterator().next();
      BitSet nodes = only.getValue();
      for (int k = nodes.nextSetBit(0); k >= 0; k = nodes.nextSetBit(k + 1)) {
        String[] actual = new String[slots];
        int[] indexes = new int[slots];
        String ds = fill(plan, only.getKey(), k, actual, indexes);
        units.add(new RouteUnit(ds, actual, indexes));
      }
    } else if (top.size() > 1) {
      String[] actual = new String[slots];
      int[] indexes = new int[slots];
      String ds = null;
      for (Map.Entry<Integer, BitSet> e : top.entrySet()) {
        if (e.getValue().cardinality() != 1) {
          throw new UnsupportedSqlException(
              plan.tables(),
              "tables "
                  + plan.groups().get(e.getKey())
                  + " are sharded and not bound to the other sharded tables of the statement; such a join is supported only"
                  + " when each table's sharding keys select one data node on the same data source");
        }
        String nodeDs = fill(plan, e.getKey(), e.getValue().nextSetBit(0), actual, indexes);
        if (ds != null && !ds.equals(nodeDs)) {
          throw new UnsupportedSqlException(
              plan.tables(),
              "the joined sharded tables land on different data sources ("
                  + ds
                  + ", "
                  + nodeDs
                  + "): a cross-shard join is not supported");
        }
        ds = nodeDs;
      }
      units.add(new RouteUnit(ds, actual, indexes));
    }
    // a unit reads each logical table on one node: blocks (UNION branches, subqueries) that
    // select different nodes of one group cannot share it
    Map<Integer, Integer> nodeOfGroup = new HashMap<>();
    for (Map.Entry<Long, BitSet> e : nested.entrySet()) {
      int group = (int) (e.getKey() & 0xffffffffL);
      BitSet nodes = e.getValue();
      if (nodes.cardinality() == 1) {
        Integer previous = nodeOfGroup.putIfAbsent(group, nodes.nextSetBit(0));
        if (previous != null && previous != nodes.nextSetBit(0)) {
          TableIndex index = indexes.get(plan.groups().get(group).get(0));
          throw new UnsupportedSqlException(
              plan.tables(),
              "the query blocks (UNION branches or subqueries) reading "
                  + plan.groups().get(group)
                  + " select different data nodes ("
                  + nodeName(index.nodes.get(previous))
                  + ", "
                  + nodeName(index.nodes.get(nodes.nextSetBit(0)))
                  + "): a statement reads each sharded table on one data node");
        }
      }
      if (nodes.cardinality() != 1) {
        throw new UnsupportedSqlException(
            plan.tables(),
            "a subquery or derived table reads sharded tables "
                + plan.groups().get(group)
                + " on "
                + nodes.cardinality()
                + " data nodes; it is supported only when its own"
                + " sharding conditions select exactly one data node");
      }
      int k = nodes.nextSetBit(0);
      if (units.size() > 1) {
        throw new UnsupportedSqlException(
            plan.tables(),
            "a subquery on sharded tables "
                + plan.groups().get(group)
                + " cannot be combined with an outer query that routes to "
                + units.size()
                + " data nodes");
      }
      if (units.isEmpty()) {
        String[] actual = new String[slots];
        int[] indexes = new int[slots];
        String ds = fill(plan, group, k, actual, indexes);
        units.add(new RouteUnit(ds, actual, indexes));
        continue;
      }
      RouteUnit unit = units.get(0);
      if (top.containsKey(group)) {
        int topNode = top.get(group).nextSetBit(0);
        if (topNode != k) {
          throw new UnsupportedSqlException(
              plan.tables(),
              "the subquery on "
                  + plan.groups().get(group)
                  + " selects another data node than the outer query");
        }
      } else {
        String[] probe = new String[slots];
        int[] probeIndexes = new int[slots];
        String ds = fill(plan, group, k, probe, probeIndexes);
        if (!ds.equals(unit.dataSource())) {
          throw new UnsupportedSqlException(
              plan.tables(),
              "the subquery on "
                  + plan.groups().get(group)
                  + " lands on "
                  + ds
                  + " but the outer query on "
                  + unit.dataSource());
        }
        fill(plan, group, k, unit.actualTables(), unit.nodeIndexes());
      }
    }
    checkOnSingleDataSource(plan, singleDs, units);
    return units;
  }

  /** A single (unsharded) table joined with sharded ones: they must all route to its source. */
  private static void checkOnSingleDataSource(Plan plan, String singleDs, List<RouteUnit> units) {
    if (singleDs != null) {
      for (RouteUnit unit : units) {
        if (!unit.dataSource().equals(singleDs)) {
          throw new UnsupportedSqlException(
              plan.tables(),
              "a table on "
                  + singleDs
                  + " is joined with sharded tables that route to "
                  + unit.dataSource()
                  + ": a cross-shard join is not supported");
        }
      }
    }
  }

  /**
   * Binding groups vouch for joins between their different tables, not for a table joined with
   * itself: conditions are kept per table, so one reference's key would wrongly narrow the other.
   * Such a self-join runs only when the table has a single data node.
   */
  private void checkSelfJoins(Plan plan, Map<Integer, BitSet> top) {
    java.util.Set<String> seen = new java.util.HashSet<>();
    for (Plan.Use use : plan.uses()) {
      if (use.kind() == Plan.UseKind.SHARDED
          && use.block() == 0
          && !seen.add(use.table())
          && indexes.get(use.table()).nodes.size() > 1) {
        throw new UnsupportedSqlException(
            plan.tables(),
            "sharded table "
                + use.table()
                + " is joined with itself: rows on different data nodes would never meet, and the router keeps"
                + " sharding conditions per table, not per reference");
      }
    }
  }

  private static String nodeName(io.shardkit.router.DataNode node) {
    return node.dataSource() + "." + node.table();
  }

  /** Fills the slots of a group's tables for node k; returns the node's data source. */
  private String fill(Plan plan, int group, int k, String[] actual, int[] nodeIndexes) {
    String ds = null;
    List<String> slots = plan.slots();
    for (int s = 0; s < slots.size(); s++) {
      if (plan.groups().get(group).contains(slots.get(s))) {
        TableIndex index = indexes.get(slots.get(s));
        actual[s] = index.nodes.get(k).table();
        nodeIndexes[s] = k;
        ds = index.nodes.get(k).dataSource();
      }
    }
    return ds;
  }

  /** The node set of a group in a block: conditions, then the hint, never empty. */
  private BitSet nodes(Plan plan, int block, int group, Tuple params, RoutingHint hint) {
    BitSet result = nodeSets.eval(plan.blockConds().get(block), group, params);
    List<String> tables = plan.groups().get(group);
    BitSet hinted = nodeSets.hintNodes(tables, hint);
    if (hinted != null) {
      result = result == null ? hinted : NodeSets.and(result, hinted);
    }
    TableIndex leader = indexes.get(tables.get(0));
    if (result == null) {
      result = (BitSet) leader.all.clone();
    }
    if (hint.dataSource() != null) {
      BitSet onDs = leader.byDataSource.get(hint.dataSource());
      result = NodeSets.and(result, onDs == null ? new BitSet() : onDs);
    }
    if (result.isEmpty()) {
      BitSet first = new BitSet();
      first.set(0);
      return first;
    }
    return result;
  }

  private void checkKeyUpdates(WritePlan plan, Tuple params, List<RouteUnit> units) {
    for (Plan.KeyUpdate update : plan.keyUpdates()) {
      if (units.size() != 1) {
        throw new UnsupportedSqlException(
            plan.tables(),
            "UPDATE of sharding column "
                + update.column()
                + " of "
                + update.table()
                + " on "
                + units.size()
                + " data nodes could move rows to other nodes");
      }
      int slot = plan.slots().indexOf(update.table());
      int group =
          plan.uses().stream()
              .filter(u -> u.table().equals(update.table()))
              .findFirst()
              .orElseThrow()
              .group();
      Cond.Leaf leaf =
          new Cond.Leaf(
              group,
              update.table(),
              update.column(),
              List.of(update.value()),
              null,
              false,
              null,
              false,
              -1);
      BitSet target = nodeSets.leaf(leaf, params);
      if (target == null) {
        throw new UnsupportedSqlException(
            plan.tables(),
            "UPDATE sets sharding column "
                + update.column()
                + " of "
                + update.table()
                + " to a value whose data node cannot be told exactly (see the column's type and"
                + " collation); the row could belong to another data node");
      }
      if (!target.get(units.get(0).nodeIndexes()[slot])) {
        throw new UnsupportedSqlException(
            plan.tables(),
            "UPDATE sets sharding column "
                + update.column()
                + " of "
                + update.table()
                + " to a value that belongs to another data node; delete and insert the row instead");
      }
    }
  }

  /** For IN pruning: the nodes a value of an IN leaf can be on; null means any. */
  private BitSet nodesOf(Cond.Leaf leaf, Object value) {
    return nodeSets.nodesOf(leaf, value);
  }

  /**
   * Routes the rows of an INSERT (parameters already extended with generated keys): sharded tables
   * row by row, broadcast tables to every data source, single tables to theirs.
   */
  private List<Routing.InsertUnit> routeInsert(InsertPlan plan, Tuple params, RoutingHint hint) {
    Plan.InsertSpec spec = plan.insert();
    int rowCount = spec.rows().size();
    int[] allRows = new int[rowCount];
    for (int r = 0; r < rowCount; r++) {
      allRows[r] = r;
    }
    Plan.Use use = plan.uses().get(0);
    if (use.kind() == Plan.UseKind.BROADCAST) {
      List<Routing.InsertUnit> out = new ArrayList<>();
      for (String ds : allDataSources) {
        out.add(new Routing.InsertUnit(new RouteUnit(ds, new String[0], new int[0]), allRows));
      }
      return out;
    }
    if (use.kind() == Plan.UseKind.SINGLE) {
      return List.of(
          new Routing.InsertUnit(
              new RouteUnit(use.dataSource(), new String[0], new int[0]), allRows));
    }
    TableIndex index = indexes.get(spec.table());
    Map<Integer, List<Integer>> byNode = new LinkedHashMap<>();
    for (int r = 0; r < rowCount; r++) {
      BitSet nodes = (BitSet) index.all.clone();
      List<ValueRef> row = spec.rowValues().get(r);
      boolean nullKey = false;
      for (int level = 0; level < 2; level++) {
        ShardingStrategy strategy =
            (level == 0 ? index.rule.databaseStrategy() : index.rule.tableStrategy()).orElse(null);
        if (strategy == null) {
          continue;
        }
        Map<String, List<Object>> hinted = level == 0 ? hint.databaseValues() : hint.tableValues();
        List<Object> values = new ArrayList<>();
        if (hinted.containsKey(spec.table())) {
          values.addAll(hinted.get(spec.table()));
        } else {
          for (String column : strategy.columns()) {
            values.add(
                coercion.insert(
                    spec.table(),
                    column,
                    NodeSets.resolve(row.get(spec.columns().indexOf(column)), params),
                    strategy.algorithm()));
          }
        }
        String levelName = level == 0 ? "database" : "table";
        if (values.contains(null)) {
          // a NULL sharding key: the row goes to the first node this level leaves, where the
          // server does what one database would (error 1048 for a NOT NULL column; store the row
          // otherwise: `k IS NULL` reads every node, `k = NULL` matches nothing)
          nullKey = true;
          continue;
        }
        if (values.isEmpty()) {
          throw new UnsupportedSqlException(
              List.of(spec.table()),
              "INSERT into "
                  + spec.table()
                  + ": its "
                  + levelName
                  + " strategy takes its value from the routing hint and none was given"
                  + " (put a RoutingHint with "
                  + levelName
                  + "Values(\""
                  + spec.table()
                  + "\", ...) in the TxScope)");
        }
        if (strategy.columns().isEmpty() && values.size() != 1) {
          throw new UnsupportedSqlException(
              List.of(spec.table()),
              "INSERT into "
                  + spec.table()
                  + ": the routing hint gives "
                  + values.size()
                  + " values "
                  + values
                  + " for its "
                  + levelName
                  + " strategy; a row goes to one data node");
        }
        String target =
            NodeSets.target(index, strategy, values, String.join(",", strategy.columns()));
        BitSet targetNodes =
            target == null ? null : (level == 0 ? index.byDataSource : index.byTable).get(target);
        if (targetNodes == null) {
          throw new UnsupportedSqlException(
              List.of(spec.table()),
              "row "
                  + (r + 1)
                  + " of the INSERT into "
                  + spec.table()
                  + " has no data node: "
                  + strategy.columns()
                  + " = "
                  + values
                  + " maps to "
                  + target);
        }
        nodes.and(targetNodes);
      }
      if (hint.dataSource() != null) {
        BitSet onDs = index.byDataSource.get(hint.dataSource());
        if (onDs != null) {
          nodes.and(onDs);
        }
      }
      if (nullKey && !nodes.isEmpty()) {
        int first = nodes.nextSetBit(0);
        nodes.clear();
        nodes.set(first);
      }
      if (nodes.cardinality() != 1) {
        throw new UnsupportedSqlException(
            List.of(spec.table()),
            "row "
                + (r + 1)
                + " of the INSERT into "
                + spec.table()
                + " maps to "
                + nodes.cardinality()
                + " data nodes");
      }
      byNode.computeIfAbsent(nodes.nextSetBit(0), k -> new ArrayList<>()).add(r);
    }
    List<Routing.InsertUnit> out = new ArrayList<>();
    for (Map.Entry<Integer, List<Integer>> e : byNode.entrySet()) {
      int k = e.getKey();
      String[] actual = {index.nodes.get(k).table()};
      int[] nodeIndexes = {k};
      int[] rows = e.getValue().stream().mapToInt(Integer::intValue).toArray();
      out.add(
          new Routing.InsertUnit(
              new RouteUnit(index.nodes.get(k).dataSource(), actual, nodeIndexes), rows));
    }
    return out;
  }
}
