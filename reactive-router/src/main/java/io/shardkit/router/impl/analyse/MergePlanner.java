package io.shardkit.router.impl.analyse;

import io.shardkit.router.impl.analyse.MergeSpec.Aggregate;
import io.shardkit.router.impl.analyse.MergeSpec.AggregateKind;
import io.shardkit.router.impl.analyse.MergeSpec.ColumnRef;
import io.shardkit.router.impl.analyse.MergeSpec.Key;
import io.shardkit.router.impl.analyse.MergeSpec.SortKey;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import net.sf.jsqlparser.expression.Alias;
import net.sf.jsqlparser.expression.AnalyticExpression;
import net.sf.jsqlparser.expression.Expression;
import net.sf.jsqlparser.expression.ExpressionVisitorAdapter;
import net.sf.jsqlparser.expression.Function;
import net.sf.jsqlparser.expression.LongValue;
import net.sf.jsqlparser.expression.UserVariable;
import net.sf.jsqlparser.expression.operators.relational.ExpressionList;
import net.sf.jsqlparser.schema.Column;
import net.sf.jsqlparser.statement.select.AllColumns;
import net.sf.jsqlparser.statement.select.GroupByElement;
import net.sf.jsqlparser.statement.select.OrderByElement;
import net.sf.jsqlparser.statement.select.PlainSelect;
import net.sf.jsqlparser.statement.select.SelectItem;

/**
 * Rewrites the statement's own query block for execution on several units and describes the merge:
 * derived columns for ORDER BY / GROUP BY keys missing from the projection, AVG as SUM and COUNT,
 * DISTINCT aggregates as an extra GROUP BY on their argument, LIMIT widened (or removed when rows
 * are grouped, then applied after the merge). Constructs whose result cannot be merged exactly are
 * refused with the reason.
 */
public final class MergePlanner {

  /** The variance aggregates and how they merge (see {@link Spread}). */
  static final java.util.Map<String, AggregateKind> SPREADS =
      java.util.Map.of(
          "STD", AggregateKind.STDDEV_POP,
          "STDDEV", AggregateKind.STDDEV_POP,
          "STDDEV_POP", AggregateKind.STDDEV_POP,
          "STDDEV_SAMP", AggregateKind.STDDEV_SAMP,
          "VARIANCE", AggregateKind.VAR_POP,
          "VAR_POP", AggregateKind.VAR_POP,
          "VAR_SAMP", AggregateKind.VAR_SAMP);

  static final Set<String> MERGEABLE =
      Set.of(
          "COUNT",
          "SUM",
          "MIN",
          "MAX",
          "AVG",
          "STD",
          "STDDEV",
          "STDDEV_POP",
          "STDDEV_SAMP",
          "VARIANCE",
          "VAR_POP",
          "VAR_SAMP",
          "BIT_AND",
          "BIT_OR",
          "BIT_XOR");

  /** BIT_AND, BIT_OR, BIT_XOR: the units' results combine with the same operation. */
  static final java.util.Map<String, AggregateKind> BITS =
      java.util.Map.of(
          "BIT_AND", AggregateKind.BIT_AND,
          "BIT_OR", AggregateKind.BIT_OR,
          "BIT_XOR", AggregateKind.BIT_XOR);

  private static final Set<String> OTHER_AGGREGATES =
      Set.of("GROUP_CONCAT", "JSON_ARRAYAGG", "JSON_OBJECTAGG", "ANY_VALUE");
  static final String DERIVED_PREFIX = "sk_derived_";

  /** The spec, or why several units cannot answer this query. */
  public record Result(MergeSpec spec, String refusal, boolean limitWidened) {}

  private final PlainSelect select;
  private final List<SelectItem<?>> items;
  private final List<String> itemTexts = new ArrayList<>();
  private final List<ColumnRef> itemRefs = new ArrayList<>();
  private final List<SelectItem<?>> derivedItems = new ArrayList<>();
  private final java.util.Map<ColumnRef, Key> keys = new java.util.HashMap<>();

  /** Keys of values the merge cannot order as the server does, with their column's type. */
  private final java.util.Map<ColumnRef, String> unordered = new java.util.HashMap<>();

  private int firstWildcard = -1;
  private ColumnRef groupConcatMaxLength;

  /** The derived {@code @@group_concat_max_len} column, added once per query. */
  ColumnRef groupConcatMaxLength() {
    if (groupConcatMaxLength == null) {
      groupConcatMaxLength =
          addDerived(new UserVariable("group_concat_max_len").withDoubleAdd(true), "m");
    }
    return groupConcatMaxLength;
  }

  private final ColumnTypes types;
  private ColumnRef protocolProbe;

  /** The derived {@code PI()} column that tells the text protocol (rounded) from the binary one. */
  ColumnRef protocolProbe() {
    if (protocolProbe == null) {
      Function pi = new Function("PI");
      pi.setParameters(new ExpressionList<>());
      protocolProbe = addDerived(pi, "r");
    }
    return protocolProbe;
  }

  private MergePlanner(PlainSelect select, ColumnTypes types) {
    this.select = select;
    this.items = select.getSelectItems();
    this.types = types;
  }

  /**
   * Plans the merge and mutates {@code select} into the multi-unit form.
   *
   * @param select the statement's own query block (tables already renamed to markers)
   * @param hasLimitSlot whether the LIMIT was replaced by the template slot
   * @param hasOtherLimit whether a LIMIT exists whose values are not plain (refused)
   * @param types the schema types of the block's column references
   */
  public static Result plan(
      PlainSelect select, boolean hasLimitSlot, boolean hasOtherLimit, ColumnTypes types) {
    try {
      return new MergePlanner(select, types).plan(hasLimitSlot, hasOtherLimit);
    } catch (Refusal r) {
      return new Result(null, r.getMessage(), false);
    }
  }

  static final class Refusal extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Refusal(String message) {
      super(message, null, false, false);
    }
  }

  private Result plan(boolean hasLimitSlot, boolean hasOtherLimit) {
    if (hasOtherLimit) {
      throw new Refusal(
          "LIMIT with expressions other than numbers and ? cannot be merged across data nodes");
    }
    if (select.getDistinct() != null && select.getDistinct().getOnSelectItems() != null) {
      throw new Refusal("DISTINCT ON is not supported across data nodes");
    }
    if (select.getIntoTables() != null || select.getForMode() != null && hasLimitSlot) {
      throw new Refusal(
          "SELECT ... INTO or locking reads with LIMIT are not supported across data nodes");
    }
    int lastWildcard = -1;
    for (int i = 0; i < items.size(); i++) {
      Expression e = items.get(i).getExpression();
      if (e instanceof AllColumns) {
        firstWildcard = firstWildcard < 0 ? i : firstWildcard;
        lastWildcard = i;
      }
      itemTexts.add(normalize(e.toString()));
    }
    for (int i = 0; i < items.size(); i++) {
      if (items.get(i).getExpression() instanceof AllColumns) {
        itemRefs.add(null);
      } else if (firstWildcard < 0 || i < firstWildcard) {
        itemRefs.add(ColumnRef.start(i));
      } else if (i > lastWildcard) {
        itemRefs.add(new ColumnRef(ColumnRef.Origin.END, items.size() - 1 - i));
      } else {
        itemRefs.add(null);
      }
    }
    List<Aggregate> aggregates = new ArrayList<>();
    List<Expression> distinctArgs = new ArrayList<>();
    for (int i = 0; i < items.size(); i++) {
      Expression e = items.get(i).getExpression();
      if (e instanceof AllColumns) {
        continue;
      }
      if (e instanceof Function f
          && MERGEABLE.contains(upper(f.getName()))
          && !(e instanceof AnalyticExpression)) {
        if (itemRefs.get(i) == null) {
          throw new Refusal(
              "aggregate " + e + " between two wildcards cannot be located in the result");
        }
        aggregates.add(aggregate(f, itemRefs.get(i), distinctArgs));
      } else if (e instanceof Function f
          && upper(f.getName()).equals("GROUP_CONCAT")
          && !(e instanceof AnalyticExpression)
          && itemRefs.get(i) != null) {
        aggregates.add(GroupConcatPlanner.plan(this, f, itemRefs.get(i), distinctArgs));
      } else if (ScalarCompiler.wrapsAggregate(e)) {
        if (itemRefs.get(i) == null) {
          throw new Refusal(
              "aggregate " + e + " between two wildcards cannot be located in the result");
        }
        new ScalarCompiler(this, aggregates, distinctArgs).compile(e, itemRefs.get(i));
      } else {
        checkNoAggregate(e);
      }
    }
    List<Key> groupKeys = new ArrayList<>();
    boolean shadowedGroupKey = false;
    GroupByElement groupBy = select.getGroupBy();
    if (groupBy != null) {
      if (groupBy.getGroupingSets() != null && !groupBy.getGroupingSets().isEmpty()
          || groupBy.isMysqlWithRollup()) {
        throw new Refusal("GROUPING SETS / WITH ROLLUP are not supported across data nodes");
      }
      for (Object o : groupBy.getGroupByExpressionList()) {
        groupKeys.add(resolveKey((Expression) o, "g"));
        shadowedGroupKey |=
            o instanceof Column c && c.getTable() == null && columnFirst(c) && aliased(c);
      }
    }
    boolean aggregate = !aggregates.isEmpty() || groupBy != null;
    List<SortKey> orderBy = new ArrayList<>();
    List<OrderByElement> order = select.getOrderByElements();
    if (order != null) {
      for (OrderByElement o : order) {
        if (o.getNullOrdering() != null) {
          throw new Refusal("ORDER BY ... NULLS FIRST/LAST is not supported across data nodes");
        }
        Expression e = o.getExpression();
        ColumnRef ref;
        if (e instanceof Function f
            && MERGEABLE.contains(upper(f.getName()))
            && findItem(e) == null) {
          if (upper(f.getName()).equals("AVG")
              || SPREADS.containsKey(upper(f.getName()))
              || f.isDistinct()) {
            throw new Refusal("ORDER BY " + e + " needs the aggregate in the select list");
          }
          ref = addDerived(e, "o");
          aggregates.add(aggregate(f, ref, distinctArgs));
          orderBy.add(new SortKey(keyFor(ref, e), !o.isAsc()));
        } else if (ScalarCompiler.wrapsAggregate(e) && findItem(e) == null) {
          ref = addDerived(e, "o");
          new ScalarCompiler(this, aggregates, distinctArgs).compile(e, ref);
          orderBy.add(new SortKey(keyFor(ref, e), !o.isAsc()));
        } else {
          orderBy.add(new SortKey(ordered(sortPad(resolveKey(e, "o"), e), e), !o.isAsc()));
        }
      }
    }
    Having having = null;
    if (select.getHaving() != null) {
      if (!aggregate) {
        throw new Refusal(
            "HAVING without GROUP BY or aggregates is not supported across data nodes");
      }
      having = new HavingCompiler(this, aggregates, distinctArgs).compile(select.getHaving());
      select.setHaving(null);
    }
    boolean distinct = select.getDistinct() != null;
    List<Key> distinctKeys = null;
    if (distinct) {
      distinctKeys = new ArrayList<>();
      for (int i = 0; i < items.size() && (firstWildcard < 0 || i < firstWildcard); i++) {
        distinctKeys.add(keyFor(itemRefs.get(i), items.get(i).getExpression()));
      }
    }
    boolean streamingGroup = false;
    boolean sortAfterGroup = false;
    if (aggregate && !groupKeys.isEmpty()) {
      boolean orderable = groupKeys.stream().noneMatch(k -> unordered.containsKey(k.column()));
      if (orderBy.isEmpty() && !orderable) {
        // groups of a value the merge cannot order are merged by equality, in no order: MariaDB
        // sorts a GROUP BY's groups by their keys when there is no ORDER BY, a habit SQL does not
        // promise and the merge cannot follow here (README, "UUID")
      } else if (orderBy.isEmpty() && shadowedGroupKey) {
        // a unit's ORDER BY sku would sort by the alias that shadows column sku: sort the
        // merged groups by the group keys instead, as one database orders its groups
        for (Key k : groupKeys) {
          orderBy.add(new SortKey(k, false));
        }
        sortAfterGroup = true;
      } else if (orderBy.isEmpty()) {
        List<OrderByElement> added = new ArrayList<>();
        for (Object o : groupBy.getGroupByExpressionList()) {
          OrderByElement element = new OrderByElement();
          element.setExpression((Expression) o);
          added.add(element);
          orderBy.add(new SortKey(groupKeys.get(added.size() - 1), false));
        }
        select.setOrderByElements(added);
        streamingGroup = true;
      } else {
        streamingGroup = orderBy.size() >= groupKeys.size() && sameKeys(orderBy, groupKeys);
        sortAfterGroup = !streamingGroup;
      }
    }
    if (!distinctArgs.isEmpty()) {
      if (groupBy == null) {
        groupBy = new GroupByElement();
        select.setGroupByElement(groupBy);
      }
      for (Expression arg : distinctArgs) {
        groupBy.addGroupByExpressions(arg);
      }
    }
    boolean limitWidened = false;
    if (hasLimitSlot) {
      if (aggregate || distinct) {
        select.setLimit(null);
      } else {
        limitWidened = true;
      }
    }
    for (SelectItem<?> item : derivedItems) {
      select.addSelectItems(item);
    }
    MergeSpec spec =
        new MergeSpec(
            derivedItems.size(),
            aggregate,
            aggregate && groupKeys.isEmpty(),
            List.copyOf(groupKeys),
            List.copyOf(aggregates),
            List.copyOf(orderBy),
            streamingGroup,
            sortAfterGroup,
            distinct,
            having,
            distinctKeys == null ? null : List.copyOf(distinctKeys));
    return new Result(spec, null, limitWidened);
  }

  private static boolean sameKeys(List<SortKey> orderBy, List<Key> groupKeys) {
    for (int i = 0; i < groupKeys.size(); i++) {
      if (!orderBy.get(i).column().equals(groupKeys.get(i).column())) {
        return false;
      }
    }
    return orderBy.size() == groupKeys.size();
  }

  Aggregate aggregate(Function f, ColumnRef target, List<Expression> distinctArgs) {
    String name = upper(f.getName());
    ExpressionList<?> params = f.getParameters();
    if (f.isAllColumns() || params == null) {
      if (!name.equals("COUNT")) {
        throw new Refusal(f + " is not mergeable");
      }
      return new Aggregate(AggregateKind.COUNT, target, null, null, null);
    }
    if (BITS.containsKey(name)) {
      if (f.isDistinct() || params.size() != 1) {
        // MariaDB rejects BIT_XOR(DISTINCT x) (1064); MySQL's grammar has no DISTINCT here either
        throw new Refusal(
            f + ": " + name + " takes one argument without DISTINCT (the server rejects the rest)");
      }
      checkNoAggregate(params.get(0));
      if (types
          .of(params.get(0))
          .map(c -> c.kind() == io.shardkit.router.impl.schema.ColumnInfo.Kind.BINARY)
          .orElse(false)) {
        // MySQL 8 folds binary strings bytewise and returns a binary string
        throw new Refusal(f + ": " + name + " of a binary string is not merged across data nodes");
      }
      // each unit converts its rows to unsigned 64-bit integers and folds them; AND, OR and XOR
      // are associative and commutative, so folding the units' results is one server's fold
      return new Aggregate(BITS.get(name), target, null, null, null);
    }
    if (params.size() != 1) {
      if (name.equals("COUNT") && f.isDistinct()) {
        return countDistinctTuple(f, target, distinctArgs);
      }
      throw new Refusal(
          f + ": aggregates with several arguments are not supported across data nodes");
    }
    Expression arg = params.get(0);
    checkNoAggregate(arg);
    if ((name.equals("SUM") || name.equals("AVG")) && containsDivision(arg)) {
      // the server sums each quotient at an internal precision it does not return (9-digit
      // groups beyond div_precision_increment); partial sums rounded per unit differ in the
      // last digits, so the merge refuses rather than approximates
      throw new Refusal(
          f
              + ": SUM/AVG of a division cannot be merged exactly across data nodes (each node"
              + " rounds its partial result); divide the aggregate instead, e.g. SUM(a) / b");
    }
    if (SPREADS.containsKey(name)) {
      if (f.isDistinct()) {
        throw new Refusal(f + ": " + name + "(DISTINCT ...) is not supported across data nodes");
      }
      if (types
          .of(arg)
          .map(
              c ->
                  c.kind() == io.shardkit.router.impl.schema.ColumnInfo.Kind.DATETIME
                      && c.columnType().contains("("))
          .orElse(false)) {
        // a DATETIME(6) reads as YYYYMMDDhhmmss.ffffff, 20 digits: more than a double holds, so
        // the server's own variance (Welford's algorithm on doubles) depends on its row order
        throw new Refusal(
            f
                + ": "
                + name
                + " of a date-time with fractional seconds is not merged across data nodes (its"
                + " numeric reading has more digits than a double holds, so the server's result"
                + " depends on the order it reads the rows)");
      }
      Function count = new Function("COUNT", arg);
      // the server's variance reads a BIT value as a double, signed (b'1...1' is -1), where SUM
      // reads it unsigned: the mean must come from the same reading
      Function sum = new Function("SUM", isBit(arg) ? asDouble(arg) : arg);
      // * 1e0 makes the unit send the variance unrounded (the server rounds VAR_POP of an exact
      // argument to its scale + 4 decimals on the text protocol)
      Expression varPop =
          new net.sf.jsqlparser.expression.operators.arithmetic.Multiplication(
              new Function("VAR_POP", arg), new net.sf.jsqlparser.expression.DoubleValue("1e0"));
      return new Aggregate(
          SPREADS.get(name),
          target,
          addDerived(sum, "s"),
          addDerived(count, "c"),
          null,
          null,
          null,
          new MergeSpec.SpreadColumns(
              addDerived(varPop, "v"),
              protocolProbe(),
              addDerived(new Function("MIN", asDouble(arg)), "v"),
              addDerived(new Function("MAX", asDouble(arg)), "v"),
              isBit(arg)),
          null);
    }
    if (f.isDistinct()
        && (name.equals("SUM") || name.equals("AVG"))
        && types.of(arg).map(c -> !isNumericKind(c.kind())).orElse(false)) {
      throw new Refusal(
          f + ": SUM/AVG(DISTINCT ...) of a non-numeric column cannot be merged across data nodes");
    }
    if (f.isDistinct() && !name.equals("MIN") && !name.equals("MAX")) {
      ColumnRef value = addDerived(arg, "d");
      distinctArgs.add(arg);
      AggregateKind kind =
          switch (name) {
            case "COUNT" -> AggregateKind.COUNT_DISTINCT;
            case "SUM" -> AggregateKind.SUM_DISTINCT;
            default -> AggregateKind.AVG_DISTINCT;
          };
      return new Aggregate(kind, target, null, null, value, null, keyFor(value, arg));
    }
    if ((name.equals("MIN") || name.equals("MAX"))
        && types
            .of(arg)
            .map(c -> c.kind() == io.shardkit.router.impl.schema.ColumnInfo.Kind.BIT)
            .orElse(false)) {
      // MariaDB sends MIN/MAX of a BIT column as bits or as decimal text depending on its plan
      // (grouped through a temporary table or not), and the driver reads that text as bytes: one
      // database has no single answer to reproduce
      throw new Refusal(
          f
              + ": MIN/MAX of a BIT column cannot be merged across data nodes (the server sends it"
              + " as bits or as decimal text depending on its plan); write "
              + name
              + "("
              + arg
              + " + 0)");
    }
    return switch (name) {
      case "COUNT" -> new Aggregate(AggregateKind.COUNT, target, null, null, null);
      case "SUM" -> new Aggregate(AggregateKind.SUM, target, null, null, null);
      case "MIN" ->
          new Aggregate(AggregateKind.MIN, target, null, null, null, null, keyFor(target, f));
      case "MAX" ->
          new Aggregate(AggregateKind.MAX, target, null, null, null, null, keyFor(target, f));
      default -> {
        Function count = new Function("COUNT", arg);
        Function sum = new Function("SUM", arg);
        yield new Aggregate(
            AggregateKind.AVG, target, addDerived(sum, "s"), addDerived(count, "c"), null);
      }
    };
  }

  /**
   * {@code COUNT(DISTINCT a, b, ...)}: each argument is added to the units' GROUP BY and returned
   * with its collation sort key; the merge counts the distinct tuples with no NULL element, each
   * element compared in its own collation, as one server does.
   */
  private Aggregate countDistinctTuple(
      Function f, ColumnRef target, List<Expression> distinctArgs) {
    List<Key> tuple = new ArrayList<>();
    for (Expression arg : f.getParameters()) {
      checkNoAggregate(arg);
      ColumnRef value = addDerived(arg, "d");
      distinctArgs.add(arg);
      tuple.add(keyFor(value, arg));
    }
    return new Aggregate(
        AggregateKind.COUNT_DISTINCT_TUPLE,
        target,
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        List.copyOf(tuple));
  }

  private static Expression asDouble(Expression arg) {
    return new net.sf.jsqlparser.expression.operators.arithmetic.Addition(
        arg, new net.sf.jsqlparser.expression.DoubleValue("0e0"));
  }

  /** A GROUP BY / ORDER BY key: a select item by position, alias or same text, else derived. */
  ColumnRef resolve(Expression e, String kind) {
    if (e instanceof LongValue position) {
      // a position names the n-th result column, wherever wildcards expand
      int p = position(position);
      if (p < 0) {
        throw new Refusal("position " + position + " does not name a column of the result");
      }
      return ColumnRef.start(p);
    }
    if (e instanceof Column c && c.getTable() == null && !(kind.equals("g") && columnFirst(c))) {
      int i = aliasIndex(c);
      if (i >= 0) {
        return itemRefs.get(i);
      }
    }
    ColumnRef found = findItem(e);
    if (found != null) {
      return found;
    }
    checkNoAggregate(e);
    return addDerived(e, kind);
  }

  /**
   * The select item whose alias a bare name in ORDER BY / GROUP BY / HAVING names, or -1. Two items
   * with that alias are refused: one database orders by the last of them and rejects the name as
   * ambiguous in GROUP BY (1052), where the merge would pick one.
   */
  private int aliasIndex(Column c) {
    String name = c.getColumnName().replace("`", "").toLowerCase(Locale.ROOT);
    int found = -1;
    for (int i = 0; i < items.size(); i++) {
      Alias alias = items.get(i).getAlias();
      if (alias != null
          && alias.getName().replace("`", "").replace("'", "").toLowerCase(Locale.ROOT).equals(name)
          && itemRefs.get(i) != null) {
        if (found >= 0) {
          throw new Refusal(
              c
                  + " names two select items (both aliased "
                  + c.getColumnName()
                  + "): ambiguous across data nodes; give them different aliases");
        }
        found = i;
      }
    }
    return found;
  }

  /** A GROUP BY / ORDER BY key with the sort key columns its strings need. */
  Key resolveKey(Expression e, String kind) {
    ColumnRef ref = resolve(e, kind);
    boolean column = kind.equals("g") && e instanceof Column c && columnFirst(c);
    return keyFor(ref, column ? e : sourceOf(e));
  }

  /**
   * The ORDER BY key of an expression (not a column) whose collation is the {@code _bin} collation
   * of a single-byte character set: MariaDB sorts such values without padding ({@code 'a'} before
   * {@code 'a '} whatever the other keys say) although it compares them as equal; columns of that
   * collation sort padded. The key then carries a pad column that is NULL for those collations.
   */
  private Key sortPad(Key key, Expression e) {
    Expression source = sourceOf(e);
    if (key.pad() == null || source == null || source instanceof Column || sortsPadded()) {
      return key;
    }
    Function empty = new Function("LEFT", source, new LongValue(0));
    net.sf.jsqlparser.expression.operators.relational.ParenthesedExpressionList<Expression>
        charsets =
            new net.sf.jsqlparser.expression.operators.relational.ParenthesedExpressionList<>();
    for (String name : SINGLE_BYTE_CHARSETS) {
      charsets.add(new net.sf.jsqlparser.expression.StringValue(name));
    }
    Expression unpadded =
        new net.sf.jsqlparser.expression.operators.conditional.AndExpression(
            new net.sf.jsqlparser.expression.operators.relational.LikeExpression()
                .withLeftExpression(new Function("COLLATION", empty))
                .withRightExpression(new net.sf.jsqlparser.expression.StringValue("%\\_bin")),
            new net.sf.jsqlparser.expression.operators.relational.InExpression(
                new Function("CHARSET", empty), charsets));
    Expression pads =
        new net.sf.jsqlparser.expression.operators.conditional.AndExpression(
            new net.sf.jsqlparser.expression.operators.relational.EqualsTo(
                empty, new net.sf.jsqlparser.expression.StringValue(" ")),
            new net.sf.jsqlparser.expression.NotExpression(
                new net.sf.jsqlparser.expression.operators.relational.ParenthesedExpressionList<>(
                    unpadded)));
    return new Key(
        key.column(), key.weight(), padColumn(empty, pads), key.ordinals(), key.unsigned());
  }

  /**
   * Whether the units sort through a temporary table, where MariaDB sorts those {@code _bin}
   * expressions padded like any other ({@code 'a'} and {@code 'a '} equal, the next key decides):
   * measured with a join, GROUP BY and DISTINCT (fuzz gen 4, seed 156: {@code ... JOIN ... ORDER BY
   * a.c5 COLLATE latin1_bin, 1}); a plain single-table sort does not pad them.
   */
  private boolean sortsPadded() {
    return select.getJoins() != null && !select.getJoins().isEmpty()
        || select.getGroupBy() != null
        || select.getDistinct() != null;
  }

  /** Character sets of one byte per character (their {@code _bin} collations sort unpadded). */
  private static final List<String> SINGLE_BYTE_CHARSETS =
      List.of(
          "armscii8",
          "ascii",
          "cp1250",
          "cp1251",
          "cp1256",
          "cp1257",
          "cp850",
          "cp852",
          "cp866",
          "dec8",
          "geostd8",
          "greek",
          "hebrew",
          "hp8",
          "keybcs2",
          "koi8r",
          "koi8u",
          "latin1",
          "latin2",
          "latin5",
          "latin7",
          "macce",
          "macroman",
          "swe7",
          "tis620");

  /**
   * The expression whose value a GROUP BY / ORDER BY key names: the select item for a position or
   * an alias, else the key itself; null when it is a column a wildcard expands to.
   */
  /**
   * GROUP BY resolves a bare name to a column of the FROM tables before a select alias (ORDER BY
   * the other way round). True when the name is such a column; with unknown metadata, when the
   * alias's own expression uses a column of that name (SELECT UPPER(sku) AS sku ... GROUP BY sku),
   * the usual way an alias shadows one.
   */
  private boolean columnFirst(Column c) {
    String name = c.getColumnName().replace("`", "").toLowerCase(Locale.ROOT);
    Boolean column = types.isColumn(name);
    if (column != null) {
      return column;
    }
    for (SelectItem<?> item : items) {
      Alias alias = item.getAlias();
      if (alias != null
          && alias.getName().replace("`", "").replace("'", "").toLowerCase(Locale.ROOT).equals(name)
          && !(item.getExpression() instanceof Column)
          && normalize(item.getExpression().toString()).contains(name)) {
        return true;
      }
    }
    return false;
  }

  /**
   * HAVING resolves a bare name that GROUP BY uses as a column of the FROM tables to that column,
   * even when a select alias of the same name stands for something else (the server warns "Column
   * 'x' in HAVING is ambiguous" and takes the GROUP BY column).
   */
  boolean havingGroupColumn(Column c) {
    if (c.getTable() != null || !isGroupKey(c) || !columnFirst(c)) {
      return false;
    }
    String name = c.getColumnName().replace("`", "").toLowerCase(Locale.ROOT);
    for (SelectItem<?> item : items) {
      Alias alias = item.getAlias();
      if (alias != null
          && alias.getName().replace("`", "").replace("'", "").toLowerCase(Locale.ROOT).equals(name)
          && !normalize(item.getExpression().toString()).equals(normalize(c.toString()))) {
        return true;
      }
    }
    return false;
  }

  private boolean aliased(Column c) {
    String name = c.getColumnName().replace("`", "").toLowerCase(Locale.ROOT);
    for (SelectItem<?> item : items) {
      Alias alias = item.getAlias();
      if (alias != null
          && alias.getName().replace("`", "").replace("'", "").toLowerCase(Locale.ROOT).equals(name)
          && !(item.getExpression() instanceof Column)) {
        return true;
      }
    }
    return false;
  }

  Expression sourceOf(Expression e) {
    if (e instanceof LongValue position) {
      int p = position(position);
      boolean named = p < items.size() && (firstWildcard < 0 || p < firstWildcard);
      return named ? items.get(p).getExpression() : null;
    }
    if (e instanceof Column c && c.getTable() == null) {
      int i = aliasIndex(c);
      if (i >= 0) {
        return items.get(i).getExpression();
      }
    }
    return e;
  }

  /**
   * The key of a value at {@code ref} computed by {@code source}: unless the expression can only be
   * a number, the units also return its sort key in the server's collation ({@code WEIGHT_STRING})
   * and the collation's space weight when it pads with spaces (see {@link Collated}). One pair of
   * derived columns per value, however many keys compare it.
   */
  Key keyFor(ColumnRef ref, Expression source) {
    Key known = keys.get(ref);
    if (known != null) {
      return known;
    }
    if (source instanceof Function f
        && !(source instanceof AnalyticExpression)
        && upper(f.getName()).equals("GROUP_CONCAT")) {
      // the merged value is a concatenation of the units' partial ones: no unit knows its sort key
      throw new Refusal(
          source
              + " cannot be compared across data nodes (ORDER BY, HAVING, DISTINCT): its"
              + " collation sort key is known only for each node's part");
    }
    if (source != null && ScalarCompiler.wrapsAggregate(source) && !isNumeric(source)) {
      // the units' sort keys are of their own partial values, not of the merged one
      throw new Refusal(
          source
              + " cannot be compared across data nodes (ORDER BY, HAVING, DISTINCT): only numeric"
              + " expressions over aggregates are");
    }
    Key key;
    java.util.Optional<io.shardkit.router.impl.schema.ColumnInfo> info = types.of(source);
    // an ENUM/SET column, or MIN/MAX of one, is ordered by position; MIN/MAX compare its text
    Ordinals ordinals = info.map(c -> Ordinals.parse(c.columnType())).orElse(null);
    boolean minMax =
        source instanceof Function f
            && (upper(f.getName()).equals("MIN") || upper(f.getName()).equals("MAX"));
    io.shardkit.router.impl.schema.ColumnInfo.Kind kind =
        info.map(io.shardkit.router.impl.schema.ColumnInfo::kind).orElse(null);
    if (source != null && kind == io.shardkit.router.impl.schema.ColumnInfo.Kind.FLOAT) {
      // the text protocol sends a FLOAT with 6 significant digits (123456.79 and 123456.8 both
      // read 123457): the units also return its exact value as a double, which the merge compares
      key = new Key(ref, addDerived(asDouble(source), "x"), null);
    } else if (kind == io.shardkit.router.impl.schema.ColumnInfo.Kind.BIT && !minMax) {
      // the driver decodes BIT(64) as a signed long; the server orders it unsigned
      key = Key.bits(ref);
    } else if (source == null
        || source instanceof AllColumns
        || isNumeric(source)
        || info.isPresent() && info.get().comparesAsNonText()) {
      key = Key.of(ref);
    } else if (info.isPresent() && info.get().binaryOrder() != null) {
      // INET6/INET4: the server orders the binary address (::1 before 2001:db8::1), not its text
      key =
          new Key(
              ref,
              addDerived(
                  new net.sf.jsqlparser.expression.CastExpression(
                      "CAST", source, info.get().binaryOrder()),
                  "w"),
              null);
    } else if (info.isPresent() && info.get().orderUnknown()) {
      if (minMax) {
        throw new Refusal(unorderable(source, info.get().dataType()));
      }
      // equal values have equal text: grouping and DISTINCT by its sort key stay exact
      key = weighted(ref, source);
      unordered.put(ref, info.get().dataType());
    } else if (ordinals != null && !minMax) {
      key = new Key(ref, null, null, ordinals);
    } else {
      key = weighted(ref, source);
      key = new Key(ref, key.weight(), key.pad(), ordinals);
    }
    keys.put(ref, key);
    return key;
  }

  /** {@code key}, refused when the merge cannot order its values as the server does. */
  private Key ordered(Key key, Expression source) {
    String type = unordered.get(key.column());
    if (type != null) {
      throw new Refusal(unorderable(source, type));
    }
    return key;
  }

  private static String unorderable(Expression source, String type) {
    return source
        + " cannot be ordered or compared across data nodes (ORDER BY, MIN/MAX, HAVING): the"
        + " server orders "
        + type
        + " values by rules of its own, which the merge cannot reproduce; order on one data node"
        + " (a condition on the sharding key) or by another column";
  }

  private Key weighted(ColumnRef ref, Expression source) {
    Function weight = new Function("WEIGHT_STRING", source);
    Function empty = new Function("LEFT", source, new LongValue(0));
    Expression pads =
        new net.sf.jsqlparser.expression.operators.relational.EqualsTo(
            empty, new net.sf.jsqlparser.expression.StringValue(" "));
    return new Key(ref, addDerived(weight, "w"), padColumn(empty, pads));
  }

  /**
   * A derived column holding the collation's space weight when {@code pads} holds, else NULL;
   * {@code empty} is {@code LEFT(value, 0)}, an empty string in the value's collation.
   */
  private ColumnRef padColumn(Function empty, Expression pads) {
    Function spaceWeight =
        new Function(
            "WEIGHT_STRING",
            new Function("CONCAT", empty, new net.sf.jsqlparser.expression.StringValue(" ")));
    Function pad =
        new Function("IF", pads, spaceWeight, new net.sf.jsqlparser.expression.NullValue());
    return addDerived(pad, "p");
  }

  private static boolean isNumericKind(io.shardkit.router.impl.schema.ColumnInfo.Kind kind) {
    return switch (kind) {
      case INTEGER, DECIMAL, FLOAT, BIT, YEAR -> true;
      default -> false;
    };
  }

  /**
   * The key of a HAVING operand: as {@link #keyFor}, plus sort key columns for an ENUM/SET value,
   * which compares with a string as text.
   */
  Key havingKey(ColumnRef ref, Expression source) {
    Key key = ordered(keyFor(ref, source), source);
    java.util.Optional<io.shardkit.router.impl.schema.ColumnInfo> info = types.of(source);
    if (info.isPresent() && info.get().binaryOrder() != null) {
      // '10.0.0.1' stores as ::ffff:10.0.0.1 but does not CAST to INET6: what the server compares
      // such a value with is converted by its own rules
      throw new Refusal(
          source
              + " cannot be compared in HAVING across data nodes: the server converts what "
              + info.get().dataType()
              + " values are compared with by rules of its own; filter with WHERE, or on one"
              + " data node");
    }
    if (key.weight() == null && key.ordinals() != null) {
      Key weighted = weighted(ref, source);
      return new Key(ref, weighted.weight(), weighted.pad(), key.ordinals());
    }
    return key;
  }

  /** The sort key of a string compared with {@code source}, in its collation (a derived column). */
  ColumnRef weightIn(Expression source, Expression value) {
    Function empty = new Function("LEFT", source, new LongValue(0));
    return addDerived(new Function("WEIGHT_STRING", new Function("CONCAT", empty, value)), "w");
  }

  /** Whether the schema says {@code e} is a YEAR column (or MIN/MAX of one). */
  boolean isYear(Expression e) {
    return types
        .of(e)
        .map(c -> c.kind() == io.shardkit.router.impl.schema.ColumnInfo.Kind.YEAR)
        .orElse(false);
  }

  /** Whether the schema says {@code e} is a BIT column. */
  boolean isBit(Expression e) {
    return types
        .of(e)
        .map(c -> c.kind() == io.shardkit.router.impl.schema.ColumnInfo.Kind.BIT)
        .orElse(false);
  }

  /** Whether {@code f} is MIN or MAX of an ENUM or SET column. */
  boolean isOrdinalMinMax(Function f) {
    String name = upper(f.getName());
    if (!(name.equals("MIN") || name.equals("MAX"))
        || f.getParameters() == null
        || f.getParameters().size() != 1) {
      return false;
    }
    return types
        .of(f.getParameters().get(0))
        .map(c -> Ordinals.parse(c.columnType()) != null)
        .orElse(false);
  }

  /** Whether GROUP BY names this expression (same text). */
  boolean isGroupKey(Expression e) {
    if (select.getGroupBy() == null) {
      return false;
    }
    String text = normalize(e.toString());
    for (Object o : select.getGroupBy().getGroupByExpressionList()) {
      if (normalize(o.toString()).equals(text)) {
        return true;
      }
    }
    return false;
  }

  private static boolean containsDivision(Expression e) {
    boolean[] found = {false};
    e.accept(
        new ExpressionVisitorAdapter<Void>() {
          @Override
          public <S> Void visit(
              net.sf.jsqlparser.expression.operators.arithmetic.Division division, S context) {
            found[0] = true;
            return null;
          }
        },
        null);
    return found[0];
  }

  /** Whether an expression's value is a number whatever the data (no sort key needed). */
  private static boolean isNumeric(Expression e) {
    if (e
            instanceof
            net.sf.jsqlparser.expression.operators.relational.ParenthesedExpressionList<?> p
        && p.size() == 1) {
      return isNumeric(p.get(0));
    }
    if (e instanceof LongValue
        || e instanceof net.sf.jsqlparser.expression.DoubleValue
        || e instanceof net.sf.jsqlparser.expression.operators.arithmetic.Addition
        || e instanceof net.sf.jsqlparser.expression.operators.arithmetic.Subtraction
        || e instanceof net.sf.jsqlparser.expression.operators.arithmetic.Multiplication
        || e instanceof net.sf.jsqlparser.expression.operators.arithmetic.Division
        || e instanceof net.sf.jsqlparser.expression.operators.arithmetic.IntegerDivision
        || e instanceof net.sf.jsqlparser.expression.operators.arithmetic.Modulo) {
      return true;
    }
    if (e instanceof Function f && !(e instanceof AnalyticExpression)) {
      String name = upper(f.getName());
      if ((name.equals("MIN") || name.equals("MAX"))
          && f.getParameters() != null
          && f.getParameters().size() == 1) {
        return isNumeric(f.getParameters().get(0));
      }
      return name.equals("COUNT")
          || BITS.containsKey(name)
          || name.equals("SUM")
          || name.equals("AVG")
          || SPREADS.containsKey(name)
          || Scalar.NUMERIC_FUNCTIONS.contains(name);
    }
    return false;
  }

  /** A 0-based select-list position from a 1-based literal; out of range is -1. */
  private static int position(LongValue position) {
    java.math.BigInteger p = new java.math.BigInteger(position.getStringValue());
    return p.bitLength() > 30 ? -1 : p.intValue() - 1;
  }

  ColumnRef findItem(Expression e) {
    String text = normalize(e.toString());
    for (int i = 0; i < items.size(); i++) {
      if (itemRefs.get(i) != null && itemTexts.get(i).equals(text)) {
        return itemRefs.get(i);
      }
    }
    return null;
  }

  ColumnRef addDerived(Expression e, String kind) {
    int index = derivedItems.size();
    SelectItem<Expression> item = new SelectItem<>(e);
    item.setAlias(new Alias(DERIVED_PREFIX + kind + index, true));
    derivedItems.add(item);
    return ColumnRef.derived(index);
  }

  /** Whether {@code e}, or the select item an alias in it names, has a BIT_* aggregate. */
  boolean usesBitAggregate(Expression e) {
    return usesBitAggregate(
        e, java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>()));
  }

  private boolean usesBitAggregate(Expression e, Set<Expression> seen) {
    if (!seen.add(e)) {
      return false; // an alias whose item refers to a column of the same name (SUM(id) AS id)
    }
    boolean[] found = {false};
    e.accept(
        new ExpressionVisitorAdapter<Void>() {
          @Override
          public <S> Void visit(Function function, S context) {
            if (BITS.containsKey(upper(function.getName()))) {
              found[0] = true;
              return null;
            }
            return super.visit(function, context);
          }

          @Override
          public <S> Void visit(Column column, S context) {
            Expression source = sourceOf(column);
            if (source != null && source != column && usesBitAggregate(source, seen)) {
              found[0] = true;
            }
            return null;
          }
        },
        null);
    return found[0];
  }

  static void checkNoAggregate(Expression e) {
    e.accept(
        new ExpressionVisitorAdapter<Void>() {
          @Override
          public <S> Void visit(Function function, S context) {
            String name = upper(function.getName());
            if (MERGEABLE.contains(name) || OTHER_AGGREGATES.contains(name)) {
              throw new Refusal(name + " inside " + e + " cannot be merged across data nodes");
            }
            return super.visit(function, context);
          }

          @Override
          public <S> Void visit(AnalyticExpression expression, S context) {
            throw new Refusal(
                "window function " + expression + " cannot be merged across data nodes");
          }
        },
        null);
  }

  static String upper(String name) {
    return name == null ? "" : name.replace("`", "").toUpperCase(Locale.ROOT);
  }

  private static String normalize(String text) {
    return text.replace("`", "").toLowerCase(Locale.ROOT).replace(" ", "");
  }
}
