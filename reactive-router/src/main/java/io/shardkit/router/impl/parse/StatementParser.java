package io.shardkit.router.impl.parse;

import io.shardkit.router.SqlParseException;
import io.shardkit.router.UnsupportedSqlException;
import java.util.List;
import java.util.Locale;
import net.sf.jsqlparser.parser.CCJSqlParser;
import net.sf.jsqlparser.parser.CCJSqlParserConstants;
import net.sf.jsqlparser.parser.CCJSqlParserUtil;
import net.sf.jsqlparser.statement.Statement;

/**
 * Classifies a statement by its first keyword, then parses it on the calling thread with {@code
 * CCJSqlParserUtil.newParser(sql).Statement()} (never {@code parse(String)}, which runs on an
 * executor and blocks). MySQL statements a pool of shards cannot run meaningfully (transaction
 * control, XA, session state) are refused here with a reason, before the parser sees them.
 */
public final class StatementParser {

  private static final List<String> TRANSACTION_CONTROL =
      List.of("BEGIN", "START", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "XA");
  private static final List<String> SESSION_STATE =
      List.of("SET", "USE", "LOCK", "UNLOCK", "HANDLER");

  private StatementParser() {}

  /** Parses one statement; fails with an {@link UnsupportedSqlException} before any I/O. */
  public static Statement parse(String sql) {
    String keyword = firstKeyword(sql);
    if (keyword.isEmpty()) {
      throw new SqlParseException(sql, new IllegalArgumentException("empty statement"));
    }
    if (TRANSACTION_CONTROL.contains(keyword)) {
      throw new UnsupportedSqlException(
          List.of(),
          keyword
              + " is transaction control: a ShardedPool is not a connection and runs each statement on"
              + " whichever shard connections the route needs; use reactive-tx (withTransaction) for transactions");
    }
    if (SESSION_STATE.contains(keyword)) {
      throw new UnsupportedSqlException(
          List.of(),
          keyword
              + " changes session state, which would apply to one pooled connection of one shard only;"
              + " configure it in the data source's connect options instead");
    }
    Statement statement;
    CCJSqlParser parser = CCJSqlParserUtil.newParser(sql).withBackslashEscapeCharacter(true);
    try {
      statement = parser.Statement();
    } catch (Exception | Error e) {
      if (e instanceof VirtualMachineError vme) {
        throw vme;
      }
      throw new SqlParseException(sql, e);
    }
    if (parser.getNextToken().kind != CCJSqlParserConstants.EOF) {
      throw new UnsupportedSqlException(
          List.of(), "several statements in one string are not supported: send them one by one");
    }
    return statement;
  }

  static final List<String> WARM_UP =
      List.of(
          "SELECT a.x, SUM(b.y) AS s FROM t_a a JOIN t_b b ON a.id = b.a_id WHERE a.k IN (?, ?)"
              + " AND b.z BETWEEN 1 AND 9 GROUP BY a.x HAVING COUNT(*) > 1 ORDER BY a.x DESC"
              + " LIMIT 10, 20",
          "SELECT * FROM t_a WHERE id IN (SELECT a_id FROM t_b WHERE k = ?) OR EXISTS (SELECT 1"
              + " FROM t_c)",
          "INSERT INTO t_a (k, v) VALUES (?, ?), (?, 'x') ON DUPLICATE KEY UPDATE v = VALUES(v)",
          "UPDATE t_a SET v = v + ? WHERE k = ? AND v >= 0",
          "DELETE FROM t_a WHERE k = ? LIMIT 1");

  /**
   * Parses a few representative statements and discards them, so that the parser's classes are
   * loaded and initialised (about 100 ms on a cold JVM) before the first real statement arrives,
   * which is usually on an event loop. Meant to run on a worker thread; never throws.
   */
  public static void warmUp() {
    for (String sql : WARM_UP) {
      try {
        parse(sql);
      } catch (RuntimeException ignored) {
        // warming up only: a statement this parser version rejects just warms less
      }
    }
  }

  /** The first keyword, upper case, skipping whitespace, comments and parentheses. */
  static String firstKeyword(String sql) {
    int i = 0;
    int n = sql.length();
    while (i < n) {
      char c = sql.charAt(i);
      if (Character.isWhitespace(c) || c == '(') {
        i++;
      } else if (c == '/' && i + 1 < n && sql.charAt(i + 1) == '*') {
        int end = sql.indexOf("*/", i + 2);
        i = end < 0 ? n : end + 2;
      } else if ((c == '-' && sql.startsWith("--", i)) || c == '#') {
        int end = sql.indexOf('\n', i);
        i = end < 0 ? n : end + 1;
      } else {
        break;
      }
    }
    int start = i;
    while (i < n && Character.isLetter(sql.charAt(i))) {
      i++;
    }
    return sql.substring(start, i).toUpperCase(Locale.ROOT);
  }
}
