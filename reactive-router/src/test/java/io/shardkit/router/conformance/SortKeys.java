package io.shardkit.router.conformance;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import net.sf.jsqlparser.expression.Alias;
import net.sf.jsqlparser.expression.Expression;
import net.sf.jsqlparser.expression.LongValue;
import net.sf.jsqlparser.parser.CCJSqlParserUtil;
import net.sf.jsqlparser.schema.Column;
import net.sf.jsqlparser.statement.Statement;
import net.sf.jsqlparser.statement.select.Limit;
import net.sf.jsqlparser.statement.select.OrderByElement;
import net.sf.jsqlparser.statement.select.PlainSelect;
import net.sf.jsqlparser.statement.select.SelectItem;

/**
 * Reads the top-level ORDER BY of a query to find which result columns hold its keys, so that rows
 * with equal keys may come back in any order. Independent of the router's own parsing.
 */
final class SortKeys {

  private SortKeys() {}

  /**
   * The result column index of each top-level ORDER BY item, or empty when the SQL has none or one
   * item is not a result column (then the caller compares rows in order).
   */
  static Optional<List<Integer>> resolve(String sql, List<String> labels) {
    PlainSelect select = plainSelect(sql).orElse(null);
    if (select == null || select.getOrderByElements() == null) {
      return Optional.empty();
    }
    List<Integer> keys = new ArrayList<>();
    for (OrderByElement element : select.getOrderByElements()) {
      int index = index(element.getExpression(), select, labels);
      if (index < 0) {
        return Optional.empty();
      }
      keys.add(index);
    }
    return Optional.of(keys);
  }

  /** The SQL with its top-level LIMIT removed, or empty when it has none or cannot be parsed. */
  static Optional<String> withoutLimit(String sql) {
    PlainSelect select = plainSelect(sql).orElse(null);
    if (select == null || select.getLimit() == null) {
      return Optional.empty();
    }
    Limit limit = select.getLimit();
    if (hasParameter(limit)) {
      return Optional.empty();
    }
    select.setLimit(null);
    return Optional.of(select.toString());
  }

  private static boolean hasParameter(Limit limit) {
    return String.valueOf(limit).contains("?");
  }

  private static Optional<PlainSelect> plainSelect(String sql) {
    Statement statement;
    try {
      statement = CCJSqlParserUtil.newParser(sql).Statement();
    } catch (Exception | Error e) {
      return Optional.empty();
    }
    if (statement instanceof PlainSelect p) {
      return Optional.of(p);
    }
    return Optional.empty();
  }

  private static int index(Expression expression, PlainSelect select, List<String> labels) {
    if (expression instanceof LongValue position) {
      long p = position.getValue();
      return p >= 1 && p <= labels.size() ? (int) p - 1 : -1;
    }
    if (expression instanceof Column column) {
      String name = SqlScripts.unquote(column.getColumnName());
      if (column.getTable() != null
          && column.getTable().getName() != null
          && count(name, labels) > 1) {
        return -1; // o.x or i.x: which of the columns labelled x is not known here
      }
      int byLabel = label(name, labels);
      if (byLabel >= 0) {
        return byLabel;
      }
    }
    String text = normalise(expression.toString());
    for (SelectItem<?> item : select.getSelectItems()) {
      if (item.getExpression() != null && normalise(item.getExpression().toString()).equals(text)) {
        Alias alias = item.getAlias();
        int i =
            label(
                alias != null
                    ? SqlScripts.unquote(alias.getName())
                    : item.getExpression().toString(),
                labels);
        if (i >= 0) {
          return i;
        }
      }
    }
    return label(expression.toString(), labels);
  }

  private static int label(String name, List<String> labels) {
    for (int i = 0; i < labels.size(); i++) {
      if (labels.get(i).equalsIgnoreCase(name)) {
        return i;
      }
    }
    return -1;
  }

  private static int count(String name, List<String> labels) {
    return (int) labels.stream().filter(l -> l.equalsIgnoreCase(name)).count();
  }

  private static String normalise(String expression) {
    return expression.replaceAll("[\\s`]", "").toLowerCase(Locale.ROOT);
  }
}
