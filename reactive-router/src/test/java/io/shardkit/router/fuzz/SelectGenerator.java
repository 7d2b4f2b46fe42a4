package io.shardkit.router.fuzz;

import io.shardkit.router.fuzz.PredicateGenerator.Scoped;
import io.shardkit.router.fuzz.SelectSpec.From;
import io.shardkit.router.fuzz.SelectSpec.Item;
import io.shardkit.router.fuzz.SelectSpec.Limit;
import io.shardkit.router.fuzz.SelectSpec.Order;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;

/**
 * Random SELECTs over a schema: point and scatter reads, joins of binding tables and with the
 * broadcast table, DISTINCT, GROUP BY with aggregates (also inside expressions) and HAVING, ORDER
 * BY by alias, position or expression (with COLLATE or BINARY), LIMIT/OFFSET up to 2^64-1, IN
 * subqueries and UNION [ALL].
 */
final class SelectGenerator {

  private static final List<Object> LIMITS =
      List.of(0L, 1L, 2L, 3L, 5L, 10L, 100L, new BigInteger("18446744073709551615"));
  private static final List<Object> OFFSETS =
      List.of(
          0L,
          1L,
          2L,
          5L,
          new BigInteger("18446744073709551615"),
          new BigInteger("18446744073709551610"));
  private static final List<String> NUMERIC_AGGREGATES =
      List.of("SUM", "AVG", "MIN", "MAX", "STDDEV", "VARIANCE", "COUNT");
  private static final List<String> SPREADS =
      List.of("STDDEV", "STD", "STDDEV_POP", "STDDEV_SAMP", "VARIANCE", "VAR_POP", "VAR_SAMP");

  private final FuzzSchema schema;
  private final Literals literals;
  private final PredicateGenerator predicates;

  SelectGenerator(FuzzSchema schema, Literals literals) {
    this.schema = schema;
    this.literals = literals;
    this.predicates = new PredicateGenerator(literals);
  }

  SelectSpec next() {
    int roll = literals.between(0, 99);
    if (roll < 8) {
      return union();
    }
    From from = from();
    List<Scoped> scope = scope(from);
    SelectSpec spec = roll < 50 ? rows(from, scope) : aggregate(from, scope);
    return withOrderAndLimit(spec, scope);
  }

  private From from() {
    int roll = literals.between(0, 99);
    if (roll < 15) {
      return new From(
          schema.table(FuzzSchema.BOUND),
          "a",
          schema.table(FuzzSchema.BOUND_PARTNER),
          "b",
          literals.chance(80) ? "JOIN" : "LEFT JOIN");
    }
    if (roll < 25) {
      FuzzTable left =
          schema.table(
              literals.pick(List.of("t_mod", "t_range", "t_hash", FuzzSchema.SINGLE, "t_mod_b")));
      return new From(left, "a", schema.table(FuzzSchema.BROADCAST), "b", "JOIN");
    }
    FuzzTable table = literals.pick(schema.tables());
    if (roll < 31) {
      return new From(table, "d", null, null, null, derived(table));
    }
    return new From(table, literals.chance(30) ? "x" : null, null, null, null);
  }

  /**
   * {@code SELECT * FROM table WHERE ...} as a derived table, often pinned to one key value (then
   * it can be routed to one node).
   */
  private SelectSpec derived(FuzzTable table) {
    List<Scoped> scope = scope(new From(table, null, null, null, null));
    Pred where =
        literals.chance(60)
            ? new Pred.Compare(
                scope.get(1).expr(),
                "=",
                new Expr.Value(literals.storableFor(table, table.key()), literals.chance(50)))
            : predicates.condition(scope, 1);
    List<Item> items = new ArrayList<>();
    table.columns().forEach(c -> items.add(new Item(new Expr.Col(null, c), null)));
    return new SelectSpec(
        new From(table, null, null, null, null),
        true,
        false,
        items,
        where,
        List.of(),
        null,
        List.of(),
        null,
        null,
        false);
  }

  private static List<Scoped> scope(From from) {
    List<Scoped> out = new ArrayList<>();
    from.table().columns().forEach(c -> out.add(new Scoped(from.table(), from.alias(), c)));
    if (from.joined() != null) {
      from.joined().columns().forEach(c -> out.add(new Scoped(from.joined(), from.joinAlias(), c)));
    }
    return out;
  }

  private Pred where(List<Scoped> scope, FuzzTable table) {
    if (!literals.chance(75)) {
      return null;
    }
    Pred p = predicates.condition(scope, 2);
    if (literals.chance(8)) {
      Pred sub = subquery(scope, table);
      return literals.chance(50) ? sub : new Pred.Junction("AND", List.of(p, sub));
    }
    return p;
  }

  /**
   * {@code k IN (SELECT k FROM t WHERE ...)} over the broadcast table or the same table; over the
   * same table often with both blocks pinned to one key value, so that it can be routed.
   */
  private Pred subquery(List<Scoped> scope, FuzzTable outer) {
    Scoped key =
        scope.stream().filter(s -> s.column().name().equals("k")).findFirst().orElseThrow();
    FuzzTable inner = literals.chance(50) ? schema.table(FuzzSchema.BROADCAST) : outer;
    List<Scoped> innerScope = new ArrayList<>();
    inner.columns().forEach(c -> innerScope.add(new Scoped(inner, null, c)));
    Pred innerWhere =
        literals.chance(60)
            ? predicates.atom(innerScope.get(1))
            : predicates.condition(innerScope, 1);
    Expr pin = null;
    if (inner == outer && literals.chance(60)) {
      pin = new Expr.Value(literals.storableFor(outer, outer.key()), literals.chance(50));
      Pred innerPin = new Pred.Compare(innerScope.get(1).expr(), "=", pin);
      innerWhere =
          literals.chance(50) ? innerPin : new Pred.Junction("AND", List.of(innerPin, innerWhere));
    }
    SelectSpec sub =
        new SelectSpec(
            new From(inner, null, null, null, null),
            false,
            false,
            List.of(new Item(new Expr.Col(null, inner.key()), null)),
            innerWhere,
            List.of(),
            null,
            List.of(),
            null,
            null,
            false);
    Pred in = new Pred.InSelect(key.expr(), sub, literals.chance(15));
    return pin == null
        ? in
        : new Pred.Junction("AND", List.of(new Pred.Compare(key.expr(), "=", pin), in));
  }

  /** Plain rows: {@code *} or some columns and expressions, maybe DISTINCT. */
  private SelectSpec rows(From from, List<Scoped> scope) {
    boolean star = literals.chance(15);
    List<Item> items = new ArrayList<>();
    if (star) {
      from.table().columns().forEach(c -> items.add(new Item(new Expr.Col(from.alias(), c), null)));
    } else {
      int n = literals.between(1, 4);
      for (int i = 0; i < n; i++) {
        Scoped s = literals.pick(scope);
        Expr e = s.expr();
        String alias = alias("e" + i, scope);
        if (overflowFree(s.column().type()) && literals.chance(15)) {
          e = new Expr.Arithmetic(literals.pick(List.of("+", "*", "/")), e, literal(2L));
          alias = "e" + i;
        } else if (literals.chance(15)) {
          e = scalarOr(s);
        } else if (literals.chance(6)) {
          int kind = literals.between(0, 2);
          e =
              new Expr.If(
                  predicates.atom(s),
                  literal(List.<Object>of(1L, "yes", "Zürich").get(kind)),
                  literal(List.<Object>of(0L, "no", "zurich").get(kind)));
        } else if (literals.chance(5)) {
          e = window(scope, s);
        }
        items.add(new Item(e, alias));
      }
    }
    return new SelectSpec(
        from,
        star,
        !star && literals.chance(20),
        items,
        where(scope, from.table()),
        List.of(),
        null,
        List.of(),
        null,
        null,
        false);
  }

  /**
   * A scalar function of the column where its type has one: on strings UPPER, LOWER, TRIM, LEFT,
   * SUBSTRING, REPLACE, CONCAT and COALESCE with a literal (a string in the column's collation) or
   * CHAR_LENGTH/LENGTH; on exact numbers MOD, SIGN, COALESCE, and ABS/FLOOR where they cannot
   * overflow; else the column itself.
   */
  private Expr scalarOr(Scoped s) {
    Expr col = s.expr();
    ColumnType type = s.column().type();
    if (type.isString()) {
      return switch (literals.between(0, 8)) {
        case 0 -> new Expr.Scalar("UPPER", col, List.of(), true);
        case 1 -> new Expr.Scalar("LOWER", col, List.of(), true);
        case 2 -> new Expr.Scalar("TRIM", col, List.of(), true);
        case 3 -> new Expr.Scalar("LEFT", col, List.of(literal(2L)), true);
        case 4 -> new Expr.Scalar("SUBSTRING", col, List.of(literal(2L)), true);
        case 5 -> new Expr.Scalar("REPLACE", col, List.of(literal("u"), literal("ü")), true);
        case 6 -> new Expr.Scalar("CONCAT", col, List.of(literal("-")), true);
        case 7 -> new Expr.Scalar("COALESCE", col, List.of(literal("zz")), true);
        default ->
            new Expr.Scalar(literals.pick(List.of("CHAR_LENGTH", "LENGTH")), col, List.of(), false);
      };
    }
    return switch (type.kind()) {
      case INT, DECIMAL ->
          switch (literals.between(0, 4)) {
            case 0 -> new Expr.Scalar("ABS", col, List.of(), false);
            case 1 -> new Expr.Scalar("FLOOR", col, List.of(), false);
            case 2 -> new Expr.Scalar("MOD", col, List.of(literal(7L)), false);
            case 3 -> new Expr.Scalar("SIGN", col, List.of(), false);
            default -> new Expr.Scalar("COALESCE", col, List.of(literal(0L)), false);
          };
      case BIGINT, UNSIGNED ->
          switch (literals.between(0, 2)) {
            case 0 -> new Expr.Scalar("MOD", col, List.of(literal(7L)), false);
            case 1 -> new Expr.Scalar("SIGN", col, List.of(), false);
            default -> new Expr.Scalar("COALESCE", col, List.of(literal(0L)), false);
          };
      default -> col;
    };
  }

  /** {@code COUNT(*) OVER ()}, {@code SUM/MIN/MAX(c) OVER ([PARTITION BY k])}. */
  private Expr window(List<Scoped> scope, Scoped s) {
    Expr partition =
        literals.chance(50)
            ? scope.stream()
                .filter(x -> x.column().name().equals("k"))
                .findFirst()
                .map(Scoped::expr)
                .orElse(null)
            : null;
    String fn = literals.pick(List.of("COUNT", "SUM", "MIN", "MAX"));
    Expr argument =
        fn.equals("COUNT")
            ? null
            : fn.equals("SUM") && !s.column().type().isNumeric() ? null : s.expr();
    return new Expr.Window(argument == null ? "COUNT" : fn, argument, partition);
  }

  /**
   * Arithmetic on BIGINT can overflow on a row past a LIMIT that one database never evaluates but a
   * shard does: an error whose presence depends on scan order, not a router bug.
   */
  private static boolean overflowFree(ColumnType type) {
    return switch (type.kind()) {
      case INT, DECIMAL, DOUBLE, FLOAT, YEAR -> true;
      default -> false;
    };
  }

  /** GROUP BY 0..2 columns with aggregates, maybe HAVING. */
  private SelectSpec aggregate(From from, List<Scoped> scope) {
    List<Expr> groups = new ArrayList<>();
    List<Item> items = new ArrayList<>();
    int keys = literals.chance(25) ? 0 : literals.between(1, 2);
    for (int i = 0; i < keys; i++) {
      Scoped s = literals.pick(scope);
      Expr g = literals.chance(15) ? scalarOr(s) : s.expr();
      if (groups.contains(g)) {
        continue;
      }
      groups.add(g);
      items.add(new Item(g, literals.chance(30) ? "g" + i : null));
    }
    int aggregates = literals.between(1, 3);
    for (int i = 0; i < aggregates; i++) {
      items.add(new Item(aggregateExpr(scope), alias("a" + i, scope)));
    }
    Pred having = null;
    if (literals.chance(30)) {
      having = having(items, scope);
    }
    return new SelectSpec(
        from,
        false,
        false,
        items,
        where(scope, from.table()),
        groups,
        having,
        List.of(),
        null,
        null,
        false);
  }

  private Expr aggregateExpr(List<Scoped> scope) {
    Scoped s = literals.pick(scope);
    Expr col = s.expr();
    if (literals.chance(10)) {
      // BIT_AND/OR/XOR over any column type (the server folds each row's unsigned 64-bit reading),
      // and COUNT(DISTINCT a, b) over two columns of possibly different collations
      if (literals.chance(60)) {
        return new Expr.Aggregate(
            literals.pick(List.of("BIT_AND", "BIT_OR", "BIT_XOR")), false, col, null, null);
      }
      Expr other = literals.pick(scope).expr();
      return new Expr.CountDistinct(other.equals(col) ? List.of(col) : List.of(col, other));
    }
    int roll = literals.between(0, 99);
    if (roll < 12) {
      return new Expr.Aggregate("COUNT", false, null, null, null);
    }
    if (roll < 20) {
      return new Expr.Aggregate("COUNT", true, literals.chance(25) ? scalarOr(s) : col, null, null);
    }
    if (roll < 30) {
      return new Expr.Aggregate(
          "GROUP_CONCAT",
          literals.chance(40),
          col,
          literals.chance(40) ? literals.pick(List.of("|", "; ", "")) : null,
          literals.chance(30) ? literals.chance(50) : null);
    }
    if (roll < 38) {
      return new Expr.Aggregate(
          literals.pick(List.of("MIN", "MAX")),
          false,
          literals.chance(25) ? scalarOr(s) : col,
          null,
          null);
    }
    if (roll < 45) {
      Expr sum = new Expr.Aggregate("SUM", false, col, null, null);
      Expr count = new Expr.Aggregate("COUNT", false, null, null, null);
      int shape = literals.between(0, 5);
      return switch (shape) {
        case 0, 1 -> new Expr.Arithmetic("/", sum, count);
        case 2 -> new Expr.Arithmetic("+", sum, literal(1L));
        case 3 -> new Expr.Arithmetic("*", count, literal(2L));
        case 4 -> new Expr.Call("CONCAT", List.of(new Expr.Value("n=", false), count));
        default ->
            new Expr.Call(
                literals.pick(List.of("ROUND", "TRUNCATE")),
                List.of(
                    new Expr.Aggregate("AVG", false, numericOrSelf(scope, s), null, null),
                    new Expr.Value((long) literals.between(0, 3), false)));
      };
    }
    if (roll < 52) {
      List<Scoped> numeric = scope.stream().filter(x -> x.column().type().isNumeric()).toList();
      Scoped b = numeric.isEmpty() ? s : literals.pick(numeric);
      return new Expr.Aggregate(
          literals.pick(List.of("SUM", "AVG")),
          false,
          new Expr.Arithmetic("/", col, b.expr()),
          null,
          null);
    }
    List<Scoped> numeric = scope.stream().filter(x -> x.column().type().isNumeric()).toList();
    Scoped n = numeric.isEmpty() || literals.chance(15) ? s : literals.pick(numeric);
    String fn = literals.pick(NUMERIC_AGGREGATES);
    if (fn.equals("STDDEV") || fn.equals("VARIANCE")) {
      fn = literals.pick(SPREADS);
    }
    boolean distinct =
        (fn.equals("SUM") || fn.equals("AVG") || fn.equals("COUNT")) && literals.chance(25);
    return new Expr.Aggregate(fn, distinct, n.expr(), null, null);
  }

  /**
   * A non-floating numeric column of the scope if there is one, else {@code s}: ROUND/TRUNCATE of
   * an average of doubles turns the last-bit differences of two summation orders (which one
   * database has between two plans too) into a difference in the rounded digit.
   */
  private Expr numericOrSelf(List<Scoped> scope, Scoped s) {
    List<Scoped> exact =
        scope.stream()
            .filter(x -> x.column().type().isNumeric() && !x.column().type().isFloating())
            .toList();
    return exact.isEmpty() ? s.expr() : literals.pick(exact).expr();
  }

  /**
   * No alias, a fresh one, or sometimes the name of a column of the FROM table: ORDER BY resolves a
   * select alias before a column of the same name, which the merge has to do too.
   */
  private String alias(String fresh, List<Scoped> scope) {
    int roll = literals.between(0, 99);
    if (roll < 8) {
      return literals.pick(scope).column().name();
    }
    return roll < 40 ? fresh : null;
  }

  /** A comparison of a selected aggregate (by alias or repeated) or a group key with a value. */
  private Pred having(List<Item> items, List<Scoped> scope) {
    Item item = literals.pick(items);
    // HAVING resolves a name against the FROM columns first: use only aliases no column has
    Expr left =
        item.alias() != null && item.alias().matches("[ag]\\d+") && literals.chance(50)
            ? new Expr.Ref(item.alias(), item.expr())
            : item.expr();
    Object value =
        literals.pick(List.of(0L, 1L, 2L, 3L, "2", "10", "a", new java.math.BigDecimal("1.5")));
    if (item.expr() instanceof Expr.Col c) {
      Scoped s =
          scope.stream()
              .filter(x -> x.column().equals(c.column()))
              .filter(x -> java.util.Objects.equals(x.qualifier(), c.qualifier()))
              .findFirst()
              .orElseThrow();
      return predicates.atom(s);
    }
    if (item.expr() instanceof Expr.Aggregate a
        && a.fn().equals("GROUP_CONCAT")
        && a.concatDescending() == null) {
      // without ORDER BY the concatenation (and so the comparison) depends on the row order, which
      // one database varies between plans too: HAVING compares an ordered one
      left = new Expr.Aggregate(a.fn(), a.distinct(), a.argument(), a.separator(), false);
    }
    return new Pred.Compare(
        left, literals.pick(List.of("=", ">", "<", ">=", "<>")), literal(value));
  }

  private Expr literal(Object value) {
    return new Expr.Value(value, literals.chance(40));
  }

  private SelectSpec withOrderAndLimit(SelectSpec spec, List<Scoped> scope) {
    List<Order> orders = new ArrayList<>();
    if (literals.chance(60)) {
      int n = literals.between(1, Math.min(3, spec.items().size()));
      for (int i = 0; i < n; i++) {
        int item = literals.between(0, spec.items().size() - 1);
        orders.add(order(spec, item));
      }
    } else if (spec.groupBy().isEmpty()
        && !spec.distinct()
        && spec.items().stream().noneMatch(i -> i.expr().isAggregate())
        && literals.chance(15)) {
      Scoped s = literals.pick(scope);
      Expr by = literals.chance(30) ? scalarOr(s) : s.expr();
      orders.add(new Order(-1, by, Order.Style.EXPRESSION, null, literals.chance(50)));
    }
    spec = spec.withOrderBy(orders);
    if (literals.chance(35)) {
      spec = spec.withLimit(limit());
    }
    return spec;
  }

  private Order order(SelectSpec spec, int item) {
    Item it = spec.items().get(item);
    List<Order.Style> styles = new ArrayList<>(List.of(Order.Style.POSITION));
    if (!spec.star()) {
      styles.add(Order.Style.EXPRESSION);
    }
    if (it.alias() != null) {
      styles.add(Order.Style.ALIAS);
    }
    if (spec.union() != null) {
      styles = List.of(Order.Style.POSITION);
    }
    String collate = null;
    if (it.expr() instanceof Expr.Col c
        && c.column().type().isString()
        && spec.union() == null
        && !spec.star()
        && literals.chance(25)) {
      collate =
          c.column().type().charset().equals("latin1")
              ? literals.pick(List.of("latin1_bin", "latin1_general_ci", "BINARY"))
              : literals.pick(
                  List.of("utf8mb4_bin", "utf8mb4_unicode_ci", "utf8mb4_general_ci", "BINARY"));
    }
    return new Order(item, null, literals.pick(styles), collate, literals.chance(40));
  }

  private Limit limit() {
    Object offset = literals.chance(50) ? literals.pick(OFFSETS) : null;
    return new Limit(offset, literals.pick(LIMITS), literals.chance(30), literals.chance(30));
  }

  /**
   * Two or three blocks, UNION or UNION ALL (mixed when three): usually over one table with the
   * same columns, each block often pinned to one key value (so that the branches land on different
   * nodes), sometimes DISTINCT; sometimes a later block selects other columns or reads another
   * table (a union of different types or collations, which the router refuses across nodes).
   */
  private SelectSpec union() {
    FuzzTable table = literals.pick(schema.tables());
    From from = new From(table, null, null, null, null);
    List<Scoped> scope = scope(from);
    List<Item> items = new ArrayList<>();
    int n = literals.between(1, 2);
    for (int i = 0; i < n; i++) {
      items.add(new Item(literals.pick(scope).expr(), i == 0 && literals.chance(20) ? "u0" : null));
    }
    SelectSpec third = literals.chance(25) ? unionBranch(table, items, null, false) : null;
    SelectSpec second = unionBranch(table, items, third, literals.chance(50));
    SelectSpec first =
        new SelectSpec(
            from,
            false,
            literals.chance(15),
            items,
            unionWhere(scope, table),
            List.of(),
            null,
            List.of(),
            null,
            second,
            literals.chance(50));
    return withOrderAndLimit(first, scope);
  }

  private SelectSpec unionBranch(
      FuzzTable table, List<Item> items, SelectSpec next, boolean nextAll) {
    FuzzTable own = table;
    List<Item> mine = items;
    if (literals.chance(10)) {
      own = literals.pick(schema.tables());
      List<Scoped> otherScope = scope(new From(own, null, null, null, null));
      List<Item> other = new ArrayList<>();
      for (int i = 0; i < items.size(); i++) {
        other.add(new Item(literals.pick(otherScope).expr(), null));
      }
      mine = other;
    } else {
      List<Item> plain = new ArrayList<>();
      items.forEach(i -> plain.add(new Item(i.expr(), null)));
      mine = plain;
    }
    From from = new From(own, null, null, null, null);
    return new SelectSpec(
        from,
        false,
        literals.chance(15),
        mine,
        unionWhere(scope(from), own),
        List.of(),
        null,
        List.of(),
        null,
        next,
        nextAll);
  }

  /** A branch's WHERE: often {@code k = value} (one node), else a random condition. */
  private Pred unionWhere(List<Scoped> scope, FuzzTable table) {
    if (literals.chance(40)) {
      return new Pred.Compare(
          scope.get(1).expr(),
          "=",
          new Expr.Value(literals.storableFor(table, table.key()), literals.chance(50)));
    }
    return where(scope, table);
  }
}
