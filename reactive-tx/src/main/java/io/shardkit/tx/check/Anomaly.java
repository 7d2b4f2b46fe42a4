package io.shardkit.tx.check;

import io.vertx.core.json.JsonObject;

/**
 * One thing the checker found wrong, in the user's terms.
 *
 * @param kind what is wrong
 * @param dataSource where (the data source, or {@code ds_0/replica_1} for a replica), or null
 * @param table the physical table, or null
 * @param keys the primary-key range or key of the rows concerned, or null
 * @param globalId the global transaction concerned, or null
 * @param detail one readable sentence
 */
public record Anomaly(
    Kind kind, String dataSource, String table, String keys, String globalId, String detail) {

  /** The kinds of anomaly. */
  public enum Kind {
    /** A copy of a broadcast table differs from the first data source's copy. */
    BROADCAST_COPY_DIFFERS,
    /** A replica's row differs from its primary's (after waiting for it to catch up). */
    REPLICA_DIFFERS,
    /** A prepared XA branch still in doubt past its deadline plus the settle time. */
    XA_BRANCH_IN_DOUBT,
    /** One XA branch of a global transaction committed and another rolled back (binary logs). */
    XA_NOT_ATOMIC,
    /** An XA branch ended against the logged decision (binary log vs coordinator log). */
    XA_AGAINST_DECISION,
    /** A TCC or Saga transaction not finished past its deadline plus the settle time. */
    TX_NOT_FINISHED,
    /** A TCC or Saga branch whose fence rows contradict its transaction's final state. */
    TX_BRANCH_AGAINST_DECISION,
    /** A tried TCC branch or applied Saga step never confirmed nor cancelled, and no log row. */
    TX_BRANCH_LEFT_TRIED
  }

  public JsonObject toJson() {
    JsonObject json = new JsonObject().put("kind", kind.name());
    if (dataSource != null) {
      json.put("dataSource", dataSource);
    }
    if (table != null) {
      json.put("table", table);
    }
    if (keys != null) {
      json.put("keys", keys);
    }
    if (globalId != null) {
      json.put("globalId", globalId);
    }
    return json.put("detail", detail);
  }

  @Override
  public String toString() {
    StringBuilder s = new StringBuilder(kind.name());
    if (dataSource != null) {
      s.append(" ").append(dataSource);
    }
    if (table != null) {
      s.append(" ").append(table);
    }
    if (keys != null) {
      s.append(" ").append(keys);
    }
    if (globalId != null) {
      s.append(" gid=").append(globalId);
    }
    return s.append(": ").append(detail).toString();
  }
}
