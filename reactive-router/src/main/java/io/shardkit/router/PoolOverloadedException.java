package io.shardkit.router;

/**
 * A statement was refused at once, before it was parsed or routed and with nothing sent anywhere,
 * because its {@link ShardedPool} already has {@link #limit()} statements in flight ({@link
 * ShardedPool.Builder#maxInFlight}, JSON {@code "maxInFlight"}). Retry later with back-off, or shed
 * the request; raise the limit only if the data sources have capacity to spare (it defaults to what
 * their pools can hold: connections plus wait queues).
 *
 * <p>It is a {@link ShardOverloadedException}, so code that already retries a saturated data source
 * retries this too; since no data source was chosen yet, {@link #dataSource()} is null. Statements
 * of an open connection or transaction are counted but never refused by this limit (work already
 * started goes first). Like its parent it fills no stack trace: under overload most requests get
 * one.
 */
public class PoolOverloadedException extends ShardOverloadedException {

  private static final long serialVersionUID = 1L;

  private final int limit;

  public PoolOverloadedException(int limit) {
    super(
        null,
        "ShardedPool is overloaded: "
            + limit
            + " statements already in flight, its limit (ShardedPool.Builder.maxInFlight, JSON"
            + " \"maxInFlight\"); refused before routing, nothing was sent: retry later with"
            + " back-off or shed the request",
        null);
    this.limit = limit;
  }

  /** The pool's limit of statements in flight that was reached. */
  public int limit() {
    return limit;
  }
}
