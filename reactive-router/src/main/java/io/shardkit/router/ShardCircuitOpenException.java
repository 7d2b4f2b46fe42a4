package io.shardkit.router;

import java.time.Duration;

/**
 * The data source's circuit breaker is open (or half-open with its probes in flight): the statement
 * or the enlistment was refused at once, before any I/O on any shard. Statements that touch only
 * other data sources are not affected. Retry after {@link #retryAfter()} at the earliest.
 */
public class ShardCircuitOpenException extends ShardUnavailableException {

  private static final long serialVersionUID = 1L;

  private final ShardCircuitBreaker.State state;
  private final Duration retryAfter;

  public ShardCircuitOpenException(
      String dataSource, ShardCircuitBreaker.State state, Duration retryAfter, String reason) {
    super(
        dataSource,
        "data source "
            + dataSource
            + " is unavailable: circuit breaker "
            + state
            + " ("
            + reason
            + "), next probe in "
            + retryAfter.toMillis()
            + " ms",
        null);
    this.state = state;
    this.retryAfter = retryAfter;
  }

  /** The breaker's state when the call was refused: {@code OPEN} or {@code HALF_OPEN}. */
  public ShardCircuitBreaker.State state() {
    return state;
  }

  /** How long until the breaker lets a probe through (zero when half-open). */
  public Duration retryAfter() {
    return retryAfter;
  }
}
