package io.shardkit.router.impl.analyse;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardkit.router.UnsupportedSqlException;
import io.shardkit.router.impl.Fixtures;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Two select items with one alias, named by ORDER BY or GROUP BY (fuzz seed 102: {@code SELECT b.id
 * AS c1, SIGN(b.c4) AS c1 ... ORDER BY c1 DESC}): one database orders by the last of them and
 * rejects the name in GROUP BY as ambiguous (1052, measured on MariaDB 11.4), where the merge
 * ordered by the first. Refused across data nodes; one data node answers it as one database does.
 */
class RepeatedAliasTest {

  @ParameterizedTest
  @ValueSource(
      strings = {
        "SELECT order_id AS x, status AS x FROM t_order ORDER BY x DESC",
        "SELECT order_id AS x, status AS x FROM t_order ORDER BY x LIMIT 3",
        "SELECT user_id AS x, COUNT(*) AS x FROM t_order GROUP BY user_id ORDER BY x"
      })
  void isRefusedAcrossDataNodes(String sql) {
    assertThatThrownBy(() -> Fixtures.route(Fixtures.rules(), sql, (Object[]) null))
        .isInstanceOf(UnsupportedSqlException.class)
        .hasMessageContaining("names two select items");
    String pin = " WHERE user_id = 1 AND order_id = 2";
    String pinned =
        sql.contains(" GROUP BY")
            ? sql.replace(" GROUP BY", pin + " GROUP BY")
            : sql.replace(" ORDER BY", pin + " ORDER BY");
    assertThat(Fixtures.route(Fixtures.rules(), pinned, (Object[]) null)).hasSize(1);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "SELECT order_id AS x, status AS x FROM t_order",
        "SELECT order_id AS x, status AS y FROM t_order ORDER BY x"
      })
  void aRepeatedAliasNobodyNamesOrDistinctAliasesAreMerged(String sql) {
    assertThat(Fixtures.route(Fixtures.rules(), sql, (Object[]) null)).hasSizeGreaterThan(1);
  }
}
