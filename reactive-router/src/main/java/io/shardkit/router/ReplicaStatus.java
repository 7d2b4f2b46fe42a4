package io.shardkit.router;

import java.time.Duration;

/**
 * What the pool knows about one read replica now.
 *
 * @param dataSource the data source it replicates
 * @param replica its name
 * @param healthy whether reads go to it (answers, and lags less than the configured maximum)
 * @param lag how far behind its primary it was at the last heartbeat read (null when unknown)
 * @param reason why it gets no reads, or null when healthy
 */
public record ReplicaStatus(
    String dataSource, String replica, boolean healthy, Duration lag, String reason) {}
