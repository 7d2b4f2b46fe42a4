package io.shardkit.router.impl.parse;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardkit.router.impl.Fixtures;
import io.shardkit.router.impl.rewrite.SqlUnit;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Double-quoted MySQL strings that JSqlParser would not print back as read, without a database. */
class DoubleQuotedStringsTest {

  @Test
  void escapedOrDoubledQuotesBecomeSingleQuotedStringsOfTheSameValue() {
    assertThat(DoubleQuotedStrings.normalise("SELECT * FROM t WHERE s = \"\\\"\""))
        .isEqualTo("SELECT * FROM t WHERE s = '\"'");
    assertThat(DoubleQuotedStrings.normalise("SELECT \"a\"\"b\", \"it's\\n\""))
        .isEqualTo("SELECT 'a\"b', \"it's\\n\"".replace("\"it's\\n\"", "'it\\'s\\n'"));
  }

  @Test
  void plainDoubleQuotesQuotedTextAndCommentsAreLeftAlone() {
    String plain = "SELECT \"t_order\".x FROM t WHERE s = \"init\"";
    String inSingle = "SELECT '\"\\\"\"' FROM t";
    String inComment = "SELECT 1 /* \"\\\"\" */ FROM t";

    assertThat(DoubleQuotedStrings.normalise(plain)).isSameAs(plain);
    assertThat(DoubleQuotedStrings.normalise(inSingle)).isSameAs(inSingle);
    assertThat(DoubleQuotedStrings.normalise(inComment)).isSameAs(inComment);
  }

  @Test
  void aScatterQueryWithAnEscapedDoubleQuoteIsRoutedInsteadOfRefused() {
    List<SqlUnit> actual =
        Fixtures.route(
            Fixtures.rules(), "SELECT * FROM t_order where status=\"\\\"\"", (Object[]) null);

    assertThat(actual).hasSize(8);
    assertThat(actual.get(0).sql()).isEqualTo("SELECT * FROM t_order_0 WHERE status = '\"'");
  }
}
