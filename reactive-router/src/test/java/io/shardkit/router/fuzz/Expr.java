package io.shardkit.router.fuzz;

import java.util.Locale;

/** A generated SQL expression: it renders itself and says how its result values compare. */
sealed interface Expr {

  void render(SqlWriter w);

  /**
   * How a result column holding this expression compares; {@code grouping} when the query picks one
   * representative of equal values (GROUP BY, DISTINCT, UNION).
   */
  ValueCompare compare(boolean grouping);

  boolean isAggregate();

  /** {@code qualifier.column}, or the bare column when the qualifier is null. */
  record Col(String qualifier, FuzzColumn column) implements Expr {
    @Override
    public void render(SqlWriter w) {
      w.append(qualifier == null ? "" : qualifier + ".").append(column.name());
    }

    @Override
    public ValueCompare compare(boolean grouping) {
      if (column.type().kind() == ColumnType.Kind.BIT) {
        // seed 113: SELECT DISTINCT bit64_column ... comes back as BIT (a Long) with a LIMIT and
        // as an unsigned BIGINT (a Numeric) without one, depending on the server's plan
        return ValueCompare.BITS;
      }
      return grouping ? ValueCompare.collation(column.type().collation()) : ValueCompare.EXACT;
    }

    @Override
    public boolean isAggregate() {
      return false;
    }
  }

  /** A value: a literal, or a {@code ?} parameter in prepared statements. */
  record Value(Object value, boolean parameter) implements Expr {
    @Override
    public void render(SqlWriter w) {
      w.value(value, parameter);
    }

    @Override
    public ValueCompare compare(boolean grouping) {
      return ValueCompare.EXACT;
    }

    @Override
    public boolean isAggregate() {
      return false;
    }
  }

  /**
   * An aggregate. {@code fn} is COUNT, SUM, MIN, MAX, AVG, STDDEV, VARIANCE or GROUP_CONCAT; a null
   * argument is {@code *}. GROUP_CONCAT may have a separator and an ORDER BY of its argument.
   */
  record Aggregate(
      String fn, boolean distinct, Expr argument, String separator, Boolean concatDescending)
      implements Expr {
    @Override
    public void render(SqlWriter w) {
      w.append(fn).append("(");
      if (distinct) {
        w.append("DISTINCT ");
      }
      if (argument == null) {
        w.append("*");
      } else {
        argument.render(w);
      }
      if (concatDescending != null) {
        w.append(" ORDER BY ");
        argument.render(w);
        w.append(concatDescending ? " DESC" : " ASC");
      }
      if (separator != null) {
        w.append(" SEPARATOR ").append(SqlText.quote(separator));
      }
      w.append(")");
    }

    @Override
    public ValueCompare compare(boolean grouping) {
      String collation = collationOf(argument);
      boolean floating = argument instanceof Col c && c.column().type().isFloating();
      return switch (fn) {
        case "MIN", "MAX" ->
            argument instanceof Col c && c.column().type().kind() == ColumnType.Kind.BIT
                ? ValueCompare.BITS
                : ValueCompare.collation(collation);
        case "GROUP_CONCAT" ->
            ValueCompare.concat(
                collation, separator == null ? "," : separator, concatDescending != null);
        case "STDDEV", "VARIANCE", "STDDEV_SAMP", "VAR_SAMP", "STD", "STDDEV_POP", "VAR_POP" ->
            argument instanceof Col c && c.column().type().shownVarianceScale() >= 0
                ? ValueCompare.approxShown(c.column().type().shownVarianceScale())
                : ValueCompare.APPROX;
        case "SUM", "AVG" ->
            floating || isTextual(argument)
                ? ValueCompare.APPROX
                : hasDivision(argument) ? ValueCompare.DIVISION : ValueCompare.EXACT;
        default -> ValueCompare.EXACT;
      };
    }

    private static boolean hasDivision(Expr e) {
      return e instanceof Arithmetic a
          && (a.op().equals("/") || hasDivision(a.left()) || hasDivision(a.right()));
    }

    private static boolean isTextual(Expr e) {
      return e instanceof Col c && !c.column().type().isNumeric()
          || e instanceof Scalar sc && sc.text();
    }

    @Override
    public boolean isAggregate() {
      return true;
    }
  }

  /** {@code COUNT(DISTINCT a, b, ...)}. */
  record CountDistinct(java.util.List<Expr> args) implements Expr {
    @Override
    public void render(SqlWriter w) {
      w.append("COUNT(DISTINCT ");
      for (int i = 0; i < args.size(); i++) {
        w.append(i == 0 ? "" : ", ");
        args.get(i).render(w);
      }
      w.append(")");
    }

    @Override
    public ValueCompare compare(boolean grouping) {
      return ValueCompare.EXACT;
    }

    @Override
    public boolean isAggregate() {
      return true;
    }
  }

  /** {@code left op right} for +, -, *, /. */
  record Arithmetic(String op, Expr left, Expr right) implements Expr {
    @Override
    public void render(SqlWriter w) {
      w.append("(");
      left.render(w);
      w.append(" ").append(op).append(" ");
      right.render(w);
      w.append(")");
    }

    @Override
    public ValueCompare compare(boolean grouping) {
      ValueCompare l = left.compare(grouping);
      ValueCompare r = right.compare(grouping);
      if (l.mode() == ValueCompare.Mode.APPROX || r.mode() == ValueCompare.Mode.APPROX) {
        return ValueCompare.APPROX;
      }
      return l.mode() == ValueCompare.Mode.DIVISION || r.mode() == ValueCompare.Mode.DIVISION
          ? ValueCompare.DIVISION
          : ValueCompare.EXACT;
    }

    @Override
    public boolean isAggregate() {
      return left.isAggregate() || right.isAggregate();
    }
  }

  /**
   * A scalar function of its arguments ({@code ROUND(AVG(x), 2)}, {@code CONCAT('n=', COUNT(*))}):
   * approximate when an argument is, else exact.
   */
  record Call(String fn, java.util.List<Expr> args) implements Expr {
    @Override
    public void render(SqlWriter w) {
      w.append(fn).append("(");
      for (int i = 0; i < args.size(); i++) {
        w.append(i == 0 ? "" : ", ");
        args.get(i).render(w);
      }
      w.append(")");
    }

    @Override
    public ValueCompare compare(boolean grouping) {
      for (Expr a : args) {
        if (a.compare(grouping).mode() == ValueCompare.Mode.APPROX) {
          return ValueCompare.APPROX;
        }
      }
      return ValueCompare.EXACT;
    }

    @Override
    public boolean isAggregate() {
      return args.stream().anyMatch(Expr::isAggregate);
    }
  }

  /**
   * A scalar function of one column ({@code UPPER(c1)}, {@code COALESCE(c1, 'zz')}, {@code MOD(c3,
   * 7)}, {@code CHAR_LENGTH(c1)}) and literal arguments after it. {@code text}: the result is a
   * string in the column's collation (so a query that picks representatives compares it by that
   * collation), else a number compared exactly.
   */
  record Scalar(String fn, Expr argument, java.util.List<Expr> rest, boolean text) implements Expr {
    @Override
    public void render(SqlWriter w) {
      w.append(fn).append("(");
      argument.render(w);
      for (Expr e : rest) {
        w.append(", ");
        e.render(w);
      }
      w.append(")");
    }

    @Override
    public ValueCompare compare(boolean grouping) {
      return text && grouping ? ValueCompare.collation(collationOf(argument)) : ValueCompare.EXACT;
    }

    @Override
    public boolean isAggregate() {
      return argument.isAggregate();
    }
  }

  /** {@code IF(condition, a, b)} over a column's condition with two literal results of one kind. */
  record If(Pred condition, Expr then, Expr otherwise) implements Expr {
    @Override
    public void render(SqlWriter w) {
      w.append("IF(");
      condition.render(w);
      w.append(", ");
      then.render(w);
      w.append(", ");
      otherwise.render(w);
      w.append(")");
    }

    @Override
    public ValueCompare compare(boolean grouping) {
      // string literals are in the connection's collation, utf8mb4_general_ci ('Zürich' =
      // 'zurich': equal results tie in ORDER BY and are one in DISTINCT)
      return grouping && then instanceof Value v && v.value() instanceof String
          ? ValueCompare.collation("utf8mb4_general_ci")
          : ValueCompare.EXACT;
    }

    @Override
    public boolean isAggregate() {
      return false;
    }
  }

  /**
   * A window function over all rows or per key ({@code COUNT(*) OVER ()}, {@code MAX(c) OVER
   * (PARTITION BY k)}): deterministic whatever the row order; across data nodes the router must
   * refuse it (each node would see its own rows only).
   */
  record Window(String fn, Expr argument, Expr partition) implements Expr {
    @Override
    public void render(SqlWriter w) {
      w.append(fn).append("(");
      if (argument == null) {
        w.append("*");
      } else {
        argument.render(w);
      }
      w.append(") OVER (");
      if (partition != null) {
        w.append("PARTITION BY ");
        partition.render(w);
      }
      w.append(")");
    }

    @Override
    public ValueCompare compare(boolean grouping) {
      boolean floating =
          argument instanceof Col c
              && (c.column().type().isFloating() || !c.column().type().isNumeric());
      return fn.equals("SUM") || fn.equals("AVG")
          ? floating ? ValueCompare.APPROX : ValueCompare.EXACT
          : (fn.equals("MIN") || fn.equals("MAX")) && argument instanceof Col c
              ? c.column().type().kind() == ColumnType.Kind.BIT
                  ? ValueCompare.BITS
                  // like the aggregate: of collation-equal values ('emile', 'émile') the engine
                  // shows the one its scan order met first, grouped or not
                  : ValueCompare.collation(c.column().type().collation())
              : ValueCompare.EXACT;
    }

    @Override
    public boolean isAggregate() {
      return false;
    }
  }

  /** Whether a scalar function of a column is part of the expression. */
  static boolean hasScalar(Expr e) {
    if (e instanceof Scalar) {
      return true;
    }
    if (e instanceof Aggregate a) {
      return a.argument() != null && hasScalar(a.argument());
    }
    if (e instanceof Arithmetic a) {
      return hasScalar(a.left()) || hasScalar(a.right());
    }
    if (e instanceof Call c) {
      return c.args().stream().anyMatch(Expr::hasScalar);
    }
    if (e instanceof Collated c) {
      return hasScalar(c.inner());
    }
    return e instanceof Ref r && hasScalar(r.of());
  }

  /** The collation of a string expression's values, null when binary or not a string. */
  static String collationOf(Expr e) {
    if (e instanceof Col c) {
      return c.column().type().collation();
    }
    return e instanceof Scalar s && s.text() ? collationOf(s.argument()) : null;
  }

  /** {@code inner COLLATE collation}, or {@code BINARY inner} when the collation is null. */
  record Collated(Expr inner, String collation) implements Expr {
    @Override
    public void render(SqlWriter w) {
      if (collation == null) {
        w.append("BINARY ");
        inner.render(w);
      } else {
        inner.render(w);
        w.append(" COLLATE ").append(collation.toLowerCase(Locale.ROOT));
      }
    }

    @Override
    public ValueCompare compare(boolean grouping) {
      return grouping ? ValueCompare.collation(collation) : ValueCompare.EXACT;
    }

    @Override
    public boolean isAggregate() {
      return inner.isAggregate();
    }
  }

  /** A select item referred to by its alias (in HAVING). */
  record Ref(String alias, Expr of) implements Expr {
    @Override
    public void render(SqlWriter w) {
      w.append(alias);
    }

    @Override
    public ValueCompare compare(boolean grouping) {
      return of.compare(grouping);
    }

    @Override
    public boolean isAggregate() {
      return of.isAggregate();
    }
  }
}
