package io.shardkit.router.impl.schema;

import java.util.Arrays;
import java.util.BitSet;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The sort key of a string under one collation, computed in Java from per-character weights that
 * the server itself returned ({@code WEIGHT_STRING} of every character, read once per collation).
 *
 * <p>Why: a sharding function over a string column must give collation-equal values the same node
 * ({@code 'Zoë@example.com' = 'zoe@example.com'} under {@code utf8mb4_general_ci}, {@code 'a ' =
 * 'a'} under PAD SPACE). Two strings are equal in a collation exactly when their sort keys are
 * equal once trailing space weights are dropped (PAD SPACE compares the shorter key as if padded
 * with spaces), so the hash of that key is a function of the value's equivalence class. For the
 * collations accepted here the key is the concatenation of per-character weights: {@code
 * *_general_ci} and the 8-bit collations map each character to its weights, {@code _bin} to its
 * code point, and the UCA collations ({@code unicode}, {@code unicode_520}, {@code uca1400_ai})
 * expand characters but also have contractions (Thai and Lao pre-vowels, Catalan {@code l·},
 * Cyrillic letters with a breve, letters with combining marks): a string with a character that may
 * start or continue a contraction gets no key (null), and the router then reads every node or
 * refuses the INSERT. Only collations whose comparison is one level of weights are accepted.
 */
public final class CollationWeights {

  /** Collations whose sort key is a concatenation of single-level per-character weights. */
  private static final Pattern SUPPORTED =
      Pattern.compile(
          "(utf8mb4|utf8mb3|utf8)_(general_ci|general_nopad_ci|bin|nopad_bin|unicode_ci"
              + "|unicode_nopad_ci|unicode_520_ci|unicode_520_nopad_ci|uca1400_ai_ci"
              + "|uca1400_nopad_ai_ci)"
              + "|latin1_(swedish_ci|swedish_nopad_ci|general_ci|general_nopad_ci|general_cs|bin"
              + "|nopad_bin)"
              + "|ascii_(general_ci|general_nopad_ci|bin|nopad_bin)");

  private final String collation;
  private final boolean padSpace;
  private final boolean uca;
  private final int limit;
  private final int[] offsets;
  private final byte[] data;
  private final BitSet unknown;
  private final byte[] beyond;
  private final boolean beyondIsCodePoint;
  private final byte[] space;

  private CollationWeights(
      String collation,
      int limit,
      int[] offsets,
      byte[] data,
      BitSet unknown,
      byte[] beyond,
      boolean beyondIsCodePoint) {
    this.collation = collation;
    this.padSpace = !collation.contains("nopad");
    this.uca = collation.contains("unicode") || collation.contains("uca1400");
    this.limit = limit;
    this.offsets = offsets;
    this.data = data;
    this.unknown = unknown;
    this.beyond = beyond;
    this.beyondIsCodePoint = beyondIsCodePoint;
    this.space = Arrays.copyOfRange(data, offsets[' '], offsets[' ' + 1]);
  }

  /** Whether sort keys of this collation can be computed per character (see the class doc). */
  public static boolean supported(String collation) {
    return collation != null && SUPPORTED.matcher(collation.toLowerCase(Locale.ROOT)).matches();
  }

  /** The character set of a collation name ({@code utf8mb4} of {@code utf8mb4_general_ci}). */
  public static String charset(String collation) {
    return collation.substring(0, collation.indexOf('_'));
  }

  /** The code points whose weights are read from the server: the BMP, plus plane 1 for UCA. */
  public static int tableLimit(String collation) {
    String c = collation.toLowerCase(Locale.ROOT);
    return c.contains("unicode") || c.contains("uca1400") ? 0x20000 : 0x10000;
  }

  /** Code points beyond the table whose weights decide how the rest of the planes weigh. */
  public static final int[] PROBES = {
    0x10000, 0x1D11E, 0x1F600, 0x20000, 0x2A6D6, 0x30000, 0xE0001, 0xF0000, 0x10FFFF
  };

  /** Collects the server's per-character weights, then {@link #build()}s the table. */
  public static final class Builder {
    private final String collation;
    private final int limit;
    private final byte[][] weights;
    private final byte[][] probes = new byte[PROBES.length][];

    public Builder(String collation) {
      this.collation = collation.toLowerCase(Locale.ROOT);
      this.limit = tableLimit(this.collation);
      this.weights = new byte[limit][];
    }

    /**
     * One character's weight, or null when the character does not survive conversion to the
     * column's character set (it cannot be stored or compared as itself).
     */
    public Builder weight(int codePoint, byte[] weight) {
      if (codePoint < limit) {
        weights[codePoint] = weight;
      } else {
        for (int i = 0; i < PROBES.length; i++) {
          if (PROBES[i] == codePoint) {
            probes[i] = weight;
          }
        }
      }
      return this;
    }

    /**
     * The table; null when the server's weights do not fit the model (no space weight, or weights
     * that are not whole units of the space weight's length).
     */
    public CollationWeights build() {
      byte[] spaceWeight = weights[' '];
      if (spaceWeight == null || spaceWeight.length == 0) {
        return null;
      }
      int unit = spaceWeight.length;
      int[] offsets = new int[limit + 1];
      BitSet unknown = new BitSet(limit);
      int size = 0;
      for (int cp = 0; cp < limit; cp++) {
        byte[] w = weights[cp];
        if (w == null) {
          unknown.set(cp);
        } else {
          if (w.length % unit != 0) {
            return null;
          }
          size += w.length;
        }
      }
      byte[] data = new byte[size];
      int at = 0;
      for (int cp = 0; cp < limit; cp++) {
        offsets[cp] = at;
        byte[] w = weights[cp];
        if (w != null) {
          System.arraycopy(w, 0, data, at, w.length);
          at += w.length;
        }
      }
      offsets[limit] = at;
      // every code point beyond the table weighs the same (U+FFFD's weight under general_ci and
      // UCA 4.0.0), or its code point (_bin); anything else leaves those planes unknown
      byte[] beyond = probes[0];
      boolean same = beyond != null;
      boolean codePoints = true;
      for (int i = 0; i < PROBES.length; i++) {
        byte[] p = probes[i];
        same &= p != null && Arrays.equals(p, beyond);
        codePoints &= p != null && Arrays.equals(p, codePoint(PROBES[i], unit));
      }
      if (same && beyond.length % unit != 0) {
        same = false;
      }
      return new CollationWeights(
          collation, limit, offsets, data, unknown, same ? beyond : null, codePoints && !same);
    }
  }

  private static byte[] codePoint(int cp, int unit) {
    if (unit != 3) {
      return null;
    }
    return new byte[] {(byte) (cp >> 16), (byte) (cp >> 8), (byte) cp};
  }

  /** The collation name. */
  public String collation() {
    return collation;
  }

  /**
   * The sort key of the text under this collation, trailing space weights removed under PAD SPACE;
   * two texts are equal in the collation exactly when their keys are equal. Null when it cannot be
   * computed per character: a character the column's character set cannot hold, one that may take
   * part in a contraction, or one beyond the weights read from the server.
   *
   * @param fixedChar whether the column is CHAR, which drops trailing spaces when it stores a value
   */
  public byte[] sortKey(String text, boolean fixedChar) {
    int end = text.length();
    if (fixedChar) {
      while (end > 0 && text.charAt(end - 1) == ' ') {
        end--;
      }
    }
    byte[] out = new byte[Math.max(16, end * space.length * 2)];
    int size = 0;
    for (int i = 0; i < end; ) {
      char c = text.charAt(i);
      int cp;
      if (Character.isHighSurrogate(c)
          && i + 1 < end
          && Character.isLowSurrogate(text.charAt(i + 1))) {
        cp = Character.toCodePoint(c, text.charAt(i + 1));
        i += 2;
      } else if (Character.isSurrogate(c)) {
        return null;
      } else {
        cp = c;
        i++;
      }
      if (uca && contractionProne(cp)) {
        return null;
      }
      int from;
      int length;
      byte[] source;
      if (cp < limit) {
        if (unknown.get(cp)) {
          return null;
        }
        source = data;
        from = offsets[cp];
        length = offsets[cp + 1] - from;
      } else if (beyond != null) {
        source = beyond;
        from = 0;
        length = beyond.length;
      } else if (beyondIsCodePoint) {
        source = codePoint(cp, 3);
        from = 0;
        length = 3;
      } else {
        return null;
      }
      if (size + length > out.length) {
        out = Arrays.copyOf(out, Math.max(out.length * 2, size + length));
      }
      System.arraycopy(source, from, out, size, length);
      size += length;
    }
    if (padSpace) {
      int unit = space.length;
      while (size >= unit && Arrays.equals(out, size - unit, size, space, 0, unit)) {
        size -= unit;
      }
    }
    return Arrays.copyOf(out, size);
  }

  /**
   * Characters that may start or continue a contraction of the Unicode Collation Algorithm's
   * default table: combining marks (the second part of every contraction of a letter with a mark),
   * the middle dot of Catalan {@code l·}, the pre-vowels of Thai, Lao, New Tai Lue and Tai Viet
   * (which contract with the consonant after them), modifier letters (iteration and length marks),
   * and code points unassigned in this JVM's Unicode version (newer than the rules above).
   */
  static boolean contractionProne(int cp) {
    switch (Character.getType(cp)) {
      case Character.NON_SPACING_MARK,
          Character.COMBINING_SPACING_MARK,
          Character.ENCLOSING_MARK,
          Character.MODIFIER_LETTER,
          Character.UNASSIGNED -> {
        return true;
      }
      default -> {}
    }
    return cp == 0x00B7
        || cp == 0x0387
        || (cp >= 0x0E40 && cp <= 0x0E44)
        || (cp >= 0x0EC0 && cp <= 0x0EC4)
        || (cp >= 0x19B5 && cp <= 0x19B7)
        || cp == 0x19BA
        || cp == 0xAAB5
        || cp == 0xAAB6
        || cp == 0xAAB9
        || cp == 0xAABB
        || cp == 0xAABC;
  }
}
