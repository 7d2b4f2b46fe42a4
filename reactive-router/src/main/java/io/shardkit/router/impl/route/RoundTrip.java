package io.shardkit.router.impl.route;

/**
 * Cheap checks, once per statement, that the SQL the router prints says what the user wrote:
 * JSqlParser prints some MySQL strings differently from how it read them (e.g. {@code "\""}), so a
 * rewritten statement must keep as many quote characters as the original, and every {@code ?} (a
 * lost one would shift every later parameter).
 */
final class RoundTrip {

  private RoundTrip() {}

  /** Whether both texts have as many ' and " characters outside comments. */
  static boolean sameQuotes(String original, String deparsed) {
    return quotes(original, '\'') == quotes(deparsed, '\'')
        && quotes(original, '"') == quotes(deparsed, '"');
  }

  private static int quotes(String sql, char quote) {
    int count = 0;
    char open = 0;
    for (int i = 0; i < sql.length(); i++) {
      char c = sql.charAt(i);
      if (open != 0) {
        if (c == '\\' && open != '`') {
          if (i + 1 < sql.length() && sql.charAt(i + 1) == quote) {
            count++;
          }
          i++;
        } else if (c == open) {
          open = 0;
          if (c == quote) {
            count++;
          }
        } else if (c == quote) {
          count++;
        }
      } else if (c == '/' && sql.startsWith("/*", i)) {
        int end = sql.indexOf("*/", i + 2);
        i = end < 0 ? sql.length() : end + 1;
      } else if (c == '#' || c == '-' && sql.startsWith("--", i)) {
        int end = sql.indexOf('\n', i);
        i = end < 0 ? sql.length() : end;
      } else if (c == '\'' || c == '"' || c == '`') {
        open = c;
        if (c == quote) {
          count++;
        }
      }
    }
    return count;
  }

  /** The number of ? placeholders outside quotes and comments. */
  static int parameters(String sql) {
    int count = 0;
    char open = 0;
    for (int i = 0; i < sql.length(); i++) {
      char c = sql.charAt(i);
      if (open != 0) {
        if (c == '\\' && open != '`') {
          i++;
        } else if (c == open) {
          open = 0;
        }
      } else if (c == '/' && sql.startsWith("/*", i)) {
        int end = sql.indexOf("*/", i + 2);
        i = end < 0 ? sql.length() : end + 1;
      } else if (c == '#' || c == '-' && sql.startsWith("--", i)) {
        int end = sql.indexOf('\n', i);
        i = end < 0 ? sql.length() : end;
      } else if (c == '\'' || c == '"' || c == '`') {
        open = c;
      } else if (c == '?') {
        count++;
      }
    }
    return count;
  }
}
