package io.shardkit.tx.impl.tcc;

import io.shardkit.tx.TccOptions;
import java.time.Duration;
import java.util.Collection;
import java.util.Iterator;
import java.util.regex.Pattern;

/**
 * SQL text of the TCC tables. Ids (global id, branch id, action name, instance id) are written as
 * literals: they are validated to {@code [A-Za-z0-9._:-]} before they get here, which makes them
 * safe to inline, and a text query costs one round trip where an unprepared prepared statement
 * costs two (a statement whose text changes with every transaction is never prepared once for all,
 * even with the pool's cache on). Arguments (free-form JSON) go in as hex literals ({@link #text}).
 */
final class Sql {

  private static final Pattern ID = Pattern.compile("[A-Za-z0-9._:-]{1,128}");

  static final int TRY = 1;
  static final int CONFIRM = 2;
  static final int CANCEL = 3;

  static final int TRYING = 1;
  static final int COMMIT = 2;
  static final int CANCELLING = 3;
  static final int COMMITTED = 4;
  static final int CANCELLED = 5;

  private Sql() {}

  /** {@code 'id'}; throws if {@code id} holds anything but {@code [A-Za-z0-9._:-]}. */
  static String quote(String id) {
    if (id == null || !ID.matcher(id).matches()) {
      throw new IllegalArgumentException("not an id: '" + id + "'");
    }
    return "'" + id + "'";
  }

  /**
   * Any text as a literal that needs no escaping: {@code _utf8mb4 X'<hex of its UTF-8 bytes>'} (a
   * hex literal cannot end early, whatever the text or the session's SQL mode). Lets a statement
   * carrying free-form JSON be a one-round-trip text query.
   */
  static String text(String text) {
    return "_utf8mb4 X'"
        + java.util.HexFormat.of().formatHex(text.getBytes(java.nio.charset.StandardCharsets.UTF_8))
        + "'";
  }

  /** {@code 'a','b'} for an IN list. */
  static String quoteAll(Collection<String> ids) {
    StringBuilder sb = new StringBuilder();
    Iterator<String> it = ids.iterator();
    while (it.hasNext()) {
      sb.append(quote(it.next()));
      if (it.hasNext()) {
        sb.append(',');
      }
    }
    return sb.toString();
  }

  /** {@code UTC_TIMESTAMP(3) + INTERVAL n MICROSECOND} (negative durations go back in time). */
  static String nowPlus(Duration d) {
    long micros = d.toNanos() / 1000;
    return micros >= 0
        ? "UTC_TIMESTAMP(3) + INTERVAL " + micros + " MICROSECOND"
        : "UTC_TIMESTAMP(3) - INTERVAL " + (-micros) + " MICROSECOND";
  }

  static String phaseName(int phase) {
    return switch (phase) {
      case TRY -> "try";
      case CONFIRM -> "confirm";
      case CANCEL -> "cancel";
      default -> "phase " + phase;
    };
  }

  static String stateName(int state) {
    return switch (state) {
      case TRYING -> "TRYING";
      case COMMIT -> "COMMIT";
      case CANCELLING -> "CANCEL";
      case COMMITTED -> "COMMITTED";
      case CANCELLED -> "CANCELLED";
      default -> "state " + state;
    };
  }

  /**
   * The fence: one row per (global id, branch, phase). The key is the clustered PRIMARY KEY, not a
   * secondary UNIQUE key: InnoDB's duplicate check on a clustered key takes a record lock without a
   * gap, so concurrent phases of a branch wait only for each other's rows, never on gaps.
   */
  static String fenceDdl(TccOptions options) {
    return "CREATE TABLE IF NOT EXISTS `"
        + options.fenceTable()
        + "` ("
        + "gid VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,"
        + " branch_id VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,"
        + " phase TINYINT UNSIGNED NOT NULL COMMENT '1 try, 2 confirm, 3 cancel',"
        + " origin TINYINT UNSIGNED NOT NULL COMMENT 'the phase that wrote the row',"
        + " action VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,"
        + " created_at DATETIME(3) NOT NULL,"
        + " PRIMARY KEY (gid, branch_id, phase),"
        + " KEY idx_created (created_at)"
        + ") ENGINE=InnoDB";
  }

  static String txDdl(TccOptions options) {
    return "CREATE TABLE IF NOT EXISTS `"
        + options.txTable()
        + "` ("
        + "gid VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,"
        + " protocol VARCHAR(8) CHARACTER SET ascii COLLATE ascii_bin NOT NULL DEFAULT 'TCC'"
        + " COMMENT 'TCC or SAGA (impl.tcc.Protocol)',"
        + " state TINYINT UNSIGNED NOT NULL"
        + " COMMENT '1 trying, 2 commit, 3 cancel, 4 committed, 5 cancelled',"
        + " deadline_at DATETIME(3) NOT NULL,"
        + " next_attempt_at DATETIME(3) NULL COMMENT 'recovery may take it then; NULL: finished',"
        + " lease_owner VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NULL,"
        + " attempts INT NOT NULL,"
        + " created_at DATETIME(3) NOT NULL,"
        + " updated_at DATETIME(3) NOT NULL,"
        + " branches LONGTEXT CHARACTER SET utf8mb4 NOT NULL"
        + " COMMENT 'JSON array of {branch, action, args[, retryOnly]}, in enlistment order',"
        + " PRIMARY KEY (gid),"
        + " KEY idx_next_attempt (next_attempt_at),"
        + " KEY idx_updated (updated_at)"
        + ") ENGINE=InnoDB";
  }
}
