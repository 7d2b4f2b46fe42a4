package io.shardkit.tx.check;

import io.shardkit.context.ConfigurationException;
import io.shardkit.tx.TransactionsOptions;
import java.time.Duration;

/**
 * How the consistency checker runs.
 *
 * @param transactions the transaction layer's options (log data source, table prefix), or null to
 *     check copies only
 * @param chunkSize rows per checksum chunk (and at most this many rows per side are read when a
 *     chunk differs)
 * @param maxChunksPerSecond checksum queries per second per copy, 0 for no limit (a production run
 *     sets one, so the check reads the shards gently)
 * @param settle how long after a transaction's deadline it must be finished: recovery's grace and a
 *     few recovery rounds (shorter: live transactions are reported; longer: stuck ones later)
 * @param replicaCatchUp how long to wait for a replica to apply what its primary had written before
 *     a differing chunk is compared again
 * @param maxAnomalies the report keeps this many anomalies (it counts all)
 */
public record CheckOptions(
    TransactionsOptions transactions,
    int chunkSize,
    int maxChunksPerSecond,
    Duration settle,
    Duration replicaCatchUp,
    int maxAnomalies) {

  public CheckOptions {
    if (chunkSize < 1) {
      throw new ConfigurationException("check.chunkSize", "must be at least 1, got " + chunkSize);
    }
    if (maxChunksPerSecond < 0) {
      throw new ConfigurationException(
          "check.maxChunksPerSecond",
          "must be 0 (no limit) or positive, got " + maxChunksPerSecond);
    }
    if (settle == null || settle.isNegative()) {
      throw new ConfigurationException("check.settle", "must be zero or positive, got " + settle);
    }
    if (replicaCatchUp == null || replicaCatchUp.isNegative()) {
      throw new ConfigurationException(
          "check.replicaCatchUp", "must be zero or positive, got " + replicaCatchUp);
    }
    if (maxAnomalies < 1) {
      throw new ConfigurationException(
          "check.maxAnomalies", "must be at least 1, got " + maxAnomalies);
    }
  }

  /**
   * Copies and, with {@code transactions} non-null, transactions; chunks of 1,000 rows, no rate
   * limit, 2 minutes to settle, 10 s to catch up, 1,000 anomalies kept.
   */
  public static CheckOptions defaults(TransactionsOptions transactions) {
    return new CheckOptions(
        transactions, 1000, 0, Duration.ofMinutes(2), Duration.ofSeconds(10), 1000);
  }

  public CheckOptions withChunkSize(int rows) {
    return new CheckOptions(
        transactions, rows, maxChunksPerSecond, settle, replicaCatchUp, maxAnomalies);
  }

  public CheckOptions withMaxChunksPerSecond(int perSecond) {
    return new CheckOptions(
        transactions, chunkSize, perSecond, settle, replicaCatchUp, maxAnomalies);
  }

  public CheckOptions withSettle(Duration time) {
    return new CheckOptions(
        transactions, chunkSize, maxChunksPerSecond, time, replicaCatchUp, maxAnomalies);
  }

  public CheckOptions withReplicaCatchUp(Duration time) {
    return new CheckOptions(
        transactions, chunkSize, maxChunksPerSecond, settle, time, maxAnomalies);
  }
}
