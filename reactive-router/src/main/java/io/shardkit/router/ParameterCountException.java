package io.shardkit.router;

import io.shardkit.context.ShardkitException;

/**
 * A statement was executed with more or fewer parameter values than it has {@code ?} placeholders.
 * It is the caller's mistake, not SQL the router cannot run, so it is not an {@link
 * UnsupportedSqlException}. It fails the {@code Future} before any I/O: nothing was sent to any
 * shard, and for {@code executeBatch} no tuple of the batch ran.
 *
 * <p>The message starts with the Vert.x SQL client's own sentence ({@code "The number of parameters
 * to execute should be consistent with the expected number of parameters = [2] but the actual
 * number is [1]."}, a {@code VertxException} from a plain MySQL pool), so code and people that know
 * that message recognise it; for a batch it adds the index of the first wrong tuple.
 */
public class ParameterCountException extends ShardkitException {

  private static final long serialVersionUID = 1L;

  private final int expected;
  private final int actual;
  private final int batchIndex;

  /**
   * @param expected the statement's placeholders
   * @param actual the values given
   * @param batchIndex the 0-based index of the tuple in {@code executeBatch}, or -1
   */
  public ParameterCountException(int expected, int actual, int batchIndex) {
    super(message(expected, actual, batchIndex));
    this.expected = expected;
    this.actual = actual;
    this.batchIndex = batchIndex;
  }

  private static String message(int expected, int actual, int batchIndex) {
    String vertx =
        "The number of parameters to execute should be consistent with the expected number of"
            + " parameters = ["
            + expected
            + "] but the actual number is ["
            + actual
            + "].";
    return batchIndex < 0
        ? vertx
        : vertx
            + " (batch tuple at index ["
            + batchIndex
            + "]; no tuple of the batch was executed)";
  }

  /** The number of {@code ?} placeholders of the statement. */
  public int expected() {
    return expected;
  }

  /** The number of values given. */
  public int actual() {
    return actual;
  }

  /** The 0-based index of the offending tuple of a batch, or -1 for a single execution. */
  public int batchIndex() {
    return batchIndex;
  }
}
