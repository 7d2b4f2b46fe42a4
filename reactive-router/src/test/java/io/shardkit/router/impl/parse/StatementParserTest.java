package io.shardkit.router.impl.parse;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardkit.router.SqlParseException;
import io.shardkit.router.UnsupportedSqlException;
import net.sf.jsqlparser.statement.Statement;
import org.junit.jupiter.api.Test;

class StatementParserTest {

  @Test
  void everyWarmUpStatementParsesSoTheWarmUpExercisesTheWholeParser() {
    for (String sql : StatementParser.WARM_UP) {
      Statement actual = StatementParser.parse(sql);
      assertThat(actual).as(sql).isNotNull();
    }
  }

  @Test
  void firstKeywordSkipsCommentsAndParentheses() {
    assertThat(StatementParser.firstKeyword("  /* hint */ -- c\n (select 1)")).isEqualTo("SELECT");
    assertThat(StatementParser.firstKeyword("# c\nxa start 'a'")).isEqualTo("XA");
  }

  @Test
  void transactionControlAndMalformedSqlAreRefusedWithTypedErrors() {
    assertThatThrownBy(() -> StatementParser.parse("START TRANSACTION"))
        .isInstanceOf(UnsupportedSqlException.class)
        .hasMessageContaining("withTransaction");
    assertThatThrownBy(() -> StatementParser.parse("SELEC * FRM t"))
        .isInstanceOf(SqlParseException.class);
    assertThatThrownBy(() -> StatementParser.parse("SELECT 1; SELECT 2"))
        .isInstanceOf(UnsupportedSqlException.class)
        .hasMessageContaining("several statements");
  }
}
