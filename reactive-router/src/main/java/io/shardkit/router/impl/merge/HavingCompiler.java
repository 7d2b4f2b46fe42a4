package io.shardkit.router.impl.merge;

import io.shardkit.router.impl.merge.MergeSpec.Aggregate;
import io.shardkit.router.impl.merge.MergeSpec.ColumnRef;
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
      Having compare =
          new Having.Compare(
              c.getStringExpression().trim(),
              compile(c.getLeftExpression()),
              compile(c.getRightExpression()));
      return compare;
    }
    if (e instanceof net.sf.jsqlparser.expression.operators.relational.IsNullExpression isNull) {
      return new Having.IsNull(compile(isNull.getLeftExpression()), isNull.isNot());
    }
    if (e instanceof net.sf.jsqlparser.expression.operators.relational.Between b) {
      Having left = compile(b.getLeftExpression());
      Having range =
          new Having.Logic(
              true,
              new Having.Compare(">=", left, compile(b.getBetweenExpressionStart())),
              new Having.Compare("<=", left, compile(b.getBetweenExpressionEnd())));
      return b.isNot() ? new Having.Not(range) : range;
    }
    if (e instanceof net.sf.jsqlparser.expression.operators.relational.InExpression in
        && in.getRightExpression() instanceof ExpressionList<?> list
        && !(in.getRightExpression() instanceof net.sf.jsqlparser.statement.select.Select)) {
      List<Having> values = new ArrayList<>();
      for (Expression item : list) {
        values.add(compile(item));
      }
      return new Having.In(compile(in.getLeftExpression()), values, in.isNot());
    }
    if (e instanceof net.sf.jsqlparser.expression.operators.arithmetic.Addition
        || e instanceof net.sf.jsqlparser.expression.operators.arithmetic.Subtraction
        || e instanceof net.sf.jsqlparser.expression.operators.arithmetic.Multiplication
        || e instanceof net.sf.jsqlparser.expression.operators.arithmetic.Division) {
      net.sf.jsqlparser.expression.BinaryExpression bin =
          (net.sf.jsqlparser.expression.BinaryExpression) e;
      char op = bin.getStringExpression().trim().charAt(0);
      return new Having.Arithmetic(
          op, compile(bin.getLeftExpression()), compile(bin.getRightExpression()));
    }
    if (e instanceof LongValue l) {
      return new Having.Literal(io.shardkit.router.impl.route.ValueRef.integer(l.getStringValue()));
    }
    if (e instanceof net.sf.jsqlparser.expression.DoubleValue d) {
      return new Having.Literal(new java.math.BigDecimal(d.toString()));
    }
    if (e instanceof net.sf.jsqlparser.expression.StringValue str) {
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
        return new Having.Ref(found);
      }
      ColumnRef ref = planner.addDerived(e, "h");
      aggregates.add(planner.aggregate(f, ref, distinctArgs));
      return new Having.Ref(ref);
    }
    if (e instanceof Column) {
      return new Having.Ref(planner.resolve(e, "h"));
    }
    throw new MergePlanner.Refusal("HAVING with " + e + " is not supported across data nodes");
  }
}
