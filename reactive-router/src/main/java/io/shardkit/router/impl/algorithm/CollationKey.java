package io.shardkit.router.impl.algorithm;

import java.util.Arrays;

/**
 * A string sharding value as the algorithms that hash it receive it: the value's sort key in its
 * column's collation (equal for every collation-equal spelling) next to the text as written (for
 * messages). Equality is by the key.
 */
public final class CollationKey {

  private final byte[] key;
  private final String text;

  public CollationKey(byte[] key, String text) {
    this.key = key;
    this.text = text;
  }

  /** The sort key bytes (not copied: never modify). */
  public byte[] key() {
    return key;
  }

  /** The value as written. */
  public String text() {
    return text;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof CollationKey k && Arrays.equals(key, k.key);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(key);
  }

  @Override
  public String toString() {
    return "'" + text + "'";
  }
}
