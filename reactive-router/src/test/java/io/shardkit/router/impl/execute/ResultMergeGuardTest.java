package io.shardkit.router.impl.execute;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardkit.router.ResultMergeException;
import io.shardkit.router.UnsupportedSqlException;
import io.shardkit.router.impl.Fixtures;
import io.shardkit.router.impl.rewrite.Rewriter;
import io.shardkit.router.impl.rewrite.SqlUnit;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What the caller gets when combining the units' answers fails, without a database. */
class ResultMergeGuardTest {

  private static List<String> dataSources(Rewriter.Routed routed) {
    return routed.units().stream().map(SqlUnit::dataSource).toList();
  }

  @Test
  void anUnexpectedExceptionInAReadsMergeIsTypedAndNamesTheStatementAndItsDataSources() {
    String sql = "SELECT user_id, COUNT(*) FROM t_order GROUP BY user_id ORDER BY user_id";
    Rewriter.Routed routed = Fixtures.routed(Fixtures.rules(), sql);
    ClassCastException bug = new ClassCastException("Long cannot be cast to String");

    assertThatThrownBy(
            () ->
                StatementRunner.combined(
                    routed,
                    dataSources(routed),
                    () -> {
                      throw bug;
                    }))
        .isInstanceOf(ResultMergeException.class)
        .hasCause(bug)
        .hasMessageContaining(sql)
        .hasMessageContaining("ClassCastException: Long cannot be cast to String")
        .hasMessageContaining("nothing was changed")
        .satisfies(
            e -> {
              ResultMergeException typed = (ResultMergeException) e;
              assertThat(typed.sql()).isEqualTo(sql);
              assertThat(typed.dataSources())
                  .as("each data source once, in the units' order")
                  .containsExactlyElementsOf(dataSources(routed).stream().distinct().toList())
                  .hasSizeGreaterThan(1);
            });
  }

  @Test
  void aWritesMessageSaysItsWritesAreNotUndone() {
    String sql = "UPDATE t_order SET status = ? WHERE order_id > ?";
    Rewriter.Routed routed = Fixtures.routed(Fixtures.rules(), sql, "x", 1);

    assertThatThrownBy(
            () ->
                StatementRunner.combined(
                    routed,
                    dataSources(routed),
                    () -> {
                      throw new NullPointerException();
                    }))
        .isInstanceOf(ResultMergeException.class)
        .hasMessageContaining("(NullPointerException)")
        .hasMessageContaining("writes are not undone");
  }

  @Test
  void shardkitsOwnRefusalsPassUnchanged() {
    Rewriter.Routed routed =
        Fixtures.routed(Fixtures.rules(), "SELECT MAX(status) FROM t_order HAVING MAX(status) > 1");
    UnsupportedSqlException refusal = new UnsupportedSqlException(List.of("t_order"), "refused");

    assertThatThrownBy(
            () ->
                StatementRunner.combined(
                    routed,
                    dataSources(routed),
                    () -> {
                      throw refusal;
                    }))
        .isSameAs(refusal);
  }

  @Test
  void aSuccessfulCombinationIsReturnedAsIs() {
    Rewriter.Routed routed = Fixtures.routed(Fixtures.rules(), "SELECT * FROM t_order");

    assertThat(StatementRunner.combined(routed, dataSources(routed), () -> "rows"))
        .isEqualTo("rows");
  }
}
