package io.shardkit.router.impl.parse;

import io.shardkit.router.SqlParseException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import net.sf.jsqlparser.parser.CCJSqlParserConstants;
import net.sf.jsqlparser.parser.ParseException;
import net.sf.jsqlparser.parser.Token;
import net.sf.jsqlparser.parser.TokenMgrException;

/**
 * Turns a JSqlParser failure into a {@link SqlParseException} that says where the statement is
 * wrong in the user's terms (the text near the failure, its line and column in the SQL as written)
 * and nothing of the parser's internals (token kinds, lexical states, grammar positions, expected
 * token lists). The parser's exception stays the cause.
 */
public final class ParseErrors {

  private static final Pattern LEXICAL_POSITION = Pattern.compile("line (\\d+), column (\\d+)");
  private static final int NEAR_WORDS = 3;
  private static final int NEAR_CHARS = 40;

  private ParseErrors() {}

  /**
   * The refusal of a text query ({@code query(sql)}, no parameters) that has {@code ?}
   * placeholders: MySQL answers it with a syntax error near the first {@code ?}, so it fails the
   * same way here, before any I/O (routing it would need the missing values).
   */
  public static SqlParseException placeholderInTextQuery(String sql) {
    return at(
        sql,
        Placeholders.next(sql, 0),
        "a ? placeholder is a syntax error in a text query (query(sql) sends no parameters);"
            + " use preparedQuery(sql).execute(tuple)",
        null);
  }

  /** The exception for a failure parsing {@code syntax.text()}, which was prepared from sql. */
  static SqlParseException of(String sql, MySqlSyntax syntax, Throwable failure) {
    String parsed = syntax.text();
    if (failure instanceof ParseException pe && pe.currentToken != null) {
      Token at = pe.currentToken.next;
      if (at == null) {
        return new SqlParseException(sql, 0, 0, "", null, failure);
      }
      if (at.kind == CCJSqlParserConstants.EOF) {
        return at(sql, sql.length(), "the statement ends too early", failure);
      }
      if (pe.currentToken.kind == CCJSqlParserConstants.S_IDENTIFIER
          && at.kind == CCJSqlParserConstants.S_IDENTIFIER) {
        // two names in a row: the first one was most likely read as an alias while it was meant
        // as a keyword (SELECT * FORM t), so the statement goes wrong at the first
        at = pe.currentToken;
      }
      int offset = offset(parsed, at.beginLine, at.beginColumn);
      return at(sql, syntax.originalOffset(offset), null, failure);
    }
    if (failure instanceof TokenMgrException) {
      int unclosed = unclosedQuote(sql);
      if (unclosed >= 0) {
        return at(sql, unclosed, "this quoted string or identifier is never closed", failure);
      }
      Matcher m = LEXICAL_POSITION.matcher(String.valueOf(failure.getMessage()));
      if (m.find()) {
        int offset = offset(parsed, Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)));
        return at(sql, syntax.originalOffset(offset), "unexpected character", failure);
      }
    }
    return new SqlParseException(sql, 0, 0, "", null, failure);
  }

  /** The exception for a failure at {@code offset} of sql. */
  static SqlParseException at(String sql, int offset, String reason, Throwable cause) {
    int off = Math.max(0, Math.min(offset, sql.length()));
    int line = 1;
    int lineStart = 0;
    for (int i = 0; i < off; i++) {
      if (sql.charAt(i) == '\n') {
        line++;
        lineStart = i + 1;
      }
    }
    return new SqlParseException(sql, line, off - lineStart + 1, near(sql, off), reason, cause);
  }

  /** A few words of sql from offset (on one line), or null at its end. */
  static String near(String sql, int offset) {
    int n = sql.length();
    int i = offset;
    while (i < n && sql.charAt(i) == ' ') {
      i++;
    }
    if (i >= n) {
      return null;
    }
    int end = i;
    int words = 0;
    boolean inWord = false;
    while (end < n && end - i < NEAR_CHARS) {
      char c = sql.charAt(end);
      if (c == '\n' || c == '\r') {
        break;
      }
      boolean space = Character.isWhitespace(c);
      if (!space && !inWord && ++words > NEAR_WORDS) {
        break;
      }
      inWord = !space;
      end++;
    }
    return sql.substring(i, end).strip();
  }

  /** Where an unclosed quote opens, or -1. */
  private static int unclosedQuote(String sql) {
    int n = sql.length();
    int i = 0;
    while (i < n) {
      char c = sql.charAt(i);
      if (c == '/' && sql.startsWith("/*", i)) {
        int end = sql.indexOf("*/", i + 2);
        i = end < 0 ? n : end + 2;
      } else if (c == '#' || c == '-' && sql.startsWith("--", i)) {
        int end = sql.indexOf('\n', i);
        i = end < 0 ? n : end + 1;
      } else if (c == '\'' || c == '"' || c == '`') {
        int end = MySqlSyntax.closeQuote(sql, i, c);
        if (end < 0) {
          return i;
        }
        i = end;
      } else {
        i++;
      }
    }
    return -1;
  }

  /** The offset of a 1-based (line, column) of text; a tab counts as one column. */
  static int offset(String text, int line, int column) {
    int offset = 0;
    for (int l = 1; l < line; l++) {
      int nl = text.indexOf('\n', offset);
      if (nl < 0) {
        return text.length();
      }
      offset = nl + 1;
    }
    return Math.min(text.length(), offset + Math.max(0, column - 1));
  }
}
