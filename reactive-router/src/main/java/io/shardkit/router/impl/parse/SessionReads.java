package io.shardkit.router.impl.parse;

import io.shardkit.router.UnsupportedSqlException;
import java.util.List;
import java.util.Set;

/**
 * Functions and variables whose value belongs to one connection of one server: on a sharded pool
 * the statement would run on whichever pooled connection of whichever shard the route picks, so
 * {@code SELECT LAST_INSERT_ID()} after an INSERT answers with another connection's id, {@code
 * GET_LOCK} takes a lock that stays with a pooled connection, {@code @x} reads a variable nobody
 * set there. Found among {@link MySqlSyntax}'s tokens (outside quotes and comments) before parsing;
 * refused by name.
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

  /** As {@link #find(List)}, over the statement's tokens. */
  static String find(String sql) {
    return find(MySqlSyntax.tokens(sql));
  }

  /**
   * The first per-connection function call ({@code NAME(}, not qualified) or user variable ({@code
   * @name}; a system variable {@code @@name} is read from the shard the statement routes to), as
   * written, or null.
   */
  static String find(List<MySqlSyntax.Token> tokens) {
    for (int i = 0; i < tokens.size(); i++) {
      MySqlSyntax.Token t = tokens.get(i);
      if (!t.word()) {
        continue;
      }
      if (t.text().startsWith("@") && !t.text().startsWith("@@")) {
        return t.text();
      }
      if (FUNCTIONS.contains(t.upper())
          && i + 1 < tokens.size()
          && tokens.get(i + 1).text().equals("(")
          && !(i > 0 && tokens.get(i - 1).text().equals("."))) {
        return t.text() + "()";
      }
    }
    return null;
  }

  static UnsupportedSqlException refusal(String found) {
    return new UnsupportedSqlException(
        List.of(),
        StatementParser.quote(found)
            + " belongs to one connection of one server: on a sharded pool the statement runs on"
            + " whichever pooled connection of whichever shard it routes to, so it would read or"
            + " hold another connection's state; read a generated key from the INSERT's result"
            + " (MySQLClient.LAST_INSERTED_ID), pass values as parameters, and run"
            + " connection-bound SQL on one shard's pool(ds)");
  }
}
