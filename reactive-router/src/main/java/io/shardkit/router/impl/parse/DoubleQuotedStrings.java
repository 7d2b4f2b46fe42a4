package io.shardkit.router.impl.parse;

/**
 * Rewrites MySQL string literals written in double quotes that contain a backslash escape or a
 * doubled quote ({@code "\""}, {@code "a""b"}) into the equivalent single-quoted literal before
 * parsing. JSqlParser reads double quotes as identifier quotes and prints such tokens differently
 * from how MySQL reads them, which made the router refuse them; as single-quoted strings they
 * survive parsing and printing unchanged.
 *
 * <p>Why only those: in MySQL's default sql_mode {@code "x"} is a string, but with {@code
 * ANSI_QUOTES} it is an identifier, and the router does not know the server's mode. Plain {@code
 * "x"} is left to the parser, which prints it back as written, so the server decides; an identifier
 * with a backslash or a doubled quote in it is far-fetched enough to read as a string.
 */
public final class DoubleQuotedStrings {

  private DoubleQuotedStrings() {}

  /** The SQL with such literals single-quoted; the same instance when there is none. */
  public static String normalise(String sql) {
    if (sql.indexOf('"') < 0) {
      return sql;
    }
    StringBuilder out = null;
    int n = sql.length();
    int i = 0;
    int copied = 0;
    while (i < n) {
      char c = sql.charAt(i);
      if (c == '\'' || c == '`') {
        i = skipQuoted(sql, i, c);
      } else if (c == '/' && sql.startsWith("/*", i)) {
        int end = sql.indexOf("*/", i + 2);
        i = end < 0 ? n : end + 2;
      } else if (c == '#' || (c == '-' && sql.startsWith("-- ", i))) {
        int end = sql.indexOf('\n', i);
        i = end < 0 ? n : end + 1;
      } else if (c == '"') {
        int end = skipQuoted(sql, i, '"');
        String body = sql.substring(i + 1, Math.max(i + 1, end - 1));
        if (end <= n
            && sql.charAt(end - 1) == '"'
            && (body.indexOf('\\') >= 0 || body.contains("\"\""))) {
          if (out == null) {
            out = new StringBuilder(n + 8);
          }
          out.append(sql, copied, i).append('\'').append(singleQuotedBody(body)).append('\'');
          copied = end;
        }
        i = end;
      } else {
        i++;
      }
    }
    if (out == null) {
      return sql;
    }
    return out.append(sql, copied, n).toString();
  }

  /** The index just past the literal opened by {@code quote} at {@code start}. */
  private static int skipQuoted(String sql, int start, char quote) {
    int n = sql.length();
    int i = start + 1;
    while (i < n) {
      char c = sql.charAt(i);
      if (c == '\\' && quote != '`') {
        i += 2;
      } else if (c == quote) {
        if (i + 1 < n && sql.charAt(i + 1) == quote) {
          i += 2;
        } else {
          return i + 1;
        }
      } else {
        i++;
      }
    }
    return n;
  }

  /** The body of a double-quoted literal as the body of a single-quoted one with equal value. */
  private static String singleQuotedBody(String body) {
    StringBuilder b = new StringBuilder(body.length() + 4);
    for (int i = 0; i < body.length(); i++) {
      char c = body.charAt(i);
      if (c == '\\' && i + 1 < body.length()) {
        char next = body.charAt(++i);
        if (next == '"') {
          b.append('"');
        } else {
          b.append('\\').append(next);
        }
      } else if (c == '"' && i + 1 < body.length() && body.charAt(i + 1) == '"') {
        b.append('"');
        i++;
      } else if (c == '\'') {
        b.append("\\'");
      } else {
        b.append(c);
      }
    }
    return b.toString();
  }
}
