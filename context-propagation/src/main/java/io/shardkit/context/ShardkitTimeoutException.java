package io.shardkit.context;

import java.time.Duration;
import java.util.Objects;

/**
 * Work ran past its deadline. Raised when a scope opened by {@link TxScope#run} reaches its
 * deadline before its body completes, by {@link TxScope#bound} when the bounded work is still
 * pending at the deadline, and by the gRPC and event-bus helpers when the remote side ran out of
 * time. By the time a caller sees it, everything the scope owned has been released.
 *
 * <p>The message names the global id, how long the work ran and the timeout it had, e.g. {@code
 * global transaction 01J9...: deadline exceeded after 101 ms (timeout 100 ms)}.
 */
public class ShardkitTimeoutException extends ShardkitException {

  private static final long serialVersionUID = 1L;

  private final String globalId;
  private final Duration elapsed;
  private final Duration timeout;

  /**
   * @param globalId the global transaction id
   * @param elapsed how long the work ran before it was stopped
   * @param timeout the time the work was given
   */
  public ShardkitTimeoutException(String globalId, Duration elapsed, Duration timeout) {
    this(globalId, elapsed, timeout, null, null);
  }

  /**
   * @param globalId the global transaction id
   * @param elapsed how long the work ran before it was stopped
   * @param timeout the time the work was given
   * @param operation what was running when the deadline fired (appended to the message), or null
   * @param cause the failure that revealed the timeout (e.g. a remote DEADLINE_EXCEEDED), or null
   */
  public ShardkitTimeoutException(
      String globalId, Duration elapsed, Duration timeout, String operation, Throwable cause) {
    super(message(globalId, elapsed, timeout, operation), cause);
    this.globalId = Objects.requireNonNull(globalId, "globalId");
    this.elapsed = Objects.requireNonNull(elapsed, "elapsed");
    this.timeout = Objects.requireNonNull(timeout, "timeout");
  }

  /** The global transaction id of the work that timed out. */
  public String globalId() {
    return globalId;
  }

  /** How long the work ran before it was stopped. */
  public Duration elapsed() {
    return elapsed;
  }

  /** The time the work was given (the scope's timeout, or what remained when it arrived). */
  public Duration timeout() {
    return timeout;
  }

  private static String message(
      String globalId, Duration elapsed, Duration timeout, String operation) {
    return "global transaction "
        + globalId
        + ": deadline exceeded after "
        + elapsed.toMillis()
        + " ms (timeout "
        + timeout.toMillis()
        + " ms)"
        + (operation != null ? " while " + operation : "");
  }
}
