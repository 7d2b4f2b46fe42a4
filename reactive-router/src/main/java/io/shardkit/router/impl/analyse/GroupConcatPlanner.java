package io.shardkit.router.impl.analyse;

import io.shardkit.router.impl.analyse.MergeSpec.Aggregate;
import io.shardkit.router.impl.analyse.MergeSpec.AggregateKind;
import io.shardkit.router.impl.analyse.MergeSpec.ColumnRef;
import java.util.List;
import net.sf.jsqlparser.expression.Expression;
import net.sf.jsqlparser.expression.Function;
import net.sf.jsqlparser.expression.StringValue;
import net.sf.jsqlparser.expression.operators.relational.ExpressionList;

/** Plans the merge of a GROUP_CONCAT select item (see {@code merge.GroupConcat} for the merge). */
final class GroupConcatPlanner {

  private GroupConcatPlanner() {}

  /**
   * {@code GROUP_CONCAT([DISTINCT] x [SEPARATOR 's'])} without ORDER BY inside: the units' values
   * are joined with the separator (the order of the elements is unspecified, as on one database),
   * DISTINCT values are collected across units like COUNT(DISTINCT) and joined in ascending order
   * (what MySQL and MariaDB give in practice). The unit's {@code @@group_concat_max_len} comes
   * along so the joined value is cut where one database would cut it.
   */
  static Aggregate plan(
      MergePlanner planner, Function f, ColumnRef target, List<Expression> distinctArgs) {
    if (f.getOrderByElements() != null && !f.getOrderByElements().isEmpty()) {
      throw new MergePlanner.Refusal(
          f
              + ": GROUP_CONCAT with ORDER BY cannot be merged across data nodes (the units' strings"
              + " cannot be interleaved in that order)");
    }
    ExpressionList<?> params = f.getParameters();
    if (f.isAllColumns() || params == null || params.isEmpty()) {
      throw new MergePlanner.Refusal(f + " is not mergeable");
    }
    String separator = ",";
    if (f.getKeywordArguments() != null) {
      for (Function.KeywordArgument k : f.getKeywordArguments()) {
        if (!MergePlanner.upper(k.getKeyword()).equals("SEPARATOR")
            || !(k.getExpression() instanceof StringValue sv)
            || sv.getValue().indexOf('\\') >= 0
            || sv.getValue().indexOf('\'') >= 0) {
          throw new MergePlanner.Refusal(
              f + ": only a plain SEPARATOR string is supported across data nodes, got " + k);
        }
        separator = sv.getValue();
      }
    }
    for (Expression arg : params) {
      MergePlanner.checkNoAggregate(arg);
    }
    ColumnRef maxLength = planner.groupConcatMaxLength();
    if (!f.isDistinct()) {
      return new Aggregate(
          AggregateKind.GROUP_CONCAT,
          target,
          null,
          null,
          null,
          new MergeSpec.Concat(separator, maxLength, null),
          null);
    }
    if (params.size() != 1) {
      throw new MergePlanner.Refusal(
          f + ": GROUP_CONCAT(DISTINCT a, b) is not supported across data nodes");
    }
    Expression arg = params.get(0);
    ColumnRef value = planner.addDerived(arg, "d");
    // GROUP_CONCAT(DISTINCT b) writes a BIT value as its decimal digits (bytes), where CONCAT(b)
    // gives its bits
    ColumnRef text =
        planner.addDerived(
            planner.isBit(arg)
                ? new net.sf.jsqlparser.expression.CastExpression(
                    "CAST",
                    new net.sf.jsqlparser.expression.operators.arithmetic.Addition(
                        arg, new net.sf.jsqlparser.expression.LongValue(0)),
                    "BINARY")
                : new Function("CONCAT", arg),
            "t");
    distinctArgs.add(arg);
    return new Aggregate(
        AggregateKind.GROUP_CONCAT_DISTINCT,
        target,
        null,
        null,
        value,
        new MergeSpec.Concat(separator, maxLength, text),
        planner.keyFor(value, arg));
  }
}
