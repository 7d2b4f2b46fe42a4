package io.shardkit.router.impl.parse;

import static io.shardkit.router.impl.parse.MySqlConstructsTest.assertNoParserInternals;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.shardkit.router.SqlParseException;
import java.util.List;
import net.sf.jsqlparser.parser.ParseException;
import org.junit.jupiter.api.Test;

/** Parse failures say where the statement is wrong in the SQL as written, and nothing else. */
class ParseErrorsTest {

  private static SqlParseException failure(String sql) {
    return catchThrowableOfType(SqlParseException.class, () -> StatementParser.parse(sql));
  }

  @Test
  void aMisspelledKeywordIsReportedWhereItStands() {
    SqlParseException actual = failure("SELECT * FORM t_order WHERE user_id = 1");

    assertThat(actual)
        .hasMessage(
            "cannot parse SQL near \"FORM t_order WHERE\" (line 1, column 10):"
                + " SELECT * FORM t_order WHERE user_id = 1")
        .hasCauseInstanceOf(ParseException.class);
    assertThat(List.of(actual.line(), actual.column())).containsExactly(1, 10);
  }

  @Test
  void lineAndColumnCountInTheUsersTextAcrossLinesAndRewrites() {
    SqlParseException multiLine = failure("SELECT *\n  FROM t_order\n WHERE user_id = = 1");
    assertThat(multiLine.getMessage())
        .startsWith("cannot parse SQL near \"= 1\" (line 3, column 18)");

    // BINARY status became CAST(status AS BINARY) before parsing: the column is still the user's
    SqlParseException afterRewrite =
        failure("SELECT * FROM t_order WHERE BINARY status = 'a' AND AND user_id = 1");
    assertThat(afterRewrite.getMessage())
        .startsWith("cannot parse SQL near \"AND user_id =\" (line 1, column 53)");
  }

  @Test
  void anUnclosedQuoteIsNamedAndAnEarlyEndPointsAtTheLastWord() {
    assertThat(failure("SELECT * FROM t_order WHERE status = 'new"))
        .hasMessage(
            "cannot parse SQL near \"'new\" (line 1, column 38): this quoted string or identifier is"
                + " never closed: SELECT * FROM t_order WHERE status = 'new");
    assertThat(failure("SELECT * FROM t_order WHERE"))
        .hasMessage(
            "cannot parse SQL near \"WHERE\" (line 1, column 23): SELECT * FROM t_order WHERE");
    assertThat(failure("SELECT * FROM t_order WHERE a IN (1,"))
        .hasMessageStartingWith("cannot parse SQL near \",\" (line 1, column 36)");
  }

  @Test
  void noMessageShowsTheParsersInternals() {
    for (String sql :
        List.of(
            "SELECT * FORM t_order",
            "SELEC * FROM t_order",
            "SELECT * FROM t_order WHERE",
            "SELECT * FROM t_order WHERE a = 'x",
            "SELECT * FROM t_order WHERE a = § AND b = 1",
            "SELECT * FROM t_order WHERE status SOUNDS LIKE 'a'",
            "UPDATE t_order SET WHERE id = 1",
            "INSERT INTO t_order VALUES (1,",
            "")) {
      SqlParseException actual = failure(sql);
      assertThat(actual).as(sql).isNotNull();
      assertNoParserInternals(actual.getMessage());
    }
  }

  @Test
  void placeholdersAreCountedAsTheParsedStatementHasThem() {
    for (String sql :
        List.of(
            "SELECT * FROM t WHERE a = ? AND b IN (?, ?) LIMIT ?, ?",
            // (JSqlParser does not read # as a comment: with "# ?" the two counts differ, and the
            // planner refuses the statement because its printed SQL has one more ?)
            "SELECT '?', \"?\", `?` FROM t WHERE a = ? -- ?\n AND b = ?",
            "SELECT * FROM t /* ? */ WHERE a = 'it\\'s ?' AND b = ?",
            "INSERT INTO t (a, b) VALUES (?, ?), (?, 'x') ON DUPLICATE KEY UPDATE b = ?",
            "UPDATE t SET a = ? WHERE b = ? AND c <=> ?",
            "SELECT * FROM t WHERE a = 1")) {
      int expected = AstScan.of(StatementParser.parse(sql)).parameters().size();
      assertThat(Placeholders.count(sql)).as(sql).isEqualTo(expected);
    }
  }
}
