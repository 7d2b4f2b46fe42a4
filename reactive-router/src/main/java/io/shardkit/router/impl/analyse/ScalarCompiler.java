package io.shardkit.router.impl.analyse;

import io.shardkit.router.impl.analyse.MergeSpec.Aggregate;
import io.shardkit.router.impl.analyse.MergeSpec.AggregateKind;
import io.shardkit.router.impl.analyse.MergeSpec.ColumnRef;
import java.util.ArrayList;
import java.util.List;
import net.sf.jsqlparser.expression.AnalyticExpression;
import net.sf.jsqlparser.expression.BinaryExpression;
import net.sf.jsqlparser.expression.DoubleValue;
import net.sf.jsqlparser.expression.Expression;
import net.sf.jsqlparser.expression.ExpressionVisitorAdapter;
import net.sf.jsqlparser.expression.Function;
import net.sf.jsqlparser.expression.LongValue;
import net.sf.jsqlparser.expression.NullValue;
import net.sf.jsqlparser.expression.SignedExpression;
import net.sf.jsqlparser.expression.StringValue;
import net.sf.jsqlparser.expression.operators.arithmetic.Addition;
import net.sf.jsqlparser.expression.operators.arithmetic.Division;
import net.sf.jsqlparser.expression.operators.arithmetic.IntegerDivision;
import net.sf.jsqlparser.expression.operators.arithmetic.Modulo;
import net.sf.jsqlparser.expression.operators.arithmetic.Multiplication;
import net.sf.jsqlparser.expression.operators.arithmetic.Subtraction;
import net.sf.jsqlparser.expression.operators.relational.ParenthesedExpressionList;
import net.sf.jsqlparser.schema.Column;

/**
 * Turns an expression around aggregates ({@code SUM(a) / COUNT(*)}) into an {@link
 * AggregateKind#EXPRESSION} aggregate: each inner aggregate becomes a derived column merged as
 * usual, the outer expression a {@link Scalar} evaluated on the merged row. Group keys may appear
 * (one value per group); parameters and anything but the operators and {@link Scalar#FUNCTIONS} are
 * refused by name.
 */
final class ScalarCompiler {

  private final MergePlanner planner;
  private final List<Aggregate> aggregates;
  private final List<Expression> distinctArgs;

  ScalarCompiler(MergePlanner planner, List<Aggregate> aggregates, List<Expression> distinctArgs) {
    this.planner = planner;
    this.aggregates = aggregates;
    this.distinctArgs = distinctArgs;
  }

  /** Whether {@code e} has a mergeable aggregate somewhere inside (and is not one itself). */
  static boolean wrapsAggregate(Expression e) {
    if (isAggregate(e)) {
      return false;
    }
    boolean[] found = {false};
    e.accept(
        new ExpressionVisitorAdapter<Void>() {
          @Override
          public <S> Void visit(Function function, S context) {
            if (isAggregate(function)) {
              found[0] = true;
              return null;
            }
            return super.visit(function, context);
          }
        },
        null);
    return found[0];
  }

  static boolean isAggregate(Expression e) {
    return e instanceof Function f
        && !(e instanceof AnalyticExpression)
        && MergePlanner.MERGEABLE.contains(MergePlanner.upper(f.getName()));
  }

  /** Adds the aggregate that computes {@code e} into {@code target}. */
  void compile(Expression e, ColumnRef target) {
    Scalar scalar = scalar(e, e);
    aggregates.add(
        new Aggregate(
            AggregateKind.EXPRESSION, target, null, null, null, null, null, null, scalar));
  }

  private Scalar scalar(Expression e, Expression whole) {
    if (isAggregate(e)
        && MergePlanner.upper(((Function) e).getName()).equals("AVG")
        && ((Function) e).getParameters() != null
        && ((Function) e).getParameters().size() == 1) {
      // the server computes with AVG's quotient at its internal precision, not the shown one:
      // SUM / COUNT with the server's decimal division is that quotient
      Function avg = (Function) e;
      Function sum = new Function("SUM", avg.getParameters().get(0));
      Function count = new Function("COUNT", avg.getParameters().get(0));
      sum.setDistinct(avg.isDistinct());
      count.setDistinct(avg.isDistinct());
      return new Scalar.Binary("/", scalar(sum, whole), scalar(count, whole));
    }
    if (isAggregate(e)
        && MergePlanner.BITS.containsKey(MergePlanner.upper(((Function) e).getName()))) {
      // BIGINT UNSIGNED arithmetic (1690 past 2^64-1, unsigned subtraction) is not reproduced
      throw new MergePlanner.Refusal(
          e + " inside " + whole + " cannot be computed after merging across data nodes");
    }
    if (isAggregate(e)) {
      ColumnRef ref = planner.findItem(e);
      if (ref == null) {
        ref = planner.addDerived(e, "x");
        aggregates.add(planner.aggregate((Function) e, ref, distinctArgs));
      }
      return new Scalar.Ref(ref);
    }
    if (e instanceof ParenthesedExpressionList<?> p && p.size() == 1) {
      return scalar(p.get(0), whole);
    }
    if (e instanceof Addition
        || e instanceof Subtraction
        || e instanceof Multiplication
        || e instanceof Division
        || e instanceof IntegerDivision
        || e instanceof Modulo) {
      BinaryExpression b = (BinaryExpression) e;
      String op = b.getStringExpression().trim().toUpperCase(java.util.Locale.ROOT);
      op = op.equals("MOD") ? "%" : op;
      return new Scalar.Binary(
          op, scalar(b.getLeftExpression(), whole), scalar(b.getRightExpression(), whole));
    }
    if (e instanceof SignedExpression s
        && s.getSign() == '-'
        && s.getExpression() instanceof LongValue l
        && new java.math.BigInteger(l.getStringValue()).bitLength() < 63) {
      return new Scalar.Literal(-l.getValue());
    }
    if (e instanceof SignedExpression s) {
      Scalar inner = scalar(s.getExpression(), whole);
      return s.getSign() == '-' ? new Scalar.Binary("-", new Scalar.Literal(0L), inner) : inner;
    }
    if (e instanceof LongValue l) {
      java.math.BigInteger v = new java.math.BigInteger(l.getStringValue());
      return v.bitLength() < 64
          ? new Scalar.Literal(v.longValue())
          : new Scalar.Literal(new SqlNumber.Dec(new java.math.BigDecimal(v)));
    }
    if (e instanceof DoubleValue d) {
      String text = d.toString();
      return text.toLowerCase(java.util.Locale.ROOT).contains("e")
          ? new Scalar.Literal(Double.parseDouble(text))
          : Scalar.decimal(text);
    }
    if (e instanceof StringValue s) {
      return new Scalar.Literal(s.getNotExcapedValue());
    }
    if (e instanceof net.sf.jsqlparser.expression.JdbcParameter p) {
      return new Scalar.Param(p.getIndex() - 1);
    }
    if (e instanceof NullValue) {
      return new Scalar.Literal(null);
    }
    if (e instanceof Column c && planner.isGroupKey(c)) {
      return new Scalar.Ref(planner.addDerived(c, "k"));
    }
    if (e instanceof Function f && !(e instanceof AnalyticExpression)) {
      return call(f, whole);
    }
    throw new MergePlanner.Refusal(
        e + " inside " + whole + " cannot be computed after merging across data nodes");
  }

  private Scalar call(Function f, Expression whole) {
    String name = MergePlanner.upper(f.getName());
    if (!Scalar.FUNCTIONS.contains(name) || f.isDistinct() || f.getParameters() == null) {
      throw new MergePlanner.Refusal(
          "function "
              + name
              + " around an aggregate ("
              + whole
              + ") is not computed across data nodes; supported: + - * / DIV MOD, ROUND,"
              + " TRUNCATE, ABS, CEIL, FLOOR, COALESCE, IFNULL, CONCAT");
    }
    List<Scalar> args = new ArrayList<>();
    for (Expression arg : f.getParameters()) {
      args.add(scalar(arg, whole));
    }
    int n = args.size();
    boolean arity =
        switch (name) {
          case "ROUND" -> n == 1 || n == 2 && integerLiteral(args.get(1));
          case "TRUNCATE" -> n == 2 && integerLiteral(args.get(1));
          case "MOD", "IFNULL" -> n == 2;
          case "COALESCE", "CONCAT" -> n >= 1;
          default -> n == 1;
        };
    if (!arity) {
      throw new MergePlanner.Refusal(
          f + " inside " + whole + ": only integer literal places and the usual arguments");
    }
    return new Scalar.Call(name, List.copyOf(args));
  }

  private static boolean integerLiteral(Scalar s) {
    return s instanceof Scalar.Literal l && l.value() instanceof Long;
  }
}
