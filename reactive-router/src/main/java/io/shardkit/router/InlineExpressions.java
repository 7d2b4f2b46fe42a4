package io.shardkit.router;

import java.util.ArrayList;
import java.util.List;

/**
 * Expands data node expressions such as {@code ds_${0..3}.t_order_${0..7}} or {@code
 * ds_${['a','b']}.t_x}: every {@code ${a..b}} range and {@code ${[x,y]}} list multiplies the result
 * (cartesian product, left to right), and commas outside {@code ${}} separate expressions.
 */
final class InlineExpressions {

  private InlineExpressions() {}

  static List<String> expand(String expression) {
    List<String> result = new ArrayList<>();
    for (String part : splitTopLevel(expression)) {
      String trimmed = part.strip();
      if (trimmed.isEmpty()) {
        throw new IllegalArgumentException("empty expression in '" + expression + "'");
      }
      result.addAll(expandOne(trimmed));
    }
    return result;
  }

  private static List<String> splitTopLevel(String expression) {
    List<String> parts = new ArrayList<>();
    int depth = 0;
    int start = 0;
    for (int i = 0; i < expression.length(); i++) {
      char c = expression.charAt(i);
      if (c == '{') {
        depth++;
      } else if (c == '}') {
        depth--;
      } else if (c == ',' && depth == 0) {
        parts.add(expression.substring(start, i));
        start = i + 1;
      }
    }
    parts.add(expression.substring(start));
    return parts;
  }

  private static List<String> expandOne(String expression) {
    List<String> results = List.of("");
    int i = 0;
    while (i < expression.length()) {
      int open = expression.indexOf("${", i);
      if (open < 0) {
        results = append(results, List.of(expression.substring(i)));
        break;
      }
      int close = expression.indexOf('}', open);
      if (close < 0) {
        throw new IllegalArgumentException("unclosed ${ in '" + expression + "'");
      }
      results = append(results, List.of(expression.substring(i, open)));
      results = append(results, values(expression.substring(open + 2, close).strip(), expression));
      i = close + 1;
    }
    return results;
  }

  private static List<String> values(String inner, String expression) {
    List<String> values = new ArrayList<>();
    if (inner.startsWith("[") && inner.endsWith("]")) {
      for (String v : inner.substring(1, inner.length() - 1).split(",")) {
        String value = v.strip();
        if (value.length() >= 2
            && (value.startsWith("'") && value.endsWith("'")
                || value.startsWith("\"") && value.endsWith("\""))) {
          value = value.substring(1, value.length() - 1);
        }
        if (value.isEmpty()) {
          throw new IllegalArgumentException("empty list element in '" + expression + "'");
        }
        values.add(value);
      }
      return values;
    }
    int dots = inner.indexOf("..");
    if (dots < 0) {
      throw new IllegalArgumentException(
          "expected ${a..b} or ${[x,y]} but got ${" + inner + "} in '" + expression + "'");
    }
    long from;
    long to;
    try {
      from = Long.parseLong(inner.substring(0, dots).strip());
      to = Long.parseLong(inner.substring(dots + 2).strip());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("range bounds must be integers in '" + expression + "'");
    }
    if (to < from || to - from > 100_000) {
      throw new IllegalArgumentException(
          "bad range " + from + ".." + to + " in '" + expression + "'");
    }
    for (long v = from; v <= to; v++) {
      values.add(Long.toString(v));
    }
    return values;
  }

  private static List<String> append(List<String> prefixes, List<String> suffixes) {
    List<String> out = new ArrayList<>(prefixes.size() * suffixes.size());
    for (String p : prefixes) {
      for (String s : suffixes) {
        out.add(p + s);
      }
    }
    return out;
  }
}
