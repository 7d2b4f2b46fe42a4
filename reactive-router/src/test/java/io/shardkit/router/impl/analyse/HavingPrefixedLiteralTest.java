package io.shardkit.router.impl.analyse;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardkit.router.UnsupportedSqlException;
import io.shardkit.router.impl.Fixtures;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * HAVING with a bit-value literal ({@code b'101'}: 5 next to a number or BIT value, the byte 0x05
 * next to a string) or a character-set introducer ({@code _binary'5'}, {@code _latin1'x'}): the
 * merge read {@code b'101'} as the string "101" (the fuzzer's seed 47: a BIT group key 5 = b'101'
 * dropped, 17 BETWEEN 0 AND b'101' kept). Refused across data nodes, as X'05' already is; on one
 * data node the server evaluates it.
 */
class HavingPrefixedLiteralTest {

  @ParameterizedTest
  @ValueSource(
      strings = {
        "SELECT status, COUNT(*) FROM t_order GROUP BY status HAVING status = b'101'",
        "SELECT status, COUNT(*) FROM t_order GROUP BY status HAVING COUNT(*) BETWEEN 0 AND B'101'",
        "SELECT status, COUNT(*) FROM t_order GROUP BY status HAVING status > _binary'a'",
        "SELECT status, COUNT(*) FROM t_order GROUP BY status HAVING status IN (_latin1'x', 'y')"
      })
  void isRefusedAcrossDataNodesAndRunsOnOne(String sql) {
    assertThatThrownBy(() -> Fixtures.route(Fixtures.rules(), sql, (Object[]) null))
        .isInstanceOf(UnsupportedSqlException.class)
        .hasMessageContaining("bit-value or character-set literal");
    String pinned = sql.replace("GROUP BY", "WHERE user_id = 1 AND order_id = 2 GROUP BY");
    assertThat(Fixtures.route(Fixtures.rules(), pinned, (Object[]) null)).hasSize(1);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "SELECT status, COUNT(*) FROM t_order GROUP BY status HAVING status = N'x'",
        "SELECT status, COUNT(*) FROM t_order GROUP BY status HAVING status = 'x'"
      })
  void aNationalOrPlainStringIsMerged(String sql) {
    assertThat(Fixtures.route(Fixtures.rules(), sql, (Object[]) null)).hasSizeGreaterThan(1);
  }
}
