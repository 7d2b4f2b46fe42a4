package io.shardkit.router.impl.analyse;

import io.shardkit.router.impl.analyse.MergeSpec.Aggregate;
import io.shardkit.router.impl.analyse.MergeSpec.ColumnRef;
import java.util.ArrayList;
import java.util.List;
import net.sf.jsqlparser.expression.AnalyticExpression;
import net.sf.jsqlparser.expression.Expression;
import net.sf.jsqlparser.expression.Function;
import net.sf.jsqlparser.expression.LongValue;
import net.sf.jsqlparser.expression.operators.relational.ExpressionList;
import net.sf.jsqlparser.schema.Column;

/**
 * Compiles a HAVING clause into a {@link Having} evaluated on merged groups. Aggregates it uses
 * come from the select list or are added to the units' queries as derived columns by the {@link
 * MergePlanner}; anything else than the supported operators is refused.
 */
final class HavingCompiler {

  private final MergePlanner planner;
  private final List<Aggregate> aggregates;
  private final List<Expression> distinctArgs;

  HavingCompiler(MergePlanner planner, List<Aggregate> aggregates, List<Expression> distinctArgs) {
    this.planner = planner;
    this.aggregates = aggregates;
    this.distinctArgs = distinctArgs;
  }

  private final java.util.Map<Having, Expression> sources = new java.util.IdentityHashMap<>();

  private Having ref(ColumnRef ref, Expression source) {
    Having.Ref node = new Having.Ref(ref, planner.havingKey(ref, source));
    sources.put(node, source);
    return node;
  }

  /**
   * A string literal or parameter compared with a column or aggregate that may be a string carries
   * its sort key in that operand's collation (a derived {@code WEIGHT_STRING(CONCAT( LEFT(operand,
   * 0), value))}), so the merge compares the two as the server would.
   */
  private Having collated(Having value, Having other, Expression valueExpression) {
    Expression source = sources.get(other);
    if (source == null
        || !(other instanceof Having.Ref r)
        || r.key() == null
        || r.key().weight() == null) {
      return value;
    }
    if (value instanceof Having.Literal l && l.value() instanceof String) {
      return new Having.Literal(l.value(), planner.weightIn(source, valueExpression));
    }
    if (value instanceof Having.Param p) {
      return new Having.Param(p.index(), planner.weightIn(source, valueExpression));
    }
    return value;
  }

  /**
   * MIN/MAX of an ENUM or SET compared with a number or a parameter is refused: measured on
   * MariaDB, the server compares it by position or as text depending on the plan, which the merge
   * cannot reproduce. In IN/BETWEEN, anything but a string literal is refused.
   */
  /**
   * A YEAR compared with a value that may be a two-digit year: the server reads 1..69 as 2001..2069
   * and 70..99 as 1970..1999 when it compares them with a YEAR ({@code HAVING y >= 24} is {@code y
   * >= 2024}), which the merge does not reproduce. A number of three or more digits compares as
   * written.
   */
  private void refuseTwoDigitYear(Expression year, Expression value) {
    if (!planner.isYear(year)) {
      return;
    }
    Expression v = value;
    if (v instanceof net.sf.jsqlparser.expression.SignedExpression signed) {
      v = signed.getExpression();
    }
    if (v instanceof LongValue n && n.getValue() >= 100 || v instanceof Column) {
      return;
    }
    throw new MergePlanner.Refusal(
        "HAVING compares the YEAR "
            + year
            + " with "
            + value
            + " across data nodes: the server reads a two-digit value as a year (70 is 1970, 24"
            + " is 2024); compare it with a four-digit year");
  }

  private void refuseOrdinalMinMax(Expression named, Expression value, boolean inList) {
    // through an alias too: HAVING a1 = 0 with MAX(set_column) AS a1
    Expression operand =
        named instanceof Column c && !planner.havingGroupColumn(c)
            ? planner.sourceOf(named)
            : named;
    if (!(operand instanceof Function f)
        || operand instanceof AnalyticExpression
        || !planner.isOrdinalMinMax(f)) {
      return;
    }
    boolean refused =
        inList
            ? !(value instanceof net.sf.jsqlparser.expression.StringValue)
            : value instanceof net.sf.jsqlparser.expression.JdbcParameter || isNumberLiteral(value);
    if (refused) {
      throw new MergePlanner.Refusal(
          "HAVING compares "
              + f
              + " of an ENUM or SET column with "
              + value
              + ": the server compares it by position or as text depending on its plan; compare"
              + " it with a string literal");
    }
  }

  private static boolean isNumberLiteral(Expression e) {
    if (e instanceof net.sf.jsqlparser.expression.SignedExpression signed) {
      return isNumberLiteral(signed.getExpression());
    }
    return e instanceof LongValue || e instanceof net.sf.jsqlparser.expression.DoubleValue;
  }

  /** The condition as an evaluable tree. */
  Having compile(Expression e) {
    if (e instanceof net.sf.jsqlparser.expression.operators.conditional.AndExpression and) {
      return new Having.Logic(
          true, compile(and.getLeftExpression()), compile(and.getRightExpression()));
    }
    if (e instanceof net.sf.jsqlparser.expression.operators.conditional.OrExpression or) {
      return new Having.Logic(
          false, compile(or.getLeftExpression()), compile(or.getRightExpression()));
    }
    if (e instanceof net.sf.jsqlparser.expression.NotExpression not) {
      return new Having.Not(compile(not.getExpression()));
    }
    if (e
            instanceof
            net.sf.jsqlparser.expression.operators.relational.ParenthesedExpressionList<?> p
        && p.size() == 1) {
      return compile(p.get(0));
    }
    if (e instanceof net.sf.jsqlparser.expression.operators.relational.ComparisonOperator c) {
      String op = c.getStringExpression().trim();
      if (!java.util.Set.of("=", "<=>", "<>", "!=", "<", "<=", ">", ">=").contains(op)) {
        throw new MergePlanner.Refusal("HAVING with " + op + " is not supported across data nodes");
      }
      refuseOrdinalMinMax(c.getLeftExpression(), c.getRightExpression(), false);
      refuseOrdinalMinMax(c.getRightExpression(), c.getLeftExpression(), false);
      refuseTwoDigitYear(c.getLeftExpression(), c.getRightExpression());
      refuseTwoDigitYear(c.getRightExpression(), c.getLeftExpression());
      Having left = compile(c.getLeftExpression());
      Having right = compile(c.getRightExpression());
      return new Having.Compare(
          c.getStringExpression().trim(),
          collated(left, right, c.getLeftExpression()),
          collated(right, left, c.getRightExpression()));
    }
    if (e instanceof net.sf.jsqlparser.expression.operators.relational.IsNullExpression isNull) {
      return new Having.IsNull(compile(isNull.getLeftExpression()), isNull.isNot());
    }
    if (e instanceof net.sf.jsqlparser.expression.operators.relational.Between b) {
      refuseOrdinalMinMax(b.getLeftExpression(), b.getBetweenExpressionStart(), true);
      refuseOrdinalMinMax(b.getLeftExpression(), b.getBetweenExpressionEnd(), true);
      refuseTwoDigitYear(b.getLeftExpression(), b.getBetweenExpressionStart());
      refuseTwoDigitYear(b.getLeftExpression(), b.getBetweenExpressionEnd());
      Having left = compile(b.getLeftExpression());
      Having low =
          collated(compile(b.getBetweenExpressionStart()), left, b.getBetweenExpressionStart());
      Having high =
          collated(compile(b.getBetweenExpressionEnd()), left, b.getBetweenExpressionEnd());
      Having range =
          new Having.Logic(
              true, new Having.Compare(">=", left, low), new Having.Compare("<=", left, high));
      Having between = new Having.Between(left, low, high, range);
      return b.isNot() ? new Having.Not(between) : between;
    }
    if (e instanceof net.sf.jsqlparser.expression.operators.relational.InExpression in
        && in.getRightExpression() instanceof ExpressionList<?> list
        && !(in.getRightExpression() instanceof net.sf.jsqlparser.statement.select.Select)) {
      Having left = compile(in.getLeftExpression());
      List<Having> values = new ArrayList<>();
      for (Expression item : list) {
        refuseOrdinalMinMax(in.getLeftExpression(), item, true);
        refuseTwoDigitYear(in.getLeftExpression(), item);
        values.add(collated(compile(item), left, item));
      }
      return new Having.In(left, values, in.isNot());
    }
    if (e instanceof net.sf.jsqlparser.expression.operators.arithmetic.Addition
        || e instanceof net.sf.jsqlparser.expression.operators.arithmetic.Subtraction
        || e instanceof net.sf.jsqlparser.expression.operators.arithmetic.Multiplication
        || e instanceof net.sf.jsqlparser.expression.operators.arithmetic.Division) {
      net.sf.jsqlparser.expression.BinaryExpression bin =
          (net.sf.jsqlparser.expression.BinaryExpression) e;
      if (planner.usesBitAggregate(bin.getLeftExpression())
          || planner.usesBitAggregate(bin.getRightExpression())) {
        // BIGINT UNSIGNED arithmetic (1690 out of range, unsigned subtraction) is not reproduced
        throw new MergePlanner.Refusal(
            "HAVING with arithmetic on BIT_AND/BIT_OR/BIT_XOR ("
                + e
                + ") is not supported across"
                + " data nodes");
      }
      char op = bin.getStringExpression().trim().charAt(0);
      return new Having.Arithmetic(
          op, compile(bin.getLeftExpression()), compile(bin.getRightExpression()));
    }
    if (e instanceof LongValue l) {
      return new Having.Literal(io.shardkit.router.impl.parse.ValueRef.integer(l.getStringValue()));
    }
    if (e instanceof net.sf.jsqlparser.expression.DoubleValue d) {
      return new Having.Literal(new java.math.BigDecimal(d.toString()));
    }
    if (e instanceof net.sf.jsqlparser.expression.StringValue str) {
      String prefix = str.getPrefix();
      if (prefix != null && !prefix.isEmpty() && !prefix.equalsIgnoreCase("N")) {
        // b'101' is a number next to a number or BIT value and bytes next to a string, like
        // X'05'; _latin1'x' / _binary'x' compare in another character set: the merge would
        // compare the letters as written, so such literals are refused rather than guessed
        throw new MergePlanner.Refusal(
            "HAVING compares with "
                + e
                + ", a bit-value or character-set literal the router does not evaluate across"
                + " data nodes; write it as a number or a plain string");
      }
      return new Having.Literal(str.getNotExcapedValue());
    }
    if (e instanceof net.sf.jsqlparser.expression.NullValue) {
      return new Having.Literal(null);
    }
    if (e instanceof net.sf.jsqlparser.expression.JdbcParameter p) {
      return new Having.Param(p.getIndex() - 1);
    }
    if (e instanceof net.sf.jsqlparser.expression.SignedExpression signed
        && signed.getSign() == '-') {
      return new Having.Arithmetic('-', new Having.Literal(0L), compile(signed.getExpression()));
    }
    if (e instanceof Function f
        && MergePlanner.MERGEABLE.contains(MergePlanner.upper(f.getName()))
        && !(e instanceof AnalyticExpression)) {
      ColumnRef found = planner.findItem(e);
      if (found != null) {
        return ref(found, e);
      }
      ColumnRef ref = planner.addDerived(e, "h");
      aggregates.add(planner.aggregate(f, ref, distinctArgs));
      return ref(ref, e);
    }
    if (e instanceof Function f
        && !(e instanceof AnalyticExpression)
        && ScalarCompiler.wrapsAggregate(e)) {
      ColumnRef found = planner.findItem(e);
      if (found != null) {
        return ref(found, e);
      }
      ColumnRef ref = planner.addDerived(e, "h");
      new ScalarCompiler(planner, aggregates, distinctArgs).compile(f, ref);
      return ref(ref, e);
    }
    if (e instanceof Column column && planner.havingGroupColumn(column)) {
      return ref(planner.resolve(e, "g"), e);
    }
    if (e instanceof Column) {
      Expression source = planner.sourceOf(e);
      if (source == e && planner.findItem(e) == null && !planner.isGroupKey(e)) {
        throw new MergePlanner.Refusal(
            "HAVING refers to "
                + e
                + ", which is neither selected nor grouped (one database rejects it as an"
                + " unknown column)");
      }
      return ref(planner.resolve(e, "h"), source);
    }
    throw new MergePlanner.Refusal("HAVING with " + e + " is not supported across data nodes");
  }
}
