package io.shardkit.router.impl.route;

import io.shardkit.router.ShardingRules;
import io.shardkit.router.UnsupportedSqlException;
import io.shardkit.router.impl.analyse.ColumnTypes;
import io.shardkit.router.impl.analyse.MergePlanner;
import io.shardkit.router.impl.parse.AstScan;
import io.shardkit.router.impl.parse.DoubleQuotedStrings;
import io.shardkit.router.impl.parse.StatementParser;
import io.shardkit.router.impl.parse.ValueRef;
import io.shardkit.router.impl.schema.Schema;
import io.shardkit.router.impl.schema.SchemaCatalog;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import net.sf.jsqlparser.expression.Expression;
import net.sf.jsqlparser.schema.Column;
import net.sf.jsqlparser.schema.Table;
import net.sf.jsqlparser.statement.Statement;
import net.sf.jsqlparser.statement.alter.Alter;
import net.sf.jsqlparser.statement.create.index.CreateIndex;
import net.sf.jsqlparser.statement.create.table.CreateTable;
import net.sf.jsqlparser.statement.delete.Delete;
import net.sf.jsqlparser.statement.drop.Drop;
import net.sf.jsqlparser.statement.insert.Insert;
import net.sf.jsqlparser.statement.select.Join;
import net.sf.jsqlparser.statement.select.Limit;
import net.sf.jsqlparser.statement.select.PlainSelect;
import net.sf.jsqlparser.statement.select.Select;
import net.sf.jsqlparser.statement.truncate.Truncate;
import net.sf.jsqlparser.statement.update.Update;
import net.sf.jsqlparser.statement.update.UpdateSet;

/**
 * Parse and analyse: turns one SQL text into a {@link Plan}. Pure (no I/O); its result is cached by
 * SQL text, so everything that does not depend on parameter values is decided here once.
 */
public final class Planner {

  private final ShardingRules rules;
  private final SchemaCatalog catalog;
  private String originalSql = "";
  private Map<Object, String> labels = Map.of();
  private String addedLabels = "";

  private Planner(ShardingRules rules, SchemaCatalog catalog) {
    this.rules = rules;
    this.catalog = catalog;
  }

  /** A planner for these rules, without schema metadata. */
  public static Planner of(ShardingRules rules) {
    return new Planner(rules, SchemaCatalog.of(rules, Schema.EMPTY));
  }

  /** A planner for these rules that reads column types from the catalog's current snapshot. */
  public static Planner of(ShardingRules rules, SchemaCatalog catalog) {
    return new Planner(rules, catalog);
  }

  /** Parses and analyses; throws an {@link UnsupportedSqlException} when refused. */
  public Plan plan(String sql) {
    String text = DoubleQuotedStrings.normalise(sql);
    StatementParser.Parsed parsed = StatementParser.parseLabelled(text);
    Statement statement = parsed.statement();
    Planner planner = new Planner(rules, catalog);
    planner.originalSql = text;
    planner.labels = parsed.labels();
    return planner.planParsed(text, statement);
  }

  private Plan planParsed(String sql, Statement statement) {
    if (statement instanceof Select select) {
      return select(sql, select);
    }
    if (statement instanceof Insert insert) {
      return InsertPlanner.plan(sql, insert, rules);
    }
    if (statement instanceof Update update) {
      return update(sql, update);
    }
    if (statement instanceof Delete delete) {
      return delete(sql, delete);
    }
    if (statement instanceof CreateTable
        || statement instanceof Alter
        || statement instanceof Drop
        || statement instanceof Truncate
        || statement instanceof CreateIndex) {
      return ddl(sql, statement);
    }
    throw new UnsupportedSqlException(
        List.of(),
        statement.getClass().getSimpleName() + " statements are not supported by the router");
  }

  private Plan select(String sql, Select select) {
    // before anything renames the tables: the branches are planned from their own text
    UnionPlanner.Result union =
        select instanceof net.sf.jsqlparser.statement.select.SetOperationList list
            ? UnionPlanner.plan(
                list, catalog.schema(), text -> new Planner(rules, catalog).plan(text))
            : null;
    AstScan scan = AstScan.of(select);
    StatementContext ctx = new StatementContext(rules, scan);
    PlainSelect top = select instanceof PlainSelect ps ? ps : null;
    Map<Table, PlainSelect> blockOf = scan.blockOfTables();
    Map<PlainSelect, Integer> blockIds = new IdentityHashMap<>();
    List<PlainSelect> blocks = new ArrayList<>();
    if (top != null) {
      blockIds.put(top, 0);
      blocks.add(top);
    } else {
      blocks.add(null);
    }
    for (PlainSelect ps : scan.selects()) {
      if (!blockIds.containsKey(ps)) {
        blockIds.put(ps, blocks.size());
        blocks.add(ps);
      }
    }
    int orphanBlock = -1;
    for (Table t : scan.tables()) {
      PlainSelect ps = blockOf.get(t);
      int block;
      if (ps != null) {
        block = blockIds.get(ps);
      } else {
        if (orphanBlock < 0) {
          orphanBlock = blocks.size();
          blocks.add(null);
        }
        block = orphanBlock;
      }
      ctx.add(t, block);
    }
    List<Cond> conds = new ArrayList<>();
    for (PlainSelect ps : blocks) {
      conds.add(ps == null ? Cond.ANY : blockConditions(ctx, ps));
    }
    List<Object[]> labels = unaliasedLabels(top, this.labels);
    ColumnTypes types =
        top == null
            ? ColumnTypes.NONE
            : ColumnTypes.of(catalog.schema(), top, blockTables(blockOf, top));
    ctx.renameToMarkers();
    addedLabels = keepLabels(labels);
    ValueRef[] limit = top == null ? null : limitMarker(top);
    String singleSql = select.toString();
    SqlTemplate single = verified(singleSql, ctx, limit);
    SqlTemplate multi = null;
    String refusal = null;
    io.shardkit.router.impl.analyse.MergeSpec merge = null;
    boolean widened = false;
    if (top == null) {
      refusal =
          union != null && union.refusal() != null
              ? union.refusal()
              : "set operations and parenthesised queries are supported only when every table lands on one data node";
    } else if (ctx.hasSharded()) {
      MergePlanner.Result result =
          MergePlanner.plan(top, limit != null, hasUnplainLimit(top, limit), types);
      if (result.refusal() != null) {
        refusal = result.refusal();
      } else {
        merge = result.spec();
        widened = result.limitWidened();
        multi = SqlTemplate.compile(select.toString());
      }
    }
    return new SelectPlan(
        sql,
        ctx.scope(conds),
        single,
        multi,
        refusal,
        merge,
        limit,
        widened,
        union == null ? null : union.union(),
        locking(select, scan));
  }

  /** Whether any query block of the statement locks what it reads. */
  private static boolean locking(net.sf.jsqlparser.statement.select.Select select, AstScan scan) {
    if (select.getForMode() != null || select.getForUpdate() != null) {
      return true;
    }
    for (PlainSelect ps : scan.selects()) {
      if (ps.getForMode() != null || ps.getForUpdate() != null) {
        return true;
      }
    }
    return false;
  }

  private static List<Table> blockTables(Map<Table, PlainSelect> blockOf, PlainSelect block) {
    List<Table> out = new ArrayList<>();
    for (Map.Entry<Table, PlainSelect> e : blockOf.entrySet()) {
      if (e.getValue() == block) {
        out.add(e.getKey());
      }
    }
    return out;
  }

  private static boolean hasUnplainLimit(PlainSelect top, ValueRef[] limit) {
    return limit == null && (top.getLimit() != null || top.getOffset() != null);
  }

  private Cond blockConditions(StatementContext ctx, PlainSelect ps) {
    List<Table> tables = new ArrayList<>();
    Map<Table, PlainSelect> direct = new IdentityHashMap<>();
    AstScan.collectDirect(ps.getFromItem(), ps.getJoins(), ps, direct);
    tables.addAll(direct.keySet());
    List<Expression> expressions = new ArrayList<>();
    expressions.add(ps.getWhere());
    if (ps.getJoins() != null) {
      for (Join join : ps.getJoins()) {
        if (isInner(join)) {
          expressions.addAll(join.getOnExpressions());
        }
      }
    }
    return ctx.conditions(tables, expressions);
  }

  static boolean isInner(Join join) {
    return !join.isLeft()
        && !join.isRight()
        && !join.isFull()
        && !join.isOuter()
        && !join.isCross()
        && !join.isNatural()
        && !join.isSemi()
        && !join.isApply();
  }

  /**
   * MySQL labels an unaliased expression with its text as written: {@code t_order.id+1} must not
   * come back as {@code t_order_3.id + 1}, nor {@code TRIM(c)} as JSqlParser's {@code Trim( c )}.
   * Records each such item's label before renaming: the text the user wrote ({@code written}, from
   * the parser's offsets), else the printed text.
   */
  private static List<Object[]> unaliasedLabels(PlainSelect top, Map<Object, String> written) {
    List<Object[]> out = new ArrayList<>();
    if (top == null) {
      return out;
    }
    for (var item : top.getSelectItems()) {
      Expression e = item.getExpression();
      if (item.getAlias() == null
          && !(e instanceof Column)
          && !(e instanceof net.sf.jsqlparser.statement.select.AllColumns)) {
        String label = written == null ? null : written.get(item);
        out.add(new Object[] {item, label != null ? label : e.toString()});
      }
    }
    return out;
  }

  /** Aliases the items whose printed text differs from their label; returns the aliases added. */
  private static String keepLabels(List<Object[]> labels) {
    StringBuilder added = new StringBuilder();
    for (Object[] l : labels) {
      var item = (net.sf.jsqlparser.statement.select.SelectItem<?>) l[0];
      String logical = (String) l[1];
      if (!item.getExpression().toString().equals(logical)) {
        String alias = "`" + logical.replace("`", "``") + "`";
        item.setAlias(new net.sf.jsqlparser.expression.Alias(alias, false));
        added.append(' ').append(alias);
      }
    }
    return added.toString();
  }

  /** Replaces a LIMIT of plain values by the template's LIMIT slot; returns [offset, count]. */
  private static ValueRef[] limitMarker(PlainSelect ps) {
    Limit limit = ps.getLimit();
    if (limit == null || limit.getRowCount() == null || limit.isLimitAll() || limit.isLimitNull()) {
      return null;
    }
    ValueRef count = Conditions.value(limit.getRowCount());
    Expression offsetExpression =
        limit.getOffset() != null
            ? limit.getOffset()
            : ps.getOffset() != null ? ps.getOffset().getOffset() : null;
    ValueRef offset = offsetExpression == null ? null : Conditions.value(offsetExpression);
    if (count == null || offsetExpression != null && offset == null) {
      return null;
    }
    limit.setOffset(null);
    ps.setOffset(null);
    limit.setRowCount(new Column(SqlTemplateMarkers.LIMIT));
    return new ValueRef[] {offset, count};
  }

  private Plan update(String sql, Update update) {
    AstScan scan = AstScan.of(update);
    StatementContext ctx = new StatementContext(rules, scan);
    List<Table> targets = new ArrayList<>();
    targets.add(update.getTable());
    addJoinTables(update.getStartJoins(), targets);
    addJoinTables(update.getJoins(), targets);
    Cond cond0 = dmlConditions(ctx, scan, targets, update.getWhere());
    List<Plan.KeyUpdate> keyUpdates = new ArrayList<>();
    Plan.Use target = ctx.useOf(update.getTable());
    for (UpdateSet set : update.getUpdateSets()) {
      for (int i = 0; i < set.getColumns().size(); i++) {
        Column column = set.getColumns().get(i);
        String name = Conditions.name(column);
        if (target != null
            && target.kind() == Plan.UseKind.SHARDED
            && rules.tableRule(target.table()).map(r -> r.isShardingColumn(name)).orElse(false)) {
          ValueRef value =
              i < set.getValues().size() ? Conditions.value(set.getValues().get(i)) : null;
          if (value == null) {
            throw new UnsupportedSqlException(
                List.of(target.table()),
                "UPDATE sets sharding column "
                    + name
                    + " of "
                    + target.table()
                    + " to an expression: the row could move to another data node");
          }
          keyUpdates.add(new Plan.KeyUpdate(target.table(), name, value));
        }
      }
    }
    return dml(sql, Plan.Kind.UPDATE, update, ctx, cond0, update.getLimit() != null, keyUpdates);
  }

  private Plan delete(String sql, Delete delete) {
    AstScan scan = AstScan.of(delete);
    StatementContext ctx = new StatementContext(rules, scan);
    List<Table> targets = new ArrayList<>();
    targets.add(delete.getTable());
    if (delete.getTables() != null) {
      targets.addAll(delete.getTables());
    }
    addJoinTables(delete.getJoins(), targets);
    Cond cond0 = dmlConditions(ctx, scan, targets, delete.getWhere());
    return dml(sql, Plan.Kind.DELETE, delete, ctx, cond0, delete.getLimit() != null, List.of());
  }

  private static void addJoinTables(List<Join> joins, List<Table> out) {
    if (joins != null) {
      for (Join j : joins) {
        if (j.getFromItem() instanceof Table t) {
          out.add(t);
        }
      }
    }
  }

  private Cond dmlConditions(
      StatementContext ctx, AstScan scan, List<Table> targets, Expression where) {
    List<Table> block0 = new ArrayList<>();
    for (Table t : targets) {
      if (t != null && ctx.add(t, 0) != null) {
        block0.add(t);
      }
    }
    Map<Table, PlainSelect> blockOf = scan.blockOfTables();
    Map<PlainSelect, Integer> ids = new IdentityHashMap<>();
    for (Table t : scan.tables()) {
      if (ctx.useOf(t) != null || block0.contains(t)) {
        continue;
      }
      PlainSelect ps = blockOf.get(t);
      int block = ps == null ? 1 : ids.computeIfAbsent(ps, k -> ids.size() + 1);
      ctx.add(t, block);
    }
    return ctx.conditions(
        block0, List.of(where == null ? new net.sf.jsqlparser.expression.NullValue() : where));
  }

  private WritePlan dml(
      String sql,
      Plan.Kind kind,
      Statement statement,
      StatementContext ctx,
      Cond cond0,
      boolean limit,
      List<Plan.KeyUpdate> keyUpdates) {
    int blocks = ctx.uses.stream().mapToInt(Plan.Use::block).max().orElse(0) + 1;
    List<Cond> conds = new ArrayList<>();
    conds.add(cond0);
    for (int i = 1; i < blocks; i++) {
      conds.add(Cond.ANY);
    }
    ctx.renameToMarkers();
    SqlTemplate template = verified(statement.toString(), ctx, null);
    return new WritePlan(kind, sql, ctx.scope(conds), template, limit, keyUpdates);
  }

  private Plan ddl(String sql, Statement statement) {
    AstScan scan = AstScan.of(statement);
    StatementContext ctx = new StatementContext(rules, scan);
    List<Table> tables = new ArrayList<>();
    if (statement instanceof CreateTable c) {
      tables.add(c.getTable());
    } else if (statement instanceof Alter a) {
      tables.add(a.getTable());
    } else if (statement instanceof Drop d) {
      tables.add(d.getName());
    } else if (statement instanceof Truncate t) {
      tables.add(t.getTable());
    } else if (statement instanceof CreateIndex ci) {
      tables.add(ci.getTable());
    }
    if (statement instanceof Drop d
        && d.getType() != null
        && !d.getType().equalsIgnoreCase("TABLE")
        && !d.getType().equalsIgnoreCase("INDEX")) {
      throw new UnsupportedSqlException(
          List.of(), "DROP " + d.getType() + " is not supported by the router");
    }
    for (Table t : tables) {
      ctx.add(t, 0);
    }
    if (ctx.slots.size() + ctx.uses.size() == 0) {
      throw new UnsupportedSqlException(
          List.of(), "DDL without a table is not supported by the router");
    }
    ctx.renameToMarkers();
    SqlTemplate template = SqlTemplate.compile(statement.toString());
    return new PassThroughPlan(sql, ctx.tableScope(), template);
  }

  /** The literal items of pruned IN lists, which the template holds outside its text. */
  private static String inListText(StatementContext ctx) {
    StringBuilder sb = new StringBuilder();
    for (List<ValueRef> items : ctx.inItems) {
      for (ValueRef item : items) {
        sb.append(' ').append(item.isParam() ? "?" : item.text());
      }
    }
    return sb.toString();
  }

  /**
   * Compiles the deparsed SQL after checking that it parses back to itself: a construct the parser
   * would print differently from what it read is refused here instead of being sent wrong.
   */
  private SqlTemplate verified(String deparsed, StatementContext ctx, ValueRef[] limit) {
    String hidden = inListText(ctx) + limitText(limit);
    // the labels the router added as aliases hold the user's text, quotes included
    if (!RoundTrip.sameQuotes(originalSql + addedLabels, deparsed + hidden)) {
      throw new UnsupportedSqlException(
          List.copyOf(ctx.tables),
          "the statement cannot be rewritten safely (a quoted string or identifier does not survive the parser)");
    }
    if (RoundTrip.parameters(originalSql) != RoundTrip.parameters(deparsed + hidden)) {
      throw new UnsupportedSqlException(
          List.copyOf(ctx.tables),
          "the statement cannot be rewritten safely (the parser does not print back every ? parameter)");
    }
    return SqlTemplate.compile(deparsed);
  }

  private static String limitText(ValueRef[] limit) {
    if (limit == null) {
      return "";
    }
    return (limit[0] == null ? "" : " " + limit[0].text()) + " " + limit[1].text();
  }
}
