package io.shardkit.router.impl.parse;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardkit.router.UnsupportedSqlException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Per-connection state read or taken through a sharded pool: {@code SELECT LAST_INSERT_ID()} after
 * an INSERT routed to a shard (it routed to ds_0's next pooled connection and answered with its
 * id), {@code FOUND_ROWS()}, {@code ROW_COUNT()}, {@code CONNECTION_ID()}, named locks, user
 * variables. Refused by name before parsing, with the user's text; the same words inside strings,
 * comments, quoted identifiers or as column names pass.
 */
class SessionReadsTest {

  @ParameterizedTest
  @ValueSource(
      strings = {
        "SELECT LAST_INSERT_ID()",
        "select last_insert_id ()",
        "SELECT * FROM t_order WHERE order_id = LAST_INSERT_ID()",
        "SELECT FOUND_ROWS()",
        "SELECT ROW_COUNT()",
        "SELECT CONNECTION_ID()",
        "SELECT GET_LOCK('a', 1)",
        "SELECT RELEASE_LOCK('a')",
        "SELECT * FROM t_order WHERE user_id = @uid",
        "SELECT @x",
        "UPDATE t_order SET status = @s WHERE order_id = 1"
      })
  void isRefusedNamingIt(String sql) {
    assertThatThrownBy(() -> StatementParser.parse(sql))
        .isInstanceOf(UnsupportedSqlException.class)
        .hasMessageContaining("belongs to one connection of one server");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "SELECT 'LAST_INSERT_ID()', \"@x\" FROM t_order",
        "SELECT * FROM t_order WHERE status = 'zoe@example.com'",
        "SELECT /* LAST_INSERT_ID() */ order_id FROM t_order",
        "SELECT `found_rows` FROM t_order",
        "SELECT t.row_count FROM t_order t",
        "SELECT @@sql_mode",
        "SELECT my_last_insert_id(1) FROM t_order"
      })
  void theSameWordsElsewherePass(String sql) {
    assertThat(SessionReads.find(sql)).isNull();
  }
}
