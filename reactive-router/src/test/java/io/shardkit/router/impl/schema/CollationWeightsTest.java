package io.shardkit.router.impl.schema;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HexFormat;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Sort keys from per-character weights, without a database. The weights are the ones MariaDB 10.11
 * and 11.4 return ({@code HEX(WEIGHT_STRING(...))}, quoted next to each table); {@link
 * CollationWeightsDbTest} compares whole tables with the server.
 */
class CollationWeightsTest {

  static final HexFormat HEX = HexFormat.of().withUpperCase();

  static CollationWeights table(String collation, Map<Integer, String> weights, String beyond) {
    CollationWeights.Builder b = new CollationWeights.Builder(collation);
    weights.forEach((cp, hex) -> b.weight(cp, HEX.parseHex(hex)));
    if (beyond != null) {
      for (int p : CollationWeights.PROBES) {
        b.weight(p, beyond.equals("cp") ? cp3(p) : HEX.parseHex(beyond));
      }
    }
    return b.build();
  }

  static byte[] cp3(int cp) {
    return new byte[] {(byte) (cp >> 16), (byte) (cp >> 8), (byte) cp};
  }

  static String key(CollationWeights w, String text) {
    byte[] k = w.sortKey(text, false);
    return k == null ? null : HEX.formatHex(k);
  }

  // WEIGHT_STRING(... COLLATE utf8mb4_general_ci): 'a ' = 00410020, 'Zoë' = 005A004F0045,
  // 'ß' = 0053, '😀' and '𠀀' = FFFD
  static final Map<Integer, String> GENERAL_CI =
      Map.ofEntries(
          Map.entry((int) ' ', "0020"),
          Map.entry((int) 'a', "0041"),
          Map.entry((int) 'A', "0041"),
          Map.entry((int) 'e', "0045"),
          Map.entry((int) 'E', "0045"),
          Map.entry((int) 'ë', "0045"),
          Map.entry((int) 'o', "004F"),
          Map.entry((int) 'O', "004F"),
          Map.entry((int) 'z', "005A"),
          Map.entry((int) 'Z', "005A"),
          Map.entry((int) 'ß', "0053"),
          Map.entry((int) 's', "0053"));

  @Test
  void generalCiFoldsCaseAndAccentsAndDropsTrailingSpaces() {
    CollationWeights w = table("utf8mb4_general_ci", GENERAL_CI, "FFFD");
    assertThat(key(w, "Zoë")).isEqualTo("005A004F0045");
    assertThat(key(w, "zoe")).isEqualTo("005A004F0045");
    assertThat(key(w, "ZOE   ")).isEqualTo("005A004F0045");
    // general_ci: 'ß' = 's' (one weight), not 'ss'
    assertThat(key(w, "ß")).isEqualTo(key(w, "s")).isNotEqualTo(key(w, "ss"));
    // every supplementary character weighs U+FFFD's weight: 'a😀' = 'a𠀀' on the server
    assertThat(key(w, "a😀")).isEqualTo("0041FFFD").isEqualTo(key(w, "a\uD840\uDC00"));
    // a character the server did not give (here: not in the table) has no key
    assertThat(key(w, "zoé?")).isNull();
    assertThat(key(w, "a\uD800")).as("unpaired surrogate").isNull();
    assertThat(key(w, "")).isEqualTo("");
    assertThat(key(w, "   ")).isEqualTo("");
  }

  @Test
  void noPadKeepsTrailingSpacesExceptForCharColumns() {
    CollationWeights w = table("utf8mb4_general_nopad_ci", GENERAL_CI, "FFFD");
    assertThat(key(w, "a ")).isEqualTo("00410020");
    assertThat(key(w, "a")).isEqualTo("0041");
    // a CHAR column stores 'a ' as 'a'
    assertThat(HEX.formatHex(w.sortKey("a  ", true))).isEqualTo("0041");
  }

  // WEIGHT_STRING(... COLLATE utf8mb4_uca1400_ai_ci): ' ' and U+00A0 = 0209, 'a' = 'A' = 2075,
  // 'e' = 'ë' = 20DB, 'ß' = 22B622B6, 's' = 22B6, '😀' = 196C, U+0000 = '' (ignorable),
  // 'L' = 21B0, '·' = 0296 but 'L·' = 21B0 (a contraction), 'เ' = 3373, 'ก' = 3339, 'เก' = 33393373
  static final Map<Integer, String> UCA1400 =
      Map.ofEntries(
          Map.entry((int) ' ', "0209"),
          Map.entry(0xA0, "0209"),
          Map.entry((int) 'a', "2075"),
          Map.entry((int) 'A', "2075"),
          Map.entry((int) 'e', "20DB"),
          Map.entry((int) 'ë', "20DB"),
          Map.entry((int) 'ß', "22B622B6"),
          Map.entry((int) 's', "22B6"),
          Map.entry(0x1F600, "196C"),
          Map.entry(0, ""),
          Map.entry((int) 'L', "21B0"),
          Map.entry(0xB7, "0296"),
          Map.entry(0x0E40, "3373"),
          Map.entry(0x0E01, "3339"),
          Map.entry(0x0301, ""));

  @Test
  void ucaExpandsIgnoresAndPadsWithEveryCharacterThatWeighsAsASpace() {
    CollationWeights w = table("utf8mb4_uca1400_ai_ci", UCA1400, null);
    assertThat(key(w, "ß")).isEqualTo("22B622B6").isEqualTo(key(w, "ss"));
    assertThat(key(w, "aë")).isEqualTo(key(w, "Ae"));
    // U+00A0 weighs as a space: 'a' = 'a\u00A0' on the server (PAD SPACE)
    assertThat(key(w, "a\u00A0")).isEqualTo("2075").isEqualTo(key(w, "a "));
    assertThat(key(w, "a\u0000")).isEqualTo("2075");
    assertThat(key(w, "a😀")).isEqualTo("2075196C");
    // planes beyond the table: unknown (the server gives CJK extension B implicit weights)
    assertThat(key(w, "a\uD840\uDC00")).isNull();
  }

  @Test
  void charactersThatMayContractHaveNoKey() {
    CollationWeights w = table("utf8mb4_uca1400_ai_ci", UCA1400, null);
    // the server: 'L·' = 21B0, not 21B0 0296; 'เก' = 3339 3373, not 3373 3339
    assertThat(key(w, "L·")).isNull();
    assertThat(key(w, "\u0E40\u0E01")).isNull();
    assertThat(key(w, "e\u0301")).as("combining mark").isNull();
    assertThat(key(w, "L")).isEqualTo("21B0");
    // general_ci has no contractions: the same characters are keyed there
    CollationWeights g =
        table("utf8mb4_general_ci", Map.of(32, "0020", 0xB7, "00B7", (int) 'L', "004C"), "FFFD");
    assertThat(key(g, "L·")).isEqualTo("004C00B7");
  }

  @Test
  void binKeepsCodePointsAndPadsUnlessNoPad() {
    Map<Integer, String> bin = Map.of(32, "000020", (int) 'a', "000061", (int) 'A', "000041");
    CollationWeights w = table("utf8mb4_bin", bin, "cp");
    assertThat(key(w, "a ")).isEqualTo("000061");
    assertThat(key(w, "A")).isEqualTo("000041");
    assertThat(key(w, "a😀")).isEqualTo("00006101F600");
    CollationWeights nopad = table("utf8mb4_nopad_bin", bin, "cp");
    assertThat(key(nopad, "a ")).isEqualTo("000061000020");
  }

  @Test
  void weightsThatAreNotWholeUnitsAreRejected() {
    assertThat(table("utf8mb4_general_ci", Map.of(32, "0020", (int) 'a', "004100"), null)).isNull();
    assertThat(table("utf8mb4_general_ci", Map.of((int) 'a', "0041"), null)).isNull();
  }

  @Test
  void supportedCollations() {
    assertThat(CollationWeights.supported("utf8mb4_general_ci")).isTrue();
    assertThat(CollationWeights.supported("utf8mb4_uca1400_ai_ci")).isTrue();
    assertThat(CollationWeights.supported("latin1_swedish_ci")).isTrue();
    assertThat(CollationWeights.supported("utf8mb4_uca1400_as_ci")).as("two levels").isFalse();
    assertThat(CollationWeights.supported("utf8mb4_czech_ci")).as("contractions").isFalse();
    assertThat(CollationWeights.supported("utf8mb4_0900_ai_ci")).isFalse();
    assertThat(CollationWeights.supported(null)).isFalse();
  }
}
