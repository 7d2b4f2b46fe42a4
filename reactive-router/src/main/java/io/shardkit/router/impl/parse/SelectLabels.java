package io.shardkit.router.impl.parse;

import java.util.IdentityHashMap;
import java.util.Map;
import net.sf.jsqlparser.expression.Expression;
import net.sf.jsqlparser.expression.StringValue;
import net.sf.jsqlparser.parser.Node;
import net.sf.jsqlparser.schema.Column;
import net.sf.jsqlparser.statement.Statement;
import net.sf.jsqlparser.statement.select.AllColumns;
import net.sf.jsqlparser.statement.select.PlainSelect;
import net.sf.jsqlparser.statement.select.Select;
import net.sf.jsqlparser.statement.select.SelectItem;

/**
 * The labels MySQL and MariaDB give unaliased expression items of a SELECT: the item's text as the
 * user wrote it ({@code COUNT( * )}, {@code k+1}, {@code TRIM(c2)}), comments included, cut at 255
 * characters; a string literal is labelled by its value ({@code 'abc'}, {@code N'x'}, {@code
 * _utf8mb4'x'} are {@code abc} and {@code x}), a column by its name. The router sends the SQL as
 * JSqlParser prints it ({@code Trim( c2 )}, {@code k + 1}), so it aliases every item whose printed
 * text differs from its label with that label.
 *
 * <p>The text comes from the parser's token offsets in the text it parsed, mapped back through
 * {@link MySqlSyntax#originalOffset} to the statement as given; an item without offsets keeps its
 * printed text.
 */
final class SelectLabels {

  /** Longest name the server gives a result column (longer expressions are cut). */
  static final int MAX_LABEL = 255;

  private SelectLabels() {}

  static Map<Object, String> of(String sql, MySqlSyntax syntax, Statement statement) {
    if (!(statement instanceof Select select) || !(select instanceof PlainSelect ps)) {
      return Map.of();
    }
    Map<Object, String> out = new IdentityHashMap<>();
    for (SelectItem<?> item : ps.getSelectItems()) {
      Expression e = item.getExpression();
      if (item.getAlias() != null
          || e instanceof Column
          || e instanceof AllColumns
          || e instanceof StringValue s && labelledByValue(s)) {
        continue;
      }
      String text = text(sql, syntax, item.getASTNode());
      if (text != null) {
        out.put(item, text);
      }
    }
    return out;
  }

  /** A string literal, with no introducer or a character-set one, is labelled by its value. */
  private static boolean labelledByValue(StringValue s) {
    String prefix = s.getPrefix();
    return prefix == null
        || prefix.isEmpty()
        || prefix.equalsIgnoreCase("N")
        || prefix.startsWith("_");
  }

  private static String text(String sql, MySqlSyntax syntax, Node node) {
    if (node == null || node.jjtGetFirstToken() == null || node.jjtGetLastToken() == null) {
      return null;
    }
    // absolute offsets are 1-based: [absoluteBegin - 1, absoluteEnd - 1) of the parsed text
    int begin = node.jjtGetFirstToken().absoluteBegin - 1;
    int last = node.jjtGetLastToken().absoluteEnd - 2;
    if (begin < 0 || last < begin || last >= syntax.text().length()) {
      return null;
    }
    int from = syntax.originalOffset(begin);
    int to = syntax.originalOffset(last) + 1;
    if (from < 0 || to > sql.length() || to <= from) {
      return null;
    }
    String label = sql.substring(from, to);
    return label.length() > MAX_LABEL ? label.substring(0, MAX_LABEL) : label;
  }
}
