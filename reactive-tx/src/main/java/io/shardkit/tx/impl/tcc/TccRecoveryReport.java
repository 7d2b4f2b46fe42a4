package io.shardkit.tx.impl.tcc;

import java.util.List;

/**
 * What one recovery round did.
 *
 * @param confirmed global ids whose branches recovery confirmed to the end (COMMIT decision)
 * @param cancelled global ids whose branches recovery cancelled to the end (CANCEL decision, taken
 *     by the coordinator or by recovery for a transaction past its deadline)
 * @param retryLater global ids recovery claimed but could not finish (a branch failed again, or its
 *     action is not registered here); retried after a backoff
 * @param fenceRowsDeleted fence rows older than the retention, deleted in this round
 * @param logRowsDeleted finished transactions deleted from the coordinator log in this round
 */
public record TccRecoveryReport(
    List<String> confirmed,
    List<String> cancelled,
    List<String> retryLater,
    int fenceRowsDeleted,
    int logRowsDeleted) {

  public TccRecoveryReport {
    confirmed = List.copyOf(confirmed);
    cancelled = List.copyOf(cancelled);
    retryLater = List.copyOf(retryLater);
  }

  /** Number of transactions this round claimed. */
  public int claimed() {
    return confirmed.size() + cancelled.size() + retryLater.size();
  }
}
