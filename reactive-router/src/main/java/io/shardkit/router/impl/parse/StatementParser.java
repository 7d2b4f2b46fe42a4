package io.shardkit.router.impl.parse;

import io.shardkit.router.SqlParseException;
import io.shardkit.router.UnsupportedSqlException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import net.sf.jsqlparser.expression.Alias;
import net.sf.jsqlparser.parser.CCJSqlParser;
import net.sf.jsqlparser.parser.CCJSqlParserConstants;
import net.sf.jsqlparser.parser.CCJSqlParserUtil;
import net.sf.jsqlparser.parser.Token;
import net.sf.jsqlparser.schema.Table;
import net.sf.jsqlparser.statement.Statement;
import net.sf.jsqlparser.statement.delete.Delete;
import net.sf.jsqlparser.statement.insert.Insert;
import net.sf.jsqlparser.statement.select.Join;
import net.sf.jsqlparser.statement.select.Values;
import net.sf.jsqlparser.statement.upsert.Upsert;

/**
 * Classifies a statement by its first keyword, then parses it on the calling thread with {@code
 * CCJSqlParserUtil.newParser(sql).Statement()} (never {@code parse(String)}, which runs on an
 * executor and blocks). MySQL statements a pool of shards cannot run meaningfully (transaction
 * control, XA, session state) are refused here with a reason, before the parser sees them. MySQL
 * syntax the parser does not read is rewritten or refused by name first ({@link MySqlSyntax}), a
 * parse failure says where the statement is wrong in the user's terms ({@link ParseErrors}), and
 * statements that parse but would run wrongly on shards are refused by name ({@link #checkRouted}).
 * Every message quotes the user's own SQL.
 */
public final class StatementParser {

  private static final List<String> TRANSACTION_CONTROL =
      List.of("BEGIN", "START", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "XA");
  private static final List<String> SESSION_STATE =
      List.of("SET", "USE", "LOCK", "UNLOCK", "HANDLER");

  private StatementParser() {}

  /**
   * A parsed statement and, for a SELECT, the labels one database gives its unaliased expression
   * items: their text as written (see {@link SelectLabels}).
   */
  public record Parsed(Statement statement, java.util.Map<Object, String> labels) {}

  /** Parses one statement; fails with an {@link UnsupportedSqlException} before any I/O. */
  public static Statement parse(String sql) {
    return parseLabelled(sql).statement();
  }

  /** As {@link #parse}, with the labels of the top-level SELECT's unaliased expression items. */
  public static Parsed parseLabelled(String sql) {
    String keyword = firstKeyword(sql);
    if (keyword.isEmpty()) {
      throw new SqlParseException(sql, "the statement is empty");
    }
    if (TRANSACTION_CONTROL.contains(keyword)) {
      throw new UnsupportedSqlException(
          List.of(),
          quote(leadingWords(sql, 2))
              + " is transaction control sent as SQL: a ShardedPool runs each statement on whichever"
              + " shard connections the route needs; start transactions with the Pool API"
              + " (withTransaction, getConnection().begin()) instead; transactions over several"
              + " shards need a transaction manager (reactive-tx)");
    }
    if (SESSION_STATE.contains(keyword)) {
      throw new UnsupportedSqlException(
          List.of(),
          quote(leadingWords(sql, 3))
              + " changes session state, which would apply to one pooled connection of one shard only;"
              + " configure it in the data source's connect options instead");
    }
    MySqlSyntax syntax = MySqlSyntax.prepare(sql);
    Statement statement;
    CCJSqlParser parser =
        CCJSqlParserUtil.newParser(syntax.text()).withBackslashEscapeCharacter(true);
    try {
      statement = parser.Statement();
    } catch (Exception | Error e) {
      if (e instanceof VirtualMachineError vme) {
        throw vme;
      }
      throw ParseErrors.of(sql, syntax, e);
    }
    Token next = parser.getNextToken();
    if (next.kind != CCJSqlParserConstants.EOF) {
      int at =
          syntax.originalOffset(
              ParseErrors.offset(syntax.text(), next.beginLine, next.beginColumn));
      throw new UnsupportedSqlException(
          List.of(),
          "several statements in one string are not supported: another one starts at "
              + quote(ParseErrors.near(sql, at))
              + "; send them one by one");
    }
    checkRouted(sql, statement);
    return new Parsed(statement, SelectLabels.of(sql, syntax, statement));
  }

  /** Statements that parse but that the router would run wrongly: refused by name. */
  private static void checkRouted(String sql, Statement statement) {
    if (statement instanceof Upsert upsert) {
      throw new UnsupportedSqlException(
          names(upsert.getTable()),
          quote(leadingWords(sql, 3))
              + ": REPLACE is not routed on a sharded pool yet; use INSERT ... ON DUPLICATE KEY"
              + " UPDATE, or run it on one shard's pool(ds)");
    }
    Alias rowAlias = statement instanceof Insert insert ? rowAlias(insert) : null;
    if (rowAlias != null) {
      throw new UnsupportedSqlException(
          names(((Insert) statement).getTable()),
          "INSERT ... "
              + quote(rowAlias.toString().strip())
              + " (a row alias) is not supported on a sharded pool yet; in ON DUPLICATE KEY UPDATE"
              + " refer to the new values as VALUES(column)");
    }
    if (statement instanceof Delete delete
        && delete.getTables() != null
        && !delete.getTables().isEmpty()) {
      List<Table> tables = new ArrayList<>();
      tables.add(delete.getTable());
      if (delete.getJoins() != null) {
        for (Join join : delete.getJoins()) {
          if (join.getFromItem() instanceof Table t) {
            tables.add(t);
          }
        }
      }
      throw new UnsupportedSqlException(
          names(tables.toArray(new Table[0])),
          quote(leadingWordsThrough(sql, "FROM"))
              + ": a multi-table DELETE is not supported on a sharded pool yet; delete from one"
              + " table (DELETE FROM t WHERE ..., with a subquery for the other table)");
    }
  }

  /** MySQL 8's {@code VALUES (...) AS new} / {@code SET ... AS new}: the router drops it. */
  private static Alias rowAlias(Insert insert) {
    if (insert.getRowAlias() != null) {
      return insert.getRowAlias();
    }
    return insert.getSelect() instanceof Values values ? values.getAlias() : null;
  }

  private static List<String> names(Table... tables) {
    List<String> out = new ArrayList<>();
    for (Table t : tables) {
      if (t != null) {
        String name = AstScan.unquote(t.getName()).toLowerCase(Locale.ROOT);
        if (!out.contains(name)) {
          out.add(name);
        }
      }
    }
    return out;
  }

  /** A fragment of the user's SQL in double quotes. */
  static String quote(String fragment) {
    return "\"" + (fragment == null ? "" : fragment) + "\"";
  }

  /** The statement's first {@code count} words (after comments), as written. */
  static String leadingWords(String sql, int count) {
    int start = sql.length() - sql.stripLeading().length();
    int i = start;
    int words = 0;
    int n = sql.length();
    while (i < n && words < count) {
      while (i < n && Character.isWhitespace(sql.charAt(i))) {
        i++;
      }
      if (i >= n) {
        break;
      }
      while (i < n && !Character.isWhitespace(sql.charAt(i))) {
        i++;
      }
      words++;
    }
    String words0 = sql.substring(start, i).strip();
    return words0.endsWith(";") ? words0.substring(0, words0.length() - 1) : words0;
  }

  /** The statement's words up to and including the first {@code word}, or its first 3 words. */
  static String leadingWordsThrough(String sql, String word) {
    for (int count = 1; count <= 8; count++) {
      String w = leadingWords(sql, count);
      if (w.toUpperCase(Locale.ROOT).endsWith(" " + word)) {
        return w;
      }
    }
    return leadingWords(sql, 3);
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
