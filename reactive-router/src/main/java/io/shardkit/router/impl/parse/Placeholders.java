package io.shardkit.router.impl.parse;

/**
 * Finds the {@code ?} placeholders of a SQL text outside quotes and comments, with the lexical
 * rules the planner uses to check that the parsed statement prints back every {@code ?} (so the
 * count here is the number of parameters of the parsed statement, and a plan is never built when
 * the two disagree). A scan costs a few nanoseconds per character, once per statement text.
 */
public final class Placeholders {

  private Placeholders() {}

  /** The number of {@code ?} placeholders. */
  public static int count(String sql) {
    int count = 0;
    for (int i = next(sql, 0); i >= 0; i = next(sql, i + 1)) {
      count++;
    }
    return count;
  }

  /** The index of the first {@code ?} placeholder at or after {@code from}, or -1. */
  public static int next(String sql, int from) {
    char open = 0;
    int n = sql.length();
    for (int i = from; i < n; i++) {
      char c = sql.charAt(i);
      if (open != 0) {
        if (c == '\\' && open != '`') {
          i++;
        } else if (c == open) {
          open = 0;
        }
      } else if (c == '/' && sql.startsWith("/*", i)) {
        int end = sql.indexOf("*/", i + 2);
        i = end < 0 ? n : end + 1;
      } else if (c == '#' || c == '-' && sql.startsWith("--", i)) {
        int end = sql.indexOf('\n', i);
        i = end < 0 ? n : end;
      } else if (c == '\'' || c == '"' || c == '`') {
        open = c;
      } else if (c == '?') {
        return i;
      }
    }
    return -1;
  }
}
