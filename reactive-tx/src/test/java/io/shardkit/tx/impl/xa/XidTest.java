package io.shardkit.tx.impl.xa;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.buffer.Buffer;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The xid layout, without a database. */
class XidTest {

  @Test
  void writesGtridAndBqualAsHexWithTheShardkitFormatId() {
    Xid xid = new Xid("G1", "ds_0", 0x1aL);
    String expectedSql = "X'4731',X'" + hex("ds_0@1a") + "',21323";
    assertThat(xid.sql()).isEqualTo(expectedSql);
  }

  @Test
  void readsBackWhatXaRecoverReturns() {
    Xid expected = new Xid("01J9ABCDEF", "ds_12", 1_732_000_000_123L);
    String bqual = "ds_12@" + Long.toHexString(1_732_000_000_123L);
    Buffer data = Buffer.buffer("01J9ABCDEF" + bqual);
    Optional<Xid> actual = Xid.fromRecover(Xid.FORMAT_ID, 10, bqual.length(), data);
    assertThat(actual).contains(expected);
  }

  @Test
  void ignoresOtherFormatIdsAndForeignBquals() {
    Buffer data = Buffer.buffer("gtridds_0@1a");
    assertThat(Xid.fromRecover(1, 5, 7, data)).isEmpty();
    Buffer noDeadline = Buffer.buffer("gtridplainbqual");
    assertThat(Xid.fromRecover(Xid.FORMAT_ID, 5, 10, noDeadline)).isEmpty();
    Buffer notHex = Buffer.buffer("gtridds_0@zz");
    assertThat(Xid.fromRecover(Xid.FORMAT_ID, 5, 7, notHex)).isEmpty();
    assertThat(Xid.fromRecover(Xid.FORMAT_ID, 5, 40, notHex)).isEmpty();
  }

  @Test
  void keepsADataSourceNameContainingTheSeparator() {
    String bqual = "ds@eu@" + Long.toHexString(99);
    Optional<Xid> actual =
        Xid.fromRecover(Xid.FORMAT_ID, 1, bqual.length(), Buffer.buffer("g" + bqual));
    assertThat(actual).contains(new Xid("g", "ds@eu", 99));
  }

  @Test
  void rejectsADataSourceNameTooLongForTheBqual() {
    String longName = "d".repeat(Xid.maxDataSourceLength() + 1);
    assertThatThrownBy(() -> new Xid("g", longName, Long.MAX_VALUE))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(longName);
    assertThat(new Xid("g", "d".repeat(Xid.maxDataSourceLength()), Long.MAX_VALUE).sql())
        .isNotEmpty();
  }

  @Test
  void aBranchDecidedOnAParticipantNamesItInTheBqualUnderItsOwnFormatId() {
    Xid xid = new Xid("G1", "ds_0", 0x1aL, "ds_1");
    assertThat(xid.sql()).isEqualTo("X'4731',X'" + hex("ds_0@1a@ds_1") + "',21313");
    String bqual = "ds_0@1a@ds_1";
    assertThat(
            Xid.fromRecover(
                Xid.DECIDED_ON_FORMAT_ID, 2, bqual.length(), Buffer.buffer("G1" + bqual)))
        .contains(xid);
    assertThat(Xid.of(Xid.DECIDED_ON_FORMAT_ID, "G1", bqual)).contains(xid);
    // the same bqual under the log's format id is a data source named "ds_0@1a"
    assertThat(Xid.of(Xid.FORMAT_ID, "G1", bqual)).isEmpty();
    assertThat(Xid.fromPgGid(xid.pgGid())).contains(xid);
    assertThat(xid.pgGid()).isEqualTo("sa/G1/ds_0@1a@ds_1");
  }

  @Test
  void aParticipantDecisionNeedsNamesThatFitAndHaveNoSeparator() {
    assertThat(Xid.canDecideOn("ds_0", "ds_1")).isTrue();
    assertThat(Xid.canDecideOn("d".repeat(23), "e".repeat(23))).isTrue();
    assertThat(Xid.canDecideOn("d".repeat(23), "e".repeat(24))).isFalse();
    assertThat(Xid.canDecideOn("ds@eu", "ds_1")).isFalse();
    assertThatThrownBy(() -> new Xid("g", "ds@eu", 1, "ds_1"))
        .isInstanceOf(IllegalArgumentException.class);
    Buffer missingDecider = Buffer.buffer("gds_0@1a@");
    assertThat(Xid.fromRecover(Xid.DECIDED_ON_FORMAT_ID, 1, 8, missingDecider)).isEmpty();
  }

  private static String hex(String s) {
    return java.util.HexFormat.of().formatHex(s.getBytes(StandardCharsets.UTF_8));
  }
}
