package io.shardkit.router;

/**
 * A statement was refused without being sent because its data source's pool is saturated: every
 * connection is busy and as many statements as {@code PoolOptions.maxWaitQueueSize} already wait
 * for one. Nothing ran on that data source; retry later (with back-off) or shed the request. Bound
 * the wait queue to get this fast refusal instead of waits that grow until every caller times out.
 */
public class ShardOverloadedException extends ShardUnavailableException {

  private static final long serialVersionUID = 1L;

  public ShardOverloadedException(String dataSource, Throwable cause) {
    super(
        dataSource,
        "data source "
            + dataSource
            + " is overloaded: all its connections are busy and its wait queue is full"
            + " (PoolOptions.maxWaitQueueSize); refused without being sent, retry later",
        cause);
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

  /** For subtypes: a message of their own; the data source and the cause may be null. */
  protected ShardOverloadedException(String dataSource, String message, Throwable cause) {
    super(dataSource, message, cause);
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
