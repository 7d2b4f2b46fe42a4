package io.shardkit.router.impl.parse;

import io.shardkit.router.UnsupportedSqlException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * MySQL syntax JSqlParser 5.4 does not read, handled before parsing: rewritten to an exactly
 * equivalent form, or refused by name (instead of a parse error that names parser internals).
 *
 * <ul>
 *   <li>{@code a MOD b} becomes {@code a % b}: the same operator at the same precedence ({@code
 *       MOD} is a reserved word, so it is never an identifier; {@code MOD(a, b)} is left alone).
 *   <li>{@code BINARY x}, where {@code x} is a column, a literal or a parenthesised expression and
 *       {@code BINARY} stands where an operand is expected, becomes {@code CAST(x AS BINARY)},
 *       which MySQL documents as its meaning. Other operands are refused with a message saying to
 *       write the CAST.
 *   <li>Refused by name: {@code LOCK IN SHARE MODE}, {@code SELECT HIGH_PRIORITY}, {@code SELECT
 *       ... INTO OUTFILE / DUMPFILE / @variable}.
 * </ul>
 *
 * Words are matched outside quotes and comments only. {@link #originalOffset} maps a position of
 * the rewritten text back to the text as written, so parse errors point at the user's SQL.
 */
final class MySqlSyntax {

  /** Where an operand may follow: after these words or characters BINARY is the operator. */
  private static final Set<String> BEFORE_OPERAND =
      Set.of(
          "WHERE",
          "AND",
          "OR",
          "XOR",
          "NOT",
          "BY",
          "ON",
          "HAVING",
          "WHEN",
          "THEN",
          "ELSE",
          "SELECT",
          "DISTINCT",
          "LIKE",
          "REGEXP",
          "RLIKE",
          "IN",
          "BETWEEN",
          "RETURN",
          ",",
          "(",
          "=",
          "<",
          ">",
          "!",
          "+",
          "-",
          "*",
          "/",
          "%",
          "|",
          "&",
          "^",
          "~");

  /** Words after BINARY that start an expression longer than one operand. */
  private static final Set<String> NOT_OPERAND =
      Set.of("CASE", "NOT", "INTERVAL", "EXISTS", "SELECT", "BINARY", "DISTINCT", "ROW");

  private final String text;
  private final int[] editStarts;
  private final int[] editEnds;
  private final int[] origStarts;
  private final int[] origEnds;

  private MySqlSyntax(String text, List<int[]> edits) {
    this.text = text;
    int n = edits.size();
    editStarts = new int[n];
    editEnds = new int[n];
    origStarts = new int[n];
    origEnds = new int[n];
    for (int i = 0; i < n; i++) {
      int[] e = edits.get(i);
      origStarts[i] = e[0];
      origEnds[i] = e[1];
      editStarts[i] = e[2];
      editEnds[i] = e[3];
    }
  }

  /** The text to parse: {@code sql} itself when nothing needed rewriting. */
  String text() {
    return text;
  }

  /** The position in the text as written of a position in {@link #text()}. */
  int originalOffset(int offset) {
    int shift = 0;
    for (int i = 0; i < editStarts.length; i++) {
      if (offset < editStarts[i]) {
        break;
      }
      if (offset < editEnds[i]) {
        return origStarts[i];
      }
      shift = origEnds[i] - editEnds[i];
    }
    return offset + shift;
  }

  /**
   * Rewrites or refuses; throws {@link UnsupportedSqlException} for a construct refused by name.
   */
  static MySqlSyntax prepare(String sql) {
    List<Token> tokens = tokens(sql);
    if (tokens.isEmpty()) {
      return new MySqlSyntax(sql, List.of());
    }
    String first = tokens.get(0).upper;
    StringBuilder out = null;
    List<int[]> edits = new ArrayList<>();
    int copied = 0;
    for (int i = 0; i < tokens.size(); i++) {
      Token t = tokens.get(i);
      if (!t.word) {
        continue;
      }
      switch (t.upper) {
        case "LOCK" -> {
          if (followedBy(tokens, i, "IN", "SHARE", "MODE")) {
            throw refusal(
                sql,
                t,
                tokens.get(i + 3),
                "SELECT ... LOCK IN SHARE MODE cannot be read by the router's SQL parser: write"
                    + " FOR SHARE on MySQL 8.0+; MariaDB has no FOR SHARE, so there use FOR UPDATE"
                    + " or run the statement on one shard's pool(ds)");
          }
        }
        case "HIGH_PRIORITY" -> {
          if (first.equals("SELECT") || first.equals("WITH")) {
            throw refusal(
                sql,
                t,
                t,
                "SELECT HIGH_PRIORITY cannot be read by the router's SQL parser: remove"
                    + " HIGH_PRIORITY (it only changes the order of table-level locks)");
          }
        }
        case "INTO" -> {
          Token next = i + 1 < tokens.size() ? tokens.get(i + 1) : null;
          if (next != null && (next.upper.equals("OUTFILE") || next.upper.equals("DUMPFILE"))) {
            throw refusal(
                sql,
                t,
                i + 2 < tokens.size() ? tokens.get(i + 2) : next,
                "SELECT ... INTO "
                    + next.upper
                    + " is not supported on a sharded pool: each shard would write its own file"
                    + " on its own server");
          }
          if (next != null && next.text.startsWith("@")) {
            throw refusal(
                sql,
                t,
                next,
                "SELECT ... INTO @variable is not supported on a sharded pool: a user variable is"
                    + " session state of one pooled connection on one shard; read the row instead");
          }
        }
        case "MOD" -> {
          // the operator follows an operand; MOD(a, b) (after WHERE, a comma, ...) is the function
          if (i > 0 && !BEFORE_OPERAND.contains(tokens.get(i - 1).upper)) {
            if (out == null) {
              out = new StringBuilder(sql.length());
            }
            out.append(sql, copied, t.start);
            edits.add(new int[] {t.start, t.end, out.length(), out.length() + 1});
            out.append('%');
            copied = t.end;
          }
        }
        case "BINARY" -> {
          if (i == 0 || !BEFORE_OPERAND.contains(tokens.get(i - 1).upper)) {
            break;
          }
          Token operand = i + 1 < tokens.size() ? tokens.get(i + 1) : null;
          if (operand == null
              || !operand.word && !operand.quoted && !operand.text.equals("(")
              || tokens.get(i - 1).text.equals(",") && operand.text.equals("(")) {
            break; // the type BINARY: CONVERT(x, BINARY), CONVERT(x, BINARY(4))
          }
          int end = operandEnd(tokens, i + 1);
          if (end < 0) {
            Token last = tokens.get(Math.min(i + 1, tokens.size() - 1));
            throw refusal(
                sql,
                t,
                last,
                "BINARY before an expression other than a column, a literal or a parenthesised"
                    + " expression cannot be read by the router's SQL parser: write CAST(expression"
                    + " AS BINARY), which is what BINARY means");
          }
          if (out == null) {
            out = new StringBuilder(sql.length() + 16);
          }
          Token operandFirst = tokens.get(i + 1);
          Token operandLast = tokens.get(end);
          out.append(sql, copied, t.start);
          int editStart = out.length();
          out.append("CAST(")
              .append(sql, operandFirst.start, operandLast.end)
              .append(" AS BINARY)");
          edits.add(new int[] {t.start, operandLast.end, editStart, out.length()});
          copied = operandLast.end;
          i = end;
        }
        default -> {}
      }
    }
    String session = SessionReads.find(tokens);
    if (session != null) {
      throw SessionReads.refusal(session);
    }
    if (out == null) {
      return new MySqlSyntax(sql, List.of());
    }
    return new MySqlSyntax(out.append(sql, copied, sql.length()).toString(), edits);
  }

  /**
   * The index of the last token of a simple operand starting at {@code i} (a qualified column, a
   * literal, a parenthesised expression), or -1 when what follows is not one.
   */
  private static int operandEnd(List<Token> tokens, int i) {
    if (i >= tokens.size()) {
      return -1;
    }
    Token t = tokens.get(i);
    int end;
    if (t.text.equals("(")) {
      int depth = 0;
      end = -1;
      for (int k = i; k < tokens.size(); k++) {
        String s = tokens.get(k).text;
        if (s.equals("(")) {
          depth++;
        } else if (s.equals(")") && --depth == 0) {
          end = k;
          break;
        }
      }
      if (end < 0) {
        return -1;
      }
    } else if (t.quoted || t.word && !NOT_OPERAND.contains(t.upper)) {
      end = i;
      if (t.word
          && i + 1 < tokens.size()
          && tokens.get(i + 1).quoted
          && tokens.get(i + 1).start == t.end) {
        return literalEnd(tokens, i + 1); // _utf8mb4'x', X'0A', b'1', N'x'
      }
      // qualified names: a.b, `a`.`b`
      while (end + 2 < tokens.size()
          && tokens.get(end + 1).text.equals(".")
          && tokens.get(end + 1).start == tokens.get(end).end
          && (tokens.get(end + 2).word || tokens.get(end + 2).quoted)) {
        end += 2;
      }
    } else {
      return -1;
    }
    Token after = end + 1 < tokens.size() ? tokens.get(end + 1) : null;
    if (after != null && after.text.equals("(")) {
      return -1; // a function call
    }
    return literalEnd(tokens, end);
  }

  /** {@code end}, or -1 when a COLLATE follows (BINARY x COLLATE y: not wrapped, to be safe). */
  private static int literalEnd(List<Token> tokens, int end) {
    Token after = end + 1 < tokens.size() ? tokens.get(end + 1) : null;
    return after != null && after.upper.equals("COLLATE") ? -1 : end;
  }

  private static boolean followedBy(List<Token> tokens, int i, String... words) {
    for (int k = 0; k < words.length; k++) {
      if (i + 1 + k >= tokens.size() || !tokens.get(i + 1 + k).upper.equals(words[k])) {
        return false;
      }
    }
    return true;
  }

  private static UnsupportedSqlException refusal(String sql, Token from, Token to, String reason) {
    String fragment = sql.substring(from.start, Math.max(from.end, to.end));
    return new UnsupportedSqlException(List.of(), reason + " (at \"" + fragment + "\")");
  }

  /** A word, a quoted string or identifier, or one punctuation character. */
  record Token(int start, int end, String text, String upper, boolean word, boolean quoted) {}

  /** Tokens outside comments; quoted strings and identifiers are single tokens. */
  static List<Token> tokens(String sql) {
    List<Token> out = new ArrayList<>();
    int n = sql.length();
    int i = 0;
    while (i < n) {
      char c = sql.charAt(i);
      if (Character.isWhitespace(c)) {
        i++;
      } else if (c == '/' && sql.startsWith("/*", i)) {
        int end = sql.indexOf("*/", i + 2);
        i = end < 0 ? n : end + 2;
      } else if (c == '#' || c == '-' && sql.startsWith("--", i)) {
        int end = sql.indexOf('\n', i);
        i = end < 0 ? n : end + 1;
      } else if (c == '\'' || c == '"' || c == '`') {
        int end = skipQuoted(sql, i, c);
        String s = sql.substring(i, end);
        out.add(new Token(i, end, s, s, false, true));
        i = end;
      } else if (isWordChar(c) || c == '@') {
        int end = i + 1;
        while (end < n && (isWordChar(sql.charAt(end)) || sql.charAt(end) == '@')) {
          end++;
        }
        String s = sql.substring(i, end);
        out.add(new Token(i, end, s, s.toUpperCase(Locale.ROOT), true, false));
        i = end;
      } else {
        String s = String.valueOf(c);
        out.add(new Token(i, i + 1, s, s, false, false));
        i++;
      }
    }
    return out;
  }

  private static boolean isWordChar(char c) {
    return Character.isLetterOrDigit(c) || c == '_' || c == '$';
  }

  /** The index just past the literal opened by {@code quote} at {@code start} (or the end). */
  static int skipQuoted(String sql, int start, char quote) {
    int end = closeQuote(sql, start, quote);
    return end < 0 ? sql.length() : end;
  }

  /** The index just past the quote closing the one at {@code start}, or -1 if none does. */
  static int closeQuote(String sql, int start, char quote) {
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
    return -1;
  }
}
