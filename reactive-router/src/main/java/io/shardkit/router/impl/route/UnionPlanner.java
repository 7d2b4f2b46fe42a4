package io.shardkit.router.impl.route;

import io.shardkit.router.impl.analyse.ColumnTypes;
import io.shardkit.router.impl.parse.AstScan;
import io.shardkit.router.impl.parse.StatementParser;
import io.shardkit.router.impl.parse.ValueRef;
import io.shardkit.router.impl.schema.ColumnInfo;
import io.shardkit.router.impl.schema.Schema;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import net.sf.jsqlparser.expression.Alias;
import net.sf.jsqlparser.expression.Expression;
import net.sf.jsqlparser.expression.LongValue;
import net.sf.jsqlparser.expression.NullValue;
import net.sf.jsqlparser.expression.StringValue;
import net.sf.jsqlparser.expression.operators.relational.EqualsTo;
import net.sf.jsqlparser.schema.Column;
import net.sf.jsqlparser.schema.Table;
import net.sf.jsqlparser.statement.Statement;
import net.sf.jsqlparser.statement.select.Limit;
import net.sf.jsqlparser.statement.select.OrderByElement;
import net.sf.jsqlparser.statement.select.PlainSelect;
import net.sf.jsqlparser.statement.select.Select;
import net.sf.jsqlparser.statement.select.SelectItem;
import net.sf.jsqlparser.statement.select.SetOperation;
import net.sf.jsqlparser.statement.select.SetOperationList;
import net.sf.jsqlparser.statement.select.UnionOp;

/**
 * Plans a {@code UNION [ALL]} to run branch by branch when its tables do not land on one unit. Each
 * branch becomes an ordinary SELECT (routed, rewritten and merged on its own) that also returns the
 * collation sort key of each string column, so that the union can be deduplicated and ordered by
 * the server's own comparison. Only what one server's answer is known for is planned: every branch
 * selects plain columns of known types, and column i has the same type and collation in every
 * branch (then the union's column is that column, values unchanged, names from the first branch);
 * no GROUP BY, HAVING, aggregates, ORDER BY or LIMIT inside a branch; the outer ORDER BY names
 * result columns by position or name; the outer LIMIT has plain values.
 */
public final class UnionPlanner {

  /** How the refusals of a union that cannot run branch by branch begin. */
  public static final String REFUSAL = "UNION across data nodes, ";

  /** The plan, or why there is none. */
  record Result(Plan.Union union, String refusal) {}

  private UnionPlanner() {}

  static Result plan(SetOperationList list, Schema schema, Function<String, Plan> planBranch) {
    try {
      return new Result(build(list, schema, planBranch), null);
    } catch (Refusal r) {
      return new Result(null, r.getMessage());
    } catch (io.shardkit.router.UnsupportedSqlException r) {
      // a branch the router refuses alone: the whole union may still run on one unit
      return new Result(null, REFUSAL + r.getMessage());
    }
  }

  private static final class Refusal extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Refusal(String message) {
      super(REFUSAL + message, null, false, false);
    }
  }

  private static Plan.Union build(
      SetOperationList list, Schema schema, Function<String, Plan> planBranch) {
    if (list.getWithItemsList() != null && !list.getWithItemsList().isEmpty()) {
      throw new Refusal("WITH is not supported");
    }
    int distinctThrough = -1;
    for (int i = 0; i < list.getOperations().size(); i++) {
      SetOperation op = list.getOperations().get(i);
      if (!(op instanceof UnionOp)) {
        throw new Refusal(op + " (only UNION and UNION ALL are combined across data nodes)");
      }
      if (!op.isAll()) {
        distinctThrough = i + 1;
      }
    }
    if (list.getFetch() != null || list.getLimitBy() != null || list.getForUpdate() != null) {
      throw new Refusal("FETCH, LIMIT BY and locking clauses are not supported");
    }
    List<String> texts = new ArrayList<>();
    List<List<ColumnInfo>> types = new ArrayList<>();
    List<List<String>> labels = new ArrayList<>();
    for (Select s : list.getSelects()) {
      if (!(s instanceof PlainSelect ps)) {
        throw new Refusal("branch (" + s + ") is not a plain SELECT");
      }
      texts.add(ps.toString());
    }
    // without an outer ORDER BY, JSqlParser hangs a trailing LIMIT on the last branch; the server
    // applies it to the union (a branch's own LIMIT needs parentheses)
    Limit outerLimit = list.getLimit();
    net.sf.jsqlparser.statement.select.Offset outerOffset = list.getOffset();
    boolean trailingLimit = false;
    PlainSelect last = (PlainSelect) list.getSelects().get(list.getSelects().size() - 1);
    if (outerLimit == null
        && outerOffset == null
        && (list.getOrderByElements() == null || list.getOrderByElements().isEmpty())
        && last.getOrderByElements() == null
        && (last.getLimit() != null || last.getOffset() != null)) {
      outerLimit = last.getLimit();
      outerOffset = last.getOffset();
      trailingLimit = true;
    }
    // the branches as standalone statements, parsed again: the planner mutates what it plans
    List<PlainSelect> branches = new ArrayList<>();
    for (int b = 0; b < texts.size(); b++) {
      String text = texts.get(b);
      Statement st = StatementParser.parse(text);
      if (!(st instanceof PlainSelect ps)) {
        throw new Refusal("branch (" + text + ") is not a plain SELECT");
      }
      if (trailingLimit && b == texts.size() - 1) {
        ps.setLimit(null);
        ps.setOffset(null);
        texts.set(b, ps.toString());
      }
      checkPlain(ps);
      AstScan scan = AstScan.of(ps);
      List<Table> tables = new ArrayList<>();
      for (Map.Entry<Table, PlainSelect> e : scan.blockOfTables().entrySet()) {
        if (e.getValue() == ps) {
          tables.add(e.getKey());
        }
      }
      ColumnTypes columnTypes = ColumnTypes.of(schema, ps, tables);
      List<ColumnInfo> infos = new ArrayList<>();
      List<String> names = new ArrayList<>();
      for (SelectItem<?> item : ps.getSelectItems()) {
        if (!(item.getExpression() instanceof Column c)) {
          throw new Refusal(
              "result column "
                  + item
                  + " is not a column (only columns have a type known before the query runs)");
        }
        ColumnInfo info =
            columnTypes
                .of(c)
                .orElseThrow(
                    () -> new Refusal("the type of column " + c + " is not known (no metadata)"));
        switch (info.kind()) {
          case INTEGER, DECIMAL, STRING, DATE, DATETIME, TIME, YEAR -> {}
          case FLOAT ->
          // also DOUBLE: the text protocol sends FLOAT with 6 significant digits, too few to
          // deduplicate and order the branches' rows as the server does
          {
            if (info.dataType().equals("float")) {
              throw new Refusal(
                  info.columnType()
                      + " column "
                      + c
                      + " is not combined (the text protocol sends a FLOAT with 6"
                      + " significant digits: 123456.79 and 123456.8 both read 123457)");
            }
          }
          default -> throw new Refusal(info.columnType() + " column " + c + " is not combined");
        }
        infos.add(info);
        names.add(
            item.getAlias() != null
                ? AstScan.unquote(item.getAlias().getName())
                : AstScan.unquote(c.getColumnName()));
      }
      if (!types.isEmpty() && infos.size() != types.get(0).size()) {
        // one server answers 1222; the units would too, but only after the other branches ran
        throw new Refusal("the branches select different numbers of columns");
      }
      types.add(infos);
      labels.add(names);
      branches.add(ps);
    }
    List<ColumnInfo> first = types.get(0);
    int columns = first.size();
    for (int b = 1; b < types.size(); b++) {
      for (int i = 0; i < columns; i++) {
        ColumnInfo x = first.get(i);
        ColumnInfo y = types.get(b).get(i);
        if (!x.columnType().equals(y.columnType())
            || !java.util.Objects.equals(x.collation(), y.collation())) {
          throw new Refusal(
              "result column "
                  + (i + 1)
                  + " is "
                  + describe(x)
                  + " in the first branch and "
                  + describe(y)
                  + " in branch "
                  + (b + 1)
                  + ": the server converts both to a common type, which is not reproduced");
        }
      }
    }
    int[] weights = new int[columns];
    int[] pads = new int[columns];
    int width = columns;
    for (int i = 0; i < columns; i++) {
      boolean text = first.get(i).kind() == ColumnInfo.Kind.STRING;
      weights[i] = text ? width++ : -1;
      pads[i] = text ? width++ : -1;
    }
    boolean[] distinctBranches = new boolean[branches.size()];
    List<Plan> plans = new ArrayList<>();
    List<Integer> parameters = new ArrayList<>();
    int paramTotal = 0;
    for (int b = 0; b < branches.size(); b++) {
      PlainSelect ps = branches.get(b);
      int params = RoundTrip.parameters(texts.get(b));
      if (ps.getDistinct() != null) {
        // the sort key columns would split the branch's own DISTINCT on the server ('a' and 'a '
        // have different WEIGHT_STRINGs under PAD SPACE although they are equal): the merge
        // deduplicates the branch instead (the union does anyway up to the last UNION DISTINCT)
        ps.setDistinct(null);
        distinctBranches[b] = b > distinctThrough;
      }
      for (int i = 0; i < columns; i++) {
        if (weights[i] < 0) {
          continue;
        }
        Expression value = ps.getSelectItems().get(i).getExpression();
        SelectItem<Expression> weight =
            new SelectItem<>(new net.sf.jsqlparser.expression.Function("WEIGHT_STRING", value));
        weight.setAlias(new Alias("sk_union_w" + i, true));
        net.sf.jsqlparser.expression.Function empty =
            new net.sf.jsqlparser.expression.Function("LEFT", value, new LongValue(0));
        net.sf.jsqlparser.expression.Function space =
            new net.sf.jsqlparser.expression.Function(
                "WEIGHT_STRING",
                new net.sf.jsqlparser.expression.Function("CONCAT", empty, new StringValue(" ")));
        SelectItem<Expression> pad =
            new SelectItem<>(
                new net.sf.jsqlparser.expression.Function(
                    "IF", new EqualsTo(empty, new StringValue(" ")), space, new NullValue()));
        pad.setAlias(new Alias("sk_union_p" + i, true));
        ps.addSelectItems(weight, pad);
      }
      plans.add(planBranch.apply(ps.toString()));
      parameters.add(params);
      paramTotal += params;
    }
    List<OrderByElement> order = list.getOrderByElements();
    int[] orderColumns = new int[order == null ? 0 : order.size()];
    boolean[] descending = new boolean[orderColumns.length];
    for (int k = 0; k < orderColumns.length; k++) {
      OrderByElement o = order.get(k);
      if (o.getNullOrdering() != null) {
        throw new Refusal("ORDER BY ... NULLS FIRST/LAST is not supported");
      }
      orderColumns[k] = orderColumn(o.getExpression(), labels.get(0));
      descending[k] = !o.isAsc();
    }
    ValueRef[] limit = null;
    Limit l = outerLimit;
    if (l != null || outerOffset != null) {
      if (l == null || l.getRowCount() == null || l.isLimitAll() || l.isLimitNull()) {
        throw new Refusal("an OFFSET without a row count is not supported");
      }
      Expression offsetExpression =
          l.getOffset() != null
              ? l.getOffset()
              : outerOffset != null ? outerOffset.getOffset() : null;
      ValueRef count = Conditions.value(l.getRowCount());
      ValueRef offset = offsetExpression == null ? null : Conditions.value(offsetExpression);
      if (count == null || offsetExpression != null && offset == null) {
        throw new Refusal("LIMIT with expressions other than numbers and ? is not supported");
      }
      limit = new ValueRef[] {offset, count};
    }
    int limitParams =
        limit == null
            ? 0
            : (limit[1].isParam() ? 1 : 0) + (limit[0] != null && limit[0].isParam() ? 1 : 0);
    if (RoundTrip.parameters(list.toString()) != paramTotal + limitParams) {
      throw new Refusal("? parameters outside the branches and the LIMIT are not supported");
    }
    return new Plan.Union(
        List.copyOf(plans),
        List.copyOf(parameters),
        columns,
        weights,
        pads,
        distinctThrough,
        orderColumns,
        descending,
        limit,
        distinctBranches);
  }

  private static void checkPlain(PlainSelect ps) {
    if (ps.getGroupBy() != null
        || ps.getHaving() != null
        || ps.getOrderByElements() != null
        || ps.getLimit() != null
        || ps.getOffset() != null
        || ps.getFetch() != null
        || ps.getIntoTables() != null
        || ps.getForMode() != null
        || ps.getForUpdate() != null
        || ps.getWithItemsList() != null && !ps.getWithItemsList().isEmpty()
        || ps.getDistinct() != null && ps.getDistinct().getOnSelectItems() != null) {
      throw new Refusal(
          "branch ("
              + ps
              + ") has GROUP BY, HAVING, ORDER BY, LIMIT, INTO, a locking clause or WITH");
    }
  }

  /** The result column an outer ORDER BY item names: a position or a first-branch label. */
  private static int orderColumn(Expression e, List<String> labels) {
    if (e instanceof LongValue position) {
      java.math.BigInteger p = new java.math.BigInteger(position.getStringValue());
      if (p.signum() > 0 && p.compareTo(java.math.BigInteger.valueOf(labels.size())) <= 0) {
        return p.intValue() - 1;
      }
      // one server answers 1054 (unknown column in order clause)
      throw new Refusal("ORDER BY " + e + " does not name a result column");
    }
    if (e instanceof Column c && c.getTable() == null) {
      String name = AstScan.unquote(c.getColumnName()).toLowerCase(Locale.ROOT);
      int found = -1;
      for (int i = 0; i < labels.size(); i++) {
        if (labels.get(i).toLowerCase(Locale.ROOT).equals(name)) {
          if (found >= 0) {
            throw new Refusal("ORDER BY " + e + " is ambiguous");
          }
          found = i;
        }
      }
      if (found >= 0) {
        return found;
      }
    }
    throw new Refusal("ORDER BY " + e + " (only result columns by position or name order a union)");
  }

  private static String describe(ColumnInfo c) {
    return c.columnType() + (c.collation() == null ? "" : " " + c.collation());
  }
}
