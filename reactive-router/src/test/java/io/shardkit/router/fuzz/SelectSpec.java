package io.shardkit.router.fuzz;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A generated SELECT as a tree the shrinker can take apart: FROM (one table, or a join), select
 * items (or {@code *}), WHERE, GROUP BY, HAVING, ORDER BY, LIMIT, and optionally a second branch
 * joined with UNION [ALL] (then ORDER BY and LIMIT apply to the union and refer to positions).
 */
record SelectSpec(
    From from,
    boolean star,
    boolean distinct,
    List<Item> items,
    Pred where,
    List<Expr> groupBy,
    Pred having,
    List<Order> orderBy,
    Limit limit,
    SelectSpec union,
    boolean unionAll) {

  /**
   * FROM {@code table alias} [JOIN {@code joined alias} ON alias.k = joinAlias.k], or, when {@code
   * derived} is set, FROM ({@code derived}) alias: a derived table selecting {@code table}'s
   * columns.
   */
  record From(
      FuzzTable table,
      String alias,
      FuzzTable joined,
      String joinAlias,
      String joinType,
      SelectSpec derived) {

    From(FuzzTable table, String alias, FuzzTable joined, String joinAlias, String joinType) {
      this(table, alias, joined, joinAlias, joinType, null);
    }

    void render(SqlWriter w) {
      w.append(" FROM ");
      if (derived != null) {
        w.append("(");
        derived.render(w);
        w.append(")");
      } else {
        w.append(table.name());
      }
      if (alias != null) {
        w.append(" ").append(alias);
      }
      if (derived == null && w.ignoreIndexes()) {
        w.append(" IGNORE INDEX (k)");
      }
      if (joined != null) {
        w.append(" ").append(joinType).append(" ").append(joined.name()).append(" ");
        w.append(joinAlias);
        if (w.ignoreIndexes()) {
          w.append(" IGNORE INDEX (k)");
        }
        w.append(" ON ").append(alias).append(".k = ");
        w.append(joinAlias).append(".k");
      }
    }
  }

  /** A select item with an optional alias. */
  record Item(Expr expr, String alias) {}

  /**
   * An ORDER BY item: a select item (by alias, position or its expression, optionally with COLLATE
   * or BINARY), or, when {@code item} is negative, an expression that is not selected.
   */
  record Order(int item, Expr expression, Style style, String collate, boolean descending) {
    enum Style {
      ALIAS,
      POSITION,
      EXPRESSION
    }
  }

  /**
   * LIMIT [offset,] count, with {@code OFFSET} syntax when {@code offsetKeyword}; the values may be
   * parameters.
   */
  record Limit(Object offset, Object count, boolean offsetKeyword, boolean parameters) {}

  /** A sort key of the result: a column index and how its values tie. */
  record SortKey(int column, ValueCompare compare, boolean descending) {}

  String sql(boolean prepared) {
    SqlWriter w = new SqlWriter(prepared);
    render(w);
    return w.sql();
  }

  void render(SqlWriter w) {
    renderBlocks(w);
    renderOrderAndLimit(w);
  }

  /** This block and the branches chained after it (UNION [ALL] of two or more branches). */
  private void renderBlocks(SqlWriter w) {
    renderBlock(w);
    if (union != null) {
      w.append(unionAll ? " UNION ALL " : " UNION ");
      union.renderBlocks(w);
    }
  }

  private void renderBlock(SqlWriter w) {
    w.append("SELECT ");
    if (distinct) {
      w.append("DISTINCT ");
    }
    if (star) {
      w.append(from.joined() == null ? "*" : from.alias() + ".*");
    } else {
      for (int i = 0; i < items.size(); i++) {
        if (i > 0) {
          w.append(", ");
        }
        items.get(i).expr().render(w);
        if (items.get(i).alias() != null) {
          w.append(" AS ").append(items.get(i).alias());
        }
      }
    }
    from.render(w);
    if (where != null) {
      w.append(" WHERE ");
      where.render(w);
    }
    for (int i = 0; i < groupBy.size(); i++) {
      w.append(i == 0 ? " GROUP BY " : ", ");
      groupBy.get(i).render(w);
    }
    if (having != null) {
      w.append(" HAVING ");
      having.render(w);
    }
  }

  private void renderOrderAndLimit(SqlWriter w) {
    for (int i = 0; i < orderBy.size(); i++) {
      w.append(i == 0 ? " ORDER BY " : ", ");
      Order o = orderBy.get(i);
      Expr e = o.item() >= 0 ? items.get(o.item()).expr() : o.expression();
      if (o.collate() != null) {
        new Expr.Collated(e, o.collate().equals("BINARY") ? null : o.collate()).render(w);
      } else if (o.style() == Order.Style.POSITION) {
        w.append(String.valueOf(o.item() + 1));
      } else if (o.style() == Order.Style.ALIAS) {
        w.append(items.get(o.item()).alias());
      } else {
        e.render(w);
      }
      w.append(o.descending() ? " DESC" : " ASC");
    }
    if (limit != null) {
      w.append(" LIMIT ");
      if (limit.offset() != null && !limit.offsetKeyword()) {
        w.value(limit.offset(), limit.parameters()).append(", ");
      }
      w.value(limit.count(), limit.parameters());
      if (limit.offset() != null && limit.offsetKeyword()) {
        w.append(" OFFSET ").value(limit.offset(), limit.parameters());
      }
    }
  }

  /** Whether the result holds one representative of collation-equal values. */
  boolean grouping() {
    return distinct
        || !groupBy.isEmpty()
        || items.stream().anyMatch(i -> i.expr().isAggregate())
        || (union != null && (!unionAll || union.grouping()));
  }

  /** How each result column compares. */
  List<ValueCompare> columnCompares() {
    boolean grouping = grouping();
    List<ValueCompare> out = new ArrayList<>();
    for (int i = 0; i < items.size(); i++) {
      out.add(unionCompare(i, grouping));
    }
    return out;
  }

  /**
   * The result's sort keys, or empty when the query is unordered or one ORDER BY item is not a
   * result column (then the order is not checked).
   */
  Optional<List<SortKey>> sortKeys() {
    if (orderBy.isEmpty()) {
      return Optional.empty();
    }
    List<SortKey> keys = new ArrayList<>();
    for (Order o : orderBy) {
      if (o.item() < 0 || representativeDecidesOrder(o) || aliasShadows(o)) {
        return Optional.empty();
      }
      ValueCompare compare = sortCompare(o);
      if (compare.mode() == ValueCompare.Mode.CONCAT && !compare.concatOrdered()) {
        return Optional.empty(); // GROUP_CONCAT's element order, and so its value, is unspecified
      }
      keys.add(new SortKey(o.item(), compare, o.descending()));
    }
    return Optional.of(keys);
  }

  /**
   * A grouping query ordered by a case-insensitive group key under another collation (COLLATE,
   * BINARY): the order follows which representative of each group an engine shows.
   */
  private boolean representativeDecidesOrder(Order o) {
    return grouping()
        && o.collate() != null
        && items.get(o.item()).expr().compare(true).mode() == ValueCompare.Mode.COLLATION;
  }

  /**
   * An ORDER BY column written by name that another item's alias shadows: the server orders by that
   * alias, not by the item the generator meant.
   */
  private boolean aliasShadows(Order o) {
    if (o.style() == Order.Style.POSITION && o.collate() == null
        || !(items.get(o.item()).expr() instanceof Expr.Col c)) {
      return false;
    }
    for (int i = 0; i < items.size(); i++) {
      if (i != o.item() && c.column().name().equals(items.get(i).alias())) {
        return true;
      }
    }
    return false;
  }

  private ValueCompare sortCompare(Order o) {
    if ("BINARY".equals(o.collate())) {
      return ValueCompare.EXACT;
    }
    if (o.collate() != null) {
      return ValueCompare.collation(o.collate());
    }
    return unionCompare(o.item(), true);
  }

  /**
   * How column {@code i} compares, over every branch of a union (seed 118: a TIME column in the
   * first two branches and a {@code latin1_swedish_ci} VARCHAR in the third, where the union's
   * column is that VARCHAR's collation, so 'Åsa' and 'åsa' tie; only the first two branches were
   * looked at, which compared exactly). A column of strings under several collations takes the one
   * the server aggregates (measured on MariaDB 11.4.5 with {@code COLLATION()} over a derived
   * union): numbers, dates and times give way to any string, a binary string wins over every
   * collation, a utf8mb4 collation over a latin1 one, and within one character set a {@code _bin}
   * collation over a case-insensitive one (two others are an "illegal mix" the server rejects).
   */
  private ValueCompare unionCompare(int i, boolean grouping) {
    ValueCompare first = items.get(i).expr().compare(grouping);
    if (union == null) {
      return first;
    }
    List<ValueCompare> compares = new ArrayList<>();
    List<String> collations = new ArrayList<>();
    boolean binary = false;
    for (SelectSpec b = this; b != null; b = b.union) {
      Expr e = b.items.get(i).expr();
      ValueCompare c = e.compare(grouping);
      compares.add(c);
      if (e instanceof Expr.Col col && col.column().type().kind() == ColumnType.Kind.BINARY) {
        binary = true;
      }
      if (e instanceof Expr.Col col && col.column().type().kind() == ColumnType.Kind.JSON) {
        collations.add("utf8mb4_bin");
      } else if (c.mode() == ValueCompare.Mode.COLLATION) {
        collations.add(c.collation());
      }
    }
    ValueCompare nonExact =
        compares.stream().filter(c -> c.mode() != ValueCompare.Mode.EXACT).findFirst().orElse(null);
    if (nonExact == null || nonExact.mode() != ValueCompare.Mode.COLLATION) {
      return nonExact == null ? first : nonExact;
    }
    if (binary) {
      return ValueCompare.EXACT;
    }
    List<String> strongest = collations;
    if (strongest.stream().anyMatch(c -> c.startsWith("utf8mb4"))) {
      strongest = strongest.stream().filter(c -> c.startsWith("utf8mb4")).toList();
    }
    List<String> bins = strongest.stream().filter(c -> c.endsWith("_bin")).distinct().toList();
    return ValueCompare.collation(bins.size() == 1 ? bins.get(0) : strongest.get(0));
  }

  SelectSpec withWhere(Pred p) {
    return new SelectSpec(
        from, star, distinct, items, p, groupBy, having, orderBy, limit, union, unionAll);
  }

  SelectSpec withHaving(Pred p) {
    return new SelectSpec(
        from, star, distinct, items, where, groupBy, p, orderBy, limit, union, unionAll);
  }

  SelectSpec withOrderBy(List<Order> o) {
    return new SelectSpec(
        from, star, distinct, items, where, groupBy, having, o, limit, union, unionAll);
  }

  SelectSpec withLimit(Limit l) {
    return new SelectSpec(
        from, star, distinct, items, where, groupBy, having, orderBy, l, union, unionAll);
  }

  SelectSpec withDistinct(boolean d) {
    return new SelectSpec(
        from, star, d, items, where, groupBy, having, orderBy, limit, union, unionAll);
  }

  SelectSpec withUnion(SelectSpec u, boolean all) {
    return new SelectSpec(
        from, star, distinct, items, where, groupBy, having, orderBy, limit, u, all);
  }

  SelectSpec withItemsAndGroups(List<Item> i, List<Expr> g, List<Order> o) {
    return new SelectSpec(from, star, distinct, i, where, g, having, o, limit, union, unionAll);
  }
}
