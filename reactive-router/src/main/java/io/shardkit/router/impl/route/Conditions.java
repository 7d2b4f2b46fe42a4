package io.shardkit.router.impl.route;

import io.shardkit.router.impl.parse.AstScan;
import io.shardkit.router.impl.parse.ValueRef;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import net.sf.jsqlparser.expression.DoubleValue;
import net.sf.jsqlparser.expression.Expression;
import net.sf.jsqlparser.expression.JdbcParameter;
import net.sf.jsqlparser.expression.LongValue;
import net.sf.jsqlparser.expression.SignedExpression;
import net.sf.jsqlparser.expression.StringValue;
import net.sf.jsqlparser.expression.operators.conditional.AndExpression;
import net.sf.jsqlparser.expression.operators.conditional.OrExpression;
import net.sf.jsqlparser.expression.operators.relational.Between;
import net.sf.jsqlparser.expression.operators.relational.ComparisonOperator;
import net.sf.jsqlparser.expression.operators.relational.EqualsTo;
import net.sf.jsqlparser.expression.operators.relational.ExpressionList;
import net.sf.jsqlparser.expression.operators.relational.GreaterThan;
import net.sf.jsqlparser.expression.operators.relational.GreaterThanEquals;
import net.sf.jsqlparser.expression.operators.relational.InExpression;
import net.sf.jsqlparser.expression.operators.relational.MinorThan;
import net.sf.jsqlparser.expression.operators.relational.MinorThanEquals;
import net.sf.jsqlparser.expression.operators.relational.ParenthesedExpressionList;
import net.sf.jsqlparser.schema.Column;

/**
 * Turns a WHERE (or inner-join ON) expression into a {@link Cond} tree over sharding columns, and
 * registers IN lists whose items are plain values as prunable slots (their list is replaced by a
 * marker the template renders per unit).
 */
final class Conditions {

  /** Resolves a column to the (table, group) it shards, or null if it shards nothing. */
  interface ColumnResolver {
    /** Returns [lower-case logical table, group id] pairs for a column reference. */
    List<Object[]> resolve(Column column);
  }

  private final ColumnResolver resolver;
  private final List<List<ValueRef>> inItems;
  private final List<Cond.Leaf> inLeaves;

  Conditions(ColumnResolver resolver, List<List<ValueRef>> inItems, List<Cond.Leaf> inLeaves) {
    this.resolver = resolver;
    this.inItems = inItems;
    this.inLeaves = inLeaves;
  }

  Cond extract(Expression e) {
    if (e == null) {
      return Cond.ANY;
    }
    if (e instanceof AndExpression and) {
      return and(List.of(extract(and.getLeftExpression()), extract(and.getRightExpression())));
    }
    if (e instanceof OrExpression or) {
      Cond left = extract(or.getLeftExpression());
      Cond right = extract(or.getRightExpression());
      if (left instanceof Cond.Any || right instanceof Cond.Any) {
        return Cond.ANY;
      }
      return new Cond.Or(List.of(left, right));
    }
    if (e instanceof ParenthesedExpressionList<?> p && p.size() == 1) {
      return extract(p.get(0));
    }
    if (e instanceof EqualsTo eq) {
      return comparison(eq, "=");
    }
    if (e instanceof GreaterThan gt) {
      return comparison(gt, ">");
    }
    if (e instanceof GreaterThanEquals ge) {
      return comparison(ge, ">=");
    }
    if (e instanceof MinorThan lt) {
      return comparison(lt, "<");
    }
    if (e instanceof MinorThanEquals le) {
      return comparison(le, "<=");
    }
    if (e instanceof Between between
        && !between.isNot()
        && between.getLeftExpression() instanceof Column c) {
      ValueRef lower = value(between.getBetweenExpressionStart());
      ValueRef upper = value(between.getBetweenExpressionEnd());
      if (lower == null || upper == null) {
        return Cond.ANY;
      }
      return leaves(
          c,
          t ->
              new Cond.Leaf(
                  (int) t[1],
                  (String) t[0],
                  name(c),
                  List.of(),
                  lower,
                  true,
                  upper,
                  true,
                  -1,
                  true));
    }
    if (e instanceof InExpression in
        && !in.isNot()
        && in.getLeftExpression() instanceof Column c
        && in.getRightExpression() instanceof ExpressionList<?> list
        && !(in.getRightExpression() instanceof net.sf.jsqlparser.statement.select.Select)) {
      List<ValueRef> values = new ArrayList<>();
      for (Expression item : list) {
        ValueRef v = value(item);
        if (v == null) {
          return Cond.ANY;
        }
        values.add(v);
      }
      List<Object[]> targets = resolver.resolve(c);
      if (targets.isEmpty() || values.isEmpty()) {
        return Cond.ANY;
      }
      int slot = -1;
      if (values.size() > 1 && targets.size() == 1) {
        slot = inItems.size();
        inItems.add(List.copyOf(values));
        @SuppressWarnings("unchecked")
        ExpressionList<Expression> marker = (ExpressionList<Expression>) list;
        marker.clear();
        marker.add(new Column("__sk_in" + slot + "__"));
      }
      List<Cond> out = new ArrayList<>();
      for (Object[] t : targets) {
        Cond.Leaf leaf =
            new Cond.Leaf(
                (int) t[1],
                (String) t[0],
                name(c),
                List.copyOf(values),
                null,
                false,
                null,
                false,
                slot);
        if (slot >= 0) {
          inLeaves.add(leaf);
        }
        out.add(leaf);
      }
      return out.size() == 1 ? out.get(0) : and(out);
    }
    return Cond.ANY;
  }

  private Cond comparison(ComparisonOperator op, String symbol) {
    Expression left = op.getLeftExpression();
    Expression right = op.getRightExpression();
    String effective = symbol;
    if (!(left instanceof Column) && right instanceof Column) {
      Expression tmp = left;
      left = right;
      right = tmp;
      effective =
          switch (symbol) {
            case ">" -> "<";
            case ">=" -> "<=";
            case "<" -> ">";
            case "<=" -> ">=";
            default -> symbol;
          };
    }
    if (!(left instanceof Column c)) {
      return Cond.ANY;
    }
    ValueRef v = value(right);
    if (v == null) {
      return Cond.ANY;
    }
    String s = effective;
    return leaves(
        c,
        t ->
            switch (s) {
              case "=" ->
                  new Cond.Leaf(
                      (int) t[1], (String) t[0], name(c), List.of(v), null, false, null, false, -1);
              case ">" ->
                  new Cond.Leaf(
                      (int) t[1], (String) t[0], name(c), List.of(), v, false, null, false, -1);
              case ">=" ->
                  new Cond.Leaf(
                      (int) t[1], (String) t[0], name(c), List.of(), v, true, null, false, -1);
              case "<" ->
                  new Cond.Leaf(
                      (int) t[1], (String) t[0], name(c), List.of(), null, false, v, false, -1);
              default ->
                  new Cond.Leaf(
                      (int) t[1], (String) t[0], name(c), List.of(), null, false, v, true, -1);
            });
  }

  private Cond leaves(Column c, Function<Object[], Cond.Leaf> make) {
    List<Object[]> targets = resolver.resolve(c);
    if (targets.isEmpty()) {
      return Cond.ANY;
    }
    List<Cond> out = new ArrayList<>();
    for (Object[] t : targets) {
      out.add(make.apply(t));
    }
    return out.size() == 1 ? out.get(0) : and(out);
  }

  static Cond and(List<Cond> children) {
    List<Cond> flat = new ArrayList<>();
    for (Cond c : children) {
      if (c instanceof Cond.And a) {
        flat.addAll(a.children());
      } else if (!(c instanceof Cond.Any)) {
        flat.add(c);
      }
    }
    if (flat.isEmpty()) {
      return Cond.ANY;
    }
    return flat.size() == 1 ? flat.get(0) : new Cond.And(List.copyOf(flat));
  }

  static String name(Column c) {
    return AstScan.unquote(c.getColumnName()).toLowerCase(Locale.ROOT);
  }

  /** A plain value (literal or parameter) or null when the expression is anything else. */
  static ValueRef value(Expression e) {
    if (e instanceof JdbcParameter p) {
      return ValueRef.param(p.getIndex() - 1);
    }
    if (e instanceof LongValue l) {
      return ValueRef.literal(ValueRef.integer(l.getStringValue()), l.toString());
    }
    if (e instanceof StringValue s && (s.getPrefix() == null || s.getPrefix().isEmpty())) {
      return ValueRef.literal(s.getNotExcapedValue(), s.toString());
    }
    if (e instanceof DoubleValue d) {
      return ValueRef.literal(new BigDecimal(d.toString()), d.toString());
    }
    if (e instanceof SignedExpression s
        && s.getSign() == '-'
        && s.getExpression() instanceof LongValue l) {
      return ValueRef.literal(ValueRef.integer("-" + l.getStringValue()), s.toString());
    }
    if (e instanceof SignedExpression s
        && s.getSign() == '-'
        && s.getExpression() instanceof DoubleValue d) {
      // -1.5 and -2.5e0 are literals too (an INSERT of a negative decimal key was refused as "not
      // a literal", a condition on one read every node)
      return ValueRef.literal(new BigDecimal(d.toString()).negate(), s.toString());
    }
    return null;
  }
}
