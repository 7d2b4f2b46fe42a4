package io.shardkit.router.impl.parse;

import java.util.Locale;
import java.util.Set;

/**
 * Functions and variables whose value belongs to one connection of one server: on a sharded pool
 * the statement would run on whichever pooled connection of whichever shard the route picks, so
 * {@code SELECT LAST_INSERT_ID()} after an INSERT answers with another connection's id, {@code
 * GET_LOCK} takes a lock that stays with a pooled connection, {@code @x} reads a variable nobody
 * set there. Found outside quotes and comments, before parsing; refused by name.
 */
final class SessionReads {

  /** Per-connection functions (their value, or their effect, stays with one session). */
  static final Set<String> FUNCTIONS =
      Set.of(
          "LAST_INSERT_ID",
          "FOUND_ROWS",
          "ROW_COUNT",
          "CONNECTION_ID",
          "GET_LOCK",
          "RELEASE_LOCK",
          "RELEASE_ALL_LOCKS",
          "IS_FREE_LOCK",
          "IS_USED_LOCK");

  private SessionReads() {}

  /**
   * The first per-connection function call ({@code NAME(}) or user variable ({@code @name}) of the
   * statement, as written, or null.
   */
  static String find(String sql) {
    int n = sql.length();
    int i = 0;
    while (i < n) {
      char c = sql.charAt(i);
      if (c == '\'' || c == '"' || c == '`') {
        i = skipQuoted(sql, i, c);
      } else if (c == '/' && sql.startsWith("/*", i)) {
        int end = sql.indexOf("*/", i + 2);
        i = end < 0 ? n : end + 2;
      } else if (c == '#' || c == '-' && sql.startsWith("--", i)) {
        int end = sql.indexOf('\n', i);
        i = end < 0 ? n : end + 1;
      } else if (c == '@') {
        if (i + 1 < n && sql.charAt(i + 1) == '@') {
          // a system variable (@@sql_mode): read from the shard the statement routes to
          i += 2;
          while (i < n && isWordChar(sql.charAt(i))) {
            i++;
          }
        } else {
          int end = i + 1;
          while (end < n && (isWordChar(sql.charAt(end)) || sql.charAt(end) == '.')) {
            end++;
          }
          if (end > i + 1 || end < n && "'\"`".indexOf(sql.charAt(end)) >= 0) {
            return sql.substring(i, Math.max(end, i + 1));
          }
          i = end;
        }
      } else if (isWordChar(c)) {
        int start = i;
        while (i < n && isWordChar(sql.charAt(i))) {
          i++;
        }
        boolean qualified = start > 0 && sql.charAt(start - 1) == '.';
        int j = i;
        while (j < n && Character.isWhitespace(sql.charAt(j))) {
          j++;
        }
        if (!qualified
            && j < n
            && sql.charAt(j) == '('
            && FUNCTIONS.contains(sql.substring(start, i).toUpperCase(Locale.ROOT))) {
          return sql.substring(start, i) + "()";
        }
      } else {
        i++;
      }
    }
    return null;
  }

  private static boolean isWordChar(char c) {
    return Character.isLetterOrDigit(c) || c == '_' || c == '$';
  }

  private static int skipQuoted(String sql, int i, char quote) {
    int n = sql.length();
    int j = i + 1;
    while (j < n) {
      char d = sql.charAt(j);
      if (d == '\\' && quote != '`') {
        j += 2;
      } else if (d == quote) {
        if (j + 1 < n && sql.charAt(j + 1) == quote) {
          j += 2;
        } else {
          return j + 1;
        }
      } else {
        j++;
      }
    }
    return n;
  }
}
