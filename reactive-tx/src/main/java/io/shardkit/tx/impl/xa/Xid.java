package io.shardkit.tx.impl.xa;

import io.vertx.core.buffer.Buffer;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.Optional;

/**
 * The XA id of one branch: gtrid = the global id, bqual = {@code <data source>@<deadline>},
 * formatID = {@link #FORMAT_ID}.
 *
 * <p>Why the deadline is in the bqual: recovery must tell, for a prepared branch that has no
 * decision in the coordinator log, whether its transaction may still be committed by a live
 * coordinator (deadline not passed) or is abandoned (deadline plus grace passed). Writing the
 * deadline into the id costs nothing on the hot path, where a log row before {@code XA START} would
 * cost a round trip and an fsync. The deadline is epoch milliseconds in lower-case hex on the
 * coordinator log server's clock ({@link DbClock}), which every instance's recovery judges it by,
 * so no instance's fast or slow clock can abort a live transaction.
 *
 * <p>Ids are written into SQL as hex literals ({@code X'..'}), so no data source name can break the
 * statement.
 */
public record Xid(String globalId, String dataSource, long deadlineEpochMillis) {

  /** formatID of every shardkit XA branch: 0x534B, "SK". Recovery ignores any other. */
  public static final int FORMAT_ID = 0x534B;

  /** MySQL's limit on gtrid and bqual, in bytes. */
  static final int MAX_PART = 64;

  private static final HexFormat HEX = HexFormat.of();

  public Xid {
    if (globalId.getBytes(StandardCharsets.UTF_8).length > MAX_PART) {
      throw new IllegalArgumentException("global id longer than 64 bytes: " + globalId);
    }
    if (bqual(dataSource, deadlineEpochMillis).length > MAX_PART) {
      throw new IllegalArgumentException(
          "data source name too long for an XA bqual (at most "
              + (MAX_PART - 13)
              + " bytes): "
              + dataSource);
    }
  }

  private static byte[] bqual(String dataSource, long deadline) {
    return (dataSource + "@" + Long.toHexString(deadline)).getBytes(StandardCharsets.UTF_8);
  }

  /** The longest data source name whose xids fit in MySQL's 64-byte bqual. */
  static int maxDataSourceLength() {
    return MAX_PART - 1 - Long.toHexString(Long.MAX_VALUE).length();
  }

  /** The xid as it appears after {@code XA START}, {@code XA COMMIT} etc. */
  public String sql() {
    return "X'"
        + HEX.formatHex(globalId.getBytes(StandardCharsets.UTF_8))
        + "',X'"
        + HEX.formatHex(bqual(dataSource, deadlineEpochMillis))
        + "',"
        + FORMAT_ID;
  }

  /**
   * Reads one row of {@code XA RECOVER}: keeps shardkit's branches, ignores everything else
   * (another formatID, a bqual without the deadline suffix).
   */
  public static Optional<Xid> fromRecover(
      int formatId, int gtridLength, int bqualLength, Buffer data) {
    if (formatId != FORMAT_ID
        || gtridLength < 1
        || bqualLength < 3
        || data == null
        || data.length() < gtridLength + bqualLength) {
      return Optional.empty();
    }
    String gtrid = data.getString(0, gtridLength, "UTF-8");
    String bqual = data.getString(gtridLength, gtridLength + bqualLength, "UTF-8");
    int at = bqual.lastIndexOf('@');
    if (at < 1 || at == bqual.length() - 1) {
      return Optional.empty();
    }
    long deadline;
    try {
      deadline = Long.parseLong(bqual.substring(at + 1), 16);
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
    return Optional.of(new Xid(gtrid, bqual.substring(0, at), deadline));
  }

  /** Prefix of every shardkit branch id in PostgreSQL's {@code pg_prepared_xacts}. */
  static final String PG_PREFIX = "sk/";

  /**
   * The branch id of a PostgreSQL branch, the {@code gid} of its {@code PREPARE TRANSACTION}:
   * {@code sk/<global id>/<data source>@<deadline hex>} ('/' never occurs in a global id).
   */
  public String pgGid() {
    return PG_PREFIX + globalId + "/" + dataSource + "@" + Long.toHexString(deadlineEpochMillis);
  }

  /** {@link #pgGid()} as a SQL string literal. */
  String pgLiteral() {
    return "'" + pgGid().replace("'", "''") + "'";
  }

  /** Reads a {@code pg_prepared_xacts.gid}: shardkit's branches, anything else ignored. */
  public static Optional<Xid> fromPgGid(String gid) {
    if (gid == null || !gid.startsWith(PG_PREFIX)) {
      return Optional.empty();
    }
    int slash = gid.indexOf('/', PG_PREFIX.length());
    int at = gid.lastIndexOf('@');
    if (slash <= PG_PREFIX.length() || at <= slash + 1 || at == gid.length() - 1) {
      return Optional.empty();
    }
    try {
      return Optional.of(
          new Xid(
              gid.substring(PG_PREFIX.length(), slash),
              gid.substring(slash + 1, at),
              Long.parseLong(gid.substring(at + 1), 16)));
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
  }

  @Override
  public String toString() {
    return globalId + "/" + dataSource;
  }
}
