package io.shardkit.router.impl.route;

import io.shardkit.router.ShardingRules;
import io.shardkit.router.TableRule;
import io.shardkit.router.UnsupportedSqlException;
import io.shardkit.router.impl.parse.AstScan;
import io.shardkit.router.impl.parse.ValueRef;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import net.sf.jsqlparser.expression.Expression;
import net.sf.jsqlparser.schema.Column;
import net.sf.jsqlparser.schema.Table;

/**
 * The per-statement bookkeeping of the planner: which table references are sharded, broadcast or
 * single, their template slots and routing groups, their query blocks and aliases; and the renaming
 * of sharded tables and their qualifiers to template markers.
 */
final class StatementContext {

  final ShardingRules rules;
  final AstScan scan;
  final List<Plan.Use> uses = new ArrayList<>();
  final List<String> slots = new ArrayList<>();
  final List<List<String>> groups = new ArrayList<>();
  final Set<String> tables = new LinkedHashSet<>();
  final List<List<ValueRef>> inItems = new ArrayList<>();
  final List<Cond.Leaf> inLeaves = new ArrayList<>();
  private final Map<Table, Plan.Use> useOf = new IdentityHashMap<>();
  private final Map<Table, Boolean> quoted = new IdentityHashMap<>();
  private final Set<String> unaliasedSharded = new HashSet<>();
  private final Map<String, Boolean> quotedName = new HashMap<>();

  StatementContext(ShardingRules rules, AstScan scan) {
    this.rules = rules;
    this.scan = scan;
  }

  /** The plan's scope: what was collected, with these per-block conditions and the IN lists. */
  Plan.Scope scope(List<Cond> blockConds) {
    return new Plan.Scope(
        List.copyOf(tables),
        List.copyOf(slots),
        List.copyOf(uses),
        List.copyOf(groups),
        blockConds,
        inItems,
        inLeaves);
  }

  /**
   * The scope of a statement routed by its table alone (INSERT, DDL): no conditions, no IN lists.
   */
  Plan.Scope tableScope() {
    return new Plan.Scope(
        List.copyOf(tables),
        List.copyOf(slots),
        List.copyOf(uses),
        List.copyOf(groups),
        List.of(Cond.ANY),
        List.of(),
        List.of());
  }

  /** Classifies a table reference in a block; returns null for CTE references. */
  Plan.Use add(Table table, int block) {
    if (useOf.containsKey(table)) {
      return useOf.get(table);
    }
    String raw = table.getName();
    String name = AstScan.unquote(raw).toLowerCase(Locale.ROOT);
    if ((scan.cteNames().contains(name) || name.equals("dual")) && table.getSchemaName() == null) {
      return null;
    }
    if (table.getSchemaName() != null) {
      throw new UnsupportedSqlException(
          List.of(name),
          "schema-qualified table "
              + table.getFullyQualifiedName()
              + " is not supported: each shard has its own database");
    }
    tables.add(name);
    Plan.Use use;
    TableRule rule = rules.tableRule(name).orElse(null);
    if (rule != null) {
      int slot = slots.indexOf(name);
      if (slot < 0) {
        slot = slots.size();
        slots.add(name);
      }
      List<String> group = rules.bindingGroupOf(name);
      int groupId = groups.indexOf(group);
      if (groupId < 0) {
        groupId = groups.size();
        groups.add(group);
      }
      use = new Plan.Use(name, Plan.UseKind.SHARDED, slot, groupId, block, null);
      boolean isQuoted = raw.startsWith("`");
      quoted.put(table, isQuoted);
      if (table.getAlias() == null) {
        unaliasedSharded.add(name);
        quotedName.put(name, isQuoted);
      }
    } else if (rules.isBroadcast(name)) {
      use = new Plan.Use(name, Plan.UseKind.BROADCAST, -1, -1, block, null);
    } else {
      String ds = rules.singleTables().get(name);
      if (ds == null) {
        ds =
            rules
                .defaultDataSource()
                .orElseThrow(
                    () ->
                        new UnsupportedSqlException(
                            List.of(name),
                            "table "
                                + name
                                + " has no sharding rule, is neither broadcast nor single, and no default data source is configured"));
      }
      use = new Plan.Use(name, Plan.UseKind.SINGLE, -1, -1, block, ds);
    }
    useOf.put(table, use);
    uses.add(use);
    return use;
  }

  Plan.Use useOf(Table table) {
    return useOf.get(table);
  }

  /**
   * Builds the column resolver of a block: qualified columns go to the table with that alias or
   * (unaliased) name in the block; unqualified ones to every sharded table of the block sharded on
   * that column.
   */
  Conditions.ColumnResolver resolver(List<Table> blockTables) {
    Map<String, Plan.Use> byQualifier = new HashMap<>();
    List<Plan.Use> sharded = new ArrayList<>();
    for (Table t : blockTables) {
      Plan.Use use = useOf.get(t);
      if (use == null) {
        continue;
      }
      String qualifier =
          t.getAlias() != null
              ? AstScan.unquote(t.getAlias().getName()).toLowerCase(Locale.ROOT)
              : use.table();
      byQualifier.put(qualifier, use);
      if (use.kind() == Plan.UseKind.SHARDED) {
        sharded.add(use);
      }
    }
    return column -> {
      String name = Conditions.name(column);
      List<Object[]> out = new ArrayList<>();
      if (column.getTable() != null && column.getTable().getName() != null) {
        Plan.Use use =
            byQualifier.get(AstScan.unquote(column.getTable().getName()).toLowerCase(Locale.ROOT));
        if (use != null
            && use.kind() == Plan.UseKind.SHARDED
            && rules.tableRule(use.table()).get().isShardingColumn(name)) {
          out.add(new Object[] {use.table(), use.group()});
        }
        return out;
      }
      for (Plan.Use use : sharded) {
        if (rules.tableRule(use.table()).get().isShardingColumn(name)) {
          out.add(new Object[] {use.table(), use.group()});
          break;
        }
      }
      return out;
    };
  }

  Cond conditions(List<Table> blockTables, List<Expression> expressions) {
    Conditions extractor = new Conditions(resolver(blockTables), inItems, inLeaves);
    List<Cond> parts = new ArrayList<>();
    for (Expression e : expressions) {
      parts.add(extractor.extract(e));
    }
    return Conditions.and(parts);
  }

  /** Renames sharded tables and the column qualifiers naming them to template markers. */
  void renameToMarkers() {
    for (Map.Entry<Table, Plan.Use> e : useOf.entrySet()) {
      Plan.Use use = e.getValue();
      if (use.kind() == Plan.UseKind.SHARDED) {
        e.getKey().setName(marker(use.slot(), quoted.get(e.getKey())));
      }
    }
    for (Column c : scan.columns()) {
      renameQualifier(c.getTable());
    }
    for (var all : scan.allTableColumns()) {
      renameQualifier(all.getTable());
    }
    for (var p : scan.parameters()) {
      p.setUseFixedIndex(true);
    }
  }

  private void renameQualifier(Table qualifier) {
    if (qualifier == null || qualifier.getName() == null || useOf.containsKey(qualifier)) {
      return;
    }
    String name = AstScan.unquote(qualifier.getName()).toLowerCase(Locale.ROOT);
    if (unaliasedSharded.contains(name) && qualifier.getSchemaName() == null) {
      qualifier.setName(
          marker(
              slots.indexOf(name),
              qualifier.getName().startsWith("`") || quotedName.getOrDefault(name, false)));
    }
  }

  static String marker(int slot, boolean quoted) {
    return (quoted ? "__sk_q" : "__sk_t") + slot + "__";
  }

  boolean hasSharded() {
    return !slots.isEmpty();
  }
}
