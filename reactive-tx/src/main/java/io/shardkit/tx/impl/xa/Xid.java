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
 * <p>When the decision is kept by a participant (the transaction's first MySQL branch commits its
 * own work together with the decision row, see {@code XaTransaction}), every other branch's id
 * names that participant: formatID {@link #DECIDED_ON_FORMAT_ID}, bqual {@code <data
 * source>@<deadline>@<decided on>} (neither name may then contain '@'), so recovery knows where the
 * decision is, or where to write ABORT.
 *
 * <p>Ids are written into SQL as hex literals ({@code X'..'}), so no data source name can break the
 * statement.
 *
 * @param decidedOn the data source whose log table holds the decision, or null for the coordinator
 *     log
 */
public record Xid(String globalId, String dataSource, long deadlineEpochMillis, String decidedOn) {

  /** formatID of a shardkit XA branch decided in the coordinator log: 0x534B, "SK". */
  public static final int FORMAT_ID = 0x534B;

  /** formatID of a shardkit XA branch decided on a participant ({@link #decidedOn}): "SA". */
  public static final int DECIDED_ON_FORMAT_ID = 0x5341;

  public Xid(String globalId, String dataSource, long deadlineEpochMillis) {
    this(globalId, dataSource, deadlineEpochMillis, null);
  }

  /** Whether the format IDs is one of shardkit's. */
  public static boolean isShardkit(int formatId) {
    return formatId == FORMAT_ID || formatId == DECIDED_ON_FORMAT_ID;
  }

  /** MySQL's limit on gtrid and bqual, in bytes. */
  static final int MAX_PART = 64;

  private static final HexFormat HEX = HexFormat.of();

  public Xid {
    if (globalId.getBytes(StandardCharsets.UTF_8).length > MAX_PART) {
      throw new IllegalArgumentException("global id longer than 64 bytes: " + globalId);
    }
    if (decidedOn != null && (dataSource.indexOf('@') >= 0 || decidedOn.indexOf('@') >= 0)) {
      throw new IllegalArgumentException(
          "a branch decided on a participant needs names without '@': "
              + dataSource
              + ", "
              + decidedOn);
    }
    if (bqual(dataSource, deadlineEpochMillis, decidedOn).length > MAX_PART) {
      throw new IllegalArgumentException(
          "data source name too long for an XA bqual (at most "
              + (MAX_PART - 13)
              + " bytes): "
              + dataSource);
    }
  }

  private static byte[] bqual(String dataSource, long deadline, String decidedOn) {
    return (dataSource
            + "@"
            + Long.toHexString(deadline)
            + (decidedOn == null ? "" : "@" + decidedOn))
        .getBytes(StandardCharsets.UTF_8);
  }

  /** The longest data source name whose xids fit in MySQL's 64-byte bqual. */
  static int maxDataSourceLength() {
    return MAX_PART - 1 - Long.toHexString(Long.MAX_VALUE).length();
  }

  /**
   * Whether branches of {@code dataSource} can name {@code decidedOn} in their ids (fits the bqual
   * with any deadline, no '@' in either name).
   */
  static boolean canDecideOn(String dataSource, String decidedOn) {
    return dataSource.indexOf('@') < 0
        && decidedOn.indexOf('@') < 0
        && bqual(dataSource, Long.MAX_VALUE, decidedOn).length <= MAX_PART;
  }

  /** The xid as it appears after {@code XA START}, {@code XA COMMIT} etc. */
  public String sql() {
    return "X'"
        + HEX.formatHex(globalId.getBytes(StandardCharsets.UTF_8))
        + "',X'"
        + HEX.formatHex(bqual(dataSource, deadlineEpochMillis, decidedOn))
        + "',"
        + (decidedOn == null ? FORMAT_ID : DECIDED_ON_FORMAT_ID);
  }

  /**
   * Reads one row of {@code XA RECOVER}: keeps shardkit's branches, ignores everything else
   * (another formatID, a bqual without the deadline suffix).
   */
  public static Optional<Xid> fromRecover(
      int formatId, int gtridLength, int bqualLength, Buffer data) {
    if (!isShardkit(formatId)
        || gtridLength < 1
        || bqualLength < 3
        || data == null
        || data.length() < gtridLength + bqualLength) {
      return Optional.empty();
    }
    String gtrid = data.getString(0, gtridLength, "UTF-8");
    String bqual = data.getString(gtridLength, gtridLength + bqualLength, "UTF-8");
    return parse(gtrid, bqual, formatId == DECIDED_ON_FORMAT_ID);
  }

  /** An xid read back from its parts (e.g. a binary log's {@code XA COMMIT} event). */
  public static Optional<Xid> of(int formatId, String gtrid, String bqual) {
    return isShardkit(formatId) && !gtrid.isEmpty()
        ? parse(gtrid, bqual, formatId == DECIDED_ON_FORMAT_ID)
        : Optional.empty();
  }

  /** A bqual ({@code ds@deadline}, or {@code ds@deadline@decidedOn}) read back. */
  private static Optional<Xid> parse(String gtrid, String bqual, boolean decidedOnParticipant) {
    if (decidedOnParticipant) {
      String[] parts = bqual.split("@", -1);
      if (parts.length != 3 || parts[0].isEmpty() || parts[2].isEmpty()) {
        return Optional.empty();
      }
      try {
        return Optional.of(new Xid(gtrid, parts[0], Long.parseLong(parts[1], 16), parts[2]));
      } catch (IllegalArgumentException e) {
        return Optional.empty();
      }
    }
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

  /** Prefix of a PostgreSQL branch id whose decision is kept on a participant. */
  static final String PG_DECIDED_ON_PREFIX = "sa/";

  /**
   * The branch id of a PostgreSQL branch, the {@code gid} of its {@code PREPARE TRANSACTION}:
   * {@code sk/<global id>/<data source>@<deadline hex>} ('/' never occurs in a global id), or
   * {@code sa/<global id>/<data source>@<deadline hex>@<decided on>}.
   */
  public String pgGid() {
    return (decidedOn == null ? PG_PREFIX : PG_DECIDED_ON_PREFIX)
        + globalId
        + "/"
        + new String(bqual(dataSource, deadlineEpochMillis, decidedOn), StandardCharsets.UTF_8);
  }

  /** {@link #pgGid()} as a SQL string literal. */
  String pgLiteral() {
    return "'" + pgGid().replace("'", "''") + "'";
  }

  /** Reads a {@code pg_prepared_xacts.gid}: shardkit's branches, anything else ignored. */
  public static Optional<Xid> fromPgGid(String gid) {
    if (gid == null || !(gid.startsWith(PG_PREFIX) || gid.startsWith(PG_DECIDED_ON_PREFIX))) {
      return Optional.empty();
    }
    int slash = gid.indexOf('/', PG_PREFIX.length());
    if (gid.startsWith(PG_DECIDED_ON_PREFIX)) {
      return slash <= PG_PREFIX.length()
          ? Optional.empty()
          : parse(gid.substring(PG_PREFIX.length(), slash), gid.substring(slash + 1), true);
    }
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
