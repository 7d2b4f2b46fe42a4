package io.shardkit.router;

/**
 * The SQL text could not be parsed (malformed, or a MySQL construct the parser does not know). It
 * is a kind of {@link UnsupportedSqlException}: the statement was refused before any I/O. The
 * message says where, in the statement as written: {@code cannot parse SQL near "FORM t_order
 * WHERE" (line 1, column 10): SELECT * FORM t_order WHERE ...}; {@link #line()} and {@link
 * #column()} give the position (1-based; 0 when unknown). The parser's exception, if any, is the
 * cause.
 */
public class SqlParseException extends UnsupportedSqlException {

  private static final long serialVersionUID = 1L;

  private static final int MAX_SQL = 200;

  private final int line;
  private final int column;

  /**
   * A parse failure at a position of {@code sql}.
   *
   * @param sql the statement as the caller wrote it
   * @param line 1-based line of the failure, 0 when unknown
   * @param column 1-based column of the failure, 0 when unknown
   * @param near the text at the failure (a few words of {@code sql}), or null at its end
   * @param reason what is wrong, in the user's terms, or null
   * @param cause the parser's exception, or null
   */
  public SqlParseException(
      String sql, int line, int column, String near, String reason, Throwable cause) {
    super(message(sql, line, column, near, reason), cause);
    this.line = line;
    this.column = column;
  }

  /** A parse failure without a position (e.g. an empty statement). */
  public SqlParseException(String sql, String reason) {
    this(sql, 0, 0, "", reason, null);
  }

  /** 1-based line of the failure in the statement, 0 when unknown. */
  public int line() {
    return line;
  }

  /** 1-based column of the failure in the statement, 0 when unknown. */
  public int column() {
    return column;
  }

  private static String message(String sql, int line, int column, String near, String reason) {
    StringBuilder b = new StringBuilder("cannot parse SQL");
    if (near == null) {
      b.append(" at its end");
    } else if (!near.isEmpty()) {
      b.append(" near \"").append(near).append('"');
    }
    if (line > 0) {
      b.append(" (line ").append(line).append(", column ").append(column).append(')');
    }
    if (reason != null && !reason.isEmpty()) {
      b.append(": ").append(reason);
    }
    return b.append(": ").append(abbreviate(sql)).toString();
  }

  private static String abbreviate(String sql) {
    String oneLine = sql.strip();
    return oneLine.length() <= MAX_SQL ? oneLine : oneLine.substring(0, MAX_SQL) + " ...";
  }
}
