package io.shardkit.tx;

/**
 * The transaction <em>is</em> committed, everywhere, but the caller's work failed after the point
 * of no return, so there is no value to return: a saga whose body failed after its pivot (a
 * retry-only step) went forward, as a saga past its pivot must. The work's failure is the cause. Do
 * not retry the transaction: its effects are applied. {@code onCommit} hooks ran.
 */
public class TransactionCommittedException extends TransactionOutcomePendingException {

  private static final long serialVersionUID = 1L;

  public TransactionCommittedException(String globalId, String what, Throwable cause) {
    super(
        "transaction " + globalId + " is committed, but " + what + ": " + cause.getMessage(),
        globalId,
        Decision.COMMIT,
        cause);
  }
}
