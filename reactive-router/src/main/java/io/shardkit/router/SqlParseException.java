package io.shardkit.router;

/**
 * The SQL text could not be parsed (malformed, or a MySQL construct the parser does not know). It
 * is a kind of {@link UnsupportedSqlException}: the statement was refused before any I/O. The
 * parser's exception is the cause and its position is in the message.
 */
public class SqlParseException extends UnsupportedSqlException {

  private static final long serialVersionUID = 1L;

  public SqlParseException(String sql, Throwable cause) {
    super("cannot parse SQL [" + abbreviate(sql) + "]: " + firstLine(cause), cause);
  }

  private static String abbreviate(String sql) {
    return sql.length() <= 200 ? sql : sql.substring(0, 200) + "...";
  }

  private static String firstLine(Throwable cause) {
    String message = String.valueOf(cause.getMessage()).strip();
    int newline = message.indexOf('\n');
    return newline < 0 ? message : message.substring(0, newline);
  }
}
