package io.shardkit.router;

/**
 * A statement was refused without being sent because its data source's pool is saturated: every
 * connection is busy and as many statements as {@code PoolOptions.maxWaitQueueSize} already wait
 * for one, or (the {@link ShardedPool}'s adaptive admission, {@link
 * ShardedPool.Builder#queueDelayTarget}) its statements have been waiting longer than the target
 * for a whole interval and as many as its current limit are already outstanding; for a read that
 * read replicas serve, every healthy replica of its data source is in that state ({@link
 * #replica()} names the first). Nothing ran on that data source (nor, for a statement of several
 * data sources, on any other); retry later (with back-off) or shed the request. Bound the wait
 * queue to get this fast refusal instead of waits that grow until every caller times out.
 */
public class ShardOverloadedException extends ShardUnavailableException {

  private static final long serialVersionUID = 1L;

  private final String replica;

  public ShardOverloadedException(String dataSource, Throwable cause) {
    super(
        dataSource,
        "data source "
            + dataSource
            + " is overloaded: all its connections are busy and its wait queue is full"
            + " (PoolOptions.maxWaitQueueSize); refused without being sent, retry later",
        cause);
    this.replica = null;
  }

  /**
   * {@code failure} in the user's terms when it is (or is caused by) a pool's refusal to queue one
   * more waiter (Vert.x's {@code ConnectionPoolTooBusyException}): a {@code
   * ShardOverloadedException} naming {@code dataSource}; {@code failure} itself otherwise, or when
   * it already carries one.
   */
  public static Throwable typed(String dataSource, Throwable failure) {
    for (Throwable t = failure; t != null && t.getCause() != t; t = t.getCause()) {
      if (t instanceof ShardOverloadedException) {
        return failure;
      }
      if (t instanceof io.vertx.core.http.ConnectionPoolTooBusyException) {
        return new ShardOverloadedException(dataSource, failure);
      }
    }
    return failure;
  }

  /**
   * The refusal of the pool's adaptive admission: {@code dataSource}'s statements waited at least
   * {@code minWaitMs} for a connection over the last interval (above {@code targetMs}) and {@code
   * limit} of them are outstanding.
   */
  public static ShardOverloadedException queueing(
      String dataSource, long minWaitMs, long targetMs, long intervalMs, int limit) {
    return new ShardOverloadedException(
        dataSource,
        "data source "
            + dataSource
            + " is overloaded: its statements waited at least "
            + minWaitMs
            + " ms for a connection over the last "
            + intervalMs
            + " ms (target "
            + targetMs
            + " ms, ShardedPool.Builder.queueDelayTarget) and "
            + limit
            + " are already waiting or running, its limit now; refused without being sent,"
            + " retry later",
        null);
  }

  /**
   * The refusal of a read by the pool's adaptive admission of read replicas: every healthy replica
   * of {@code dataSource} the read could go to is at its limit. {@code details} has one line per
   * such replica, in the order tried (the first names {@link #replica()}): what its reads waited
   * over the last interval and its limit.
   */
  public static ShardOverloadedException replicaQueueing(
      String dataSource, java.util.List<String> replicas, java.util.List<String> details) {
    String which =
        replicas.size() == 1
            ? "read replica " + replicas.get(0) + " of data source " + dataSource + " is"
            : "every healthy read replica of data source "
                + dataSource
                + " ("
                + String.join(", ", replicas)
                + ") is";
    return new ShardOverloadedException(
        dataSource,
        replicas.get(0),
        which
            + " overloaded: "
            + String.join("; ", details)
            + "; the read was refused without being sent (not moved to the primary), retry later",
        null);
  }

  /** For subtypes: a message of their own; the data source and the cause may be null. */
  protected ShardOverloadedException(String dataSource, String message, Throwable cause) {
    this(dataSource, null, message, cause);
  }

  /**
   * For subtypes: a message of their own, naming the read replica refused ({@link #replica()}); the
   * data source, the replica and the cause may be null.
   */
  protected ShardOverloadedException(
      String dataSource, String replica, String message, Throwable cause) {
    super(dataSource, message, cause);
    this.replica = replica;
  }

  /**
   * The read replica (its name in {@code ShardedPool.Builder.replica}) of {@link #dataSource()}
   * whose adaptive admission refused a read, or null when the primary's pool (or its admission)
   * refused the statement.
   */
  public String replica() {
    return replica;
  }

  /**
   * No stack trace of its own: under overload this is what most requests get, and filling a stack
   * trace (deep asynchronous stacks) costs more than the refusal; where the refusal came from is
   * the data source in the message and the driver's exception in the cause.
   */
  @Override
  public synchronized Throwable fillInStackTrace() {
    return this;
  }
}
