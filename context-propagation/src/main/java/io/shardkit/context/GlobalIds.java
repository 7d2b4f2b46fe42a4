package io.shardkit.context;

import java.security.SecureRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Generates and checks global transaction ids.
 *
 * <p>Why this format: the id becomes the gtrid of XA branches on MySQL/MariaDB (at most 64 bytes,
 * written inside a SQL string literal) and an HTTP/2 header value, so it is short, ASCII and free
 * of quotes. A generated id is 26 Crockford base-32 characters: 48 bits of wall-clock milliseconds
 * (ids sort by creation time, which helps recovery and log reading), 40 bits drawn once per process
 * from {@link SecureRandom} (two processes do not collide), and a 40-bit per-process sequence (ids
 * of one process never collide).
 */
final class GlobalIds {

  /** The longest id accepted: MySQL's limit on an XA gtrid or bqual. */
  static final int MAX_LENGTH = 64;

  private static final char[] CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ".toCharArray();
  private static final long NODE = new SecureRandom().nextLong() & 0xFF_FFFF_FFFFL;
  private static final AtomicLong SEQUENCE = new AtomicLong(new SecureRandom().nextInt());

  private GlobalIds() {}

  static String next() {
    char[] id = new char[26];
    encode(System.currentTimeMillis() & 0xFFFF_FFFF_FFFFL, id, 0, 10);
    encode(NODE, id, 10, 8);
    encode(SEQUENCE.incrementAndGet() & 0xFF_FFFF_FFFFL, id, 18, 8);
    return new String(id);
  }

  /** Writes the low {@code 5 * chars} bits of {@code value}, most significant first. */
  private static void encode(long value, char[] target, int offset, int chars) {
    for (int i = chars - 1; i >= 0; i--) {
      target[offset + i] = CROCKFORD[(int) (value & 31)];
      value >>>= 5;
    }
  }

  /**
   * Checks an id given by a user or read from the wire.
   *
   * @return null when valid, else why not
   */
  static String problem(String id) {
    if (id == null || id.isEmpty()) {
      return "must not be empty";
    }
    if (id.length() > MAX_LENGTH) {
      return "must be at most " + MAX_LENGTH + " characters, got " + id.length();
    }
    for (int i = 0; i < id.length(); i++) {
      char c = id.charAt(i);
      boolean ok =
          (c >= 'a' && c <= 'z')
              || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9')
              || c == '-'
              || c == '_'
              || c == '.'
              || c == ':';
      if (!ok) {
        return "may contain only letters, digits and - _ . : (got '" + id + "')";
      }
    }
    return null;
  }
}
