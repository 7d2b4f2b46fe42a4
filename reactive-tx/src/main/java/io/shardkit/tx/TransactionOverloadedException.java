package io.shardkit.tx;

import io.shardkit.context.ShardkitException;

/**
 * A new transaction was refused before its first step because its coordinator already drives as
 * many transactions as its limit allows ({@code TransactionsOptions.maxInFlight} for XA, {@code
 * TccOptions.maxInFlight} for TCC and Saga). Nothing ran, no connection was taken and nothing was
 * logged: the refusal is safe to retry, later and with back-off, or to pass on to the client as
 * "busy". Refusing new work at the door is what keeps the transactions already started fast under
 * overload: their next steps do not queue behind newcomers' first steps.
 */
public class TransactionOverloadedException extends ShardkitException {

  private static final long serialVersionUID = 1L;

  private final String protocol;
  private final int limit;

  public TransactionOverloadedException(String protocol, int limit) {
    super(
        "new "
            + protocol
            + " transaction refused before its first step: "
            + limit
            + " transactions are already in flight on this coordinator ("
            + ("XA".equals(protocol) ? "TransactionsOptions" : "TccOptions")
            + ".maxInFlight);"
            + " nothing ran, retry later");
    this.protocol = protocol;
    this.limit = limit;
  }

  /** {@code XA}, {@code TCC} or {@code Saga}. */
  public String protocol() {
    return protocol;
  }

  /** The limit that was reached. */
  public int limit() {
    return limit;
  }
}
