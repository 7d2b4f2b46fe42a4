package io.shardkit.tx;

import io.shardkit.context.ShardkitException;

/**
 * A new transaction was refused before its first step because its coordinator already drives as
 * many transactions as its limit allows ({@code TransactionsOptions.maxInFlight} for XA, {@code
 * TccOptions.maxInFlight} for TCC and Saga). Nothing ran, no connection was taken and nothing was
 * logged: the refusal is safe to retry, later and with back-off, or to pass on to the client as
 * "busy". Refusing new work at the door is what keeps the transactions already started fast under
 * overload: their next steps do not queue behind newcomers' first steps.
 *
 * <p>The limit is the count ({@code maxInFlight}), or lower while the admitted transactions' steps
 * queue for connections ({@code queueDelayTarget}; {@link #queueing()} tells which refused).
 */
public class TransactionOverloadedException extends ShardkitException {

  private static final long serialVersionUID = 1L;

  private final String protocol;
  private final int limit;
  private final boolean queueing;

  public TransactionOverloadedException(String protocol, int limit) {
    this(
        "new "
            + protocol
            + " transaction refused before its first step: "
            + limit
            + " transactions are already in flight on this coordinator ("
            + options(protocol)
            + ".maxInFlight);"
            + " nothing ran, retry later",
        protocol,
        limit,
        false);
  }

  private TransactionOverloadedException(
      String message, String protocol, int limit, boolean queueing) {
    super(message);
    this.protocol = protocol;
    this.limit = limit;
    this.queueing = queueing;
  }

  private static String options(String protocol) {
    return "XA".equals(protocol) ? "TransactionsOptions" : "TccOptions";
  }

  /**
   * Refused by the limit judged on queueing delay: every step of the admitted transactions waited
   * at least {@code minWaitMillis} for a connection over the last interval, longer than the target,
   * and {@code limit} (the limit now) are in flight.
   */
  public static TransactionOverloadedException queueing(
      String protocol,
      String options,
      String dataSource,
      int limit,
      long minWaitMillis,
      long targetMillis,
      long intervalMillis) {
    return new TransactionOverloadedException(
        "new "
            + protocol
            + " transaction refused before its first step: the steps of the transactions in"
            + " flight on '"
            + dataSource
            + "' waited at least "
            + minWaitMillis
            + " ms for a connection over the last "
            + intervalMillis
            + " ms (target "
            + targetMillis
            + " ms, "
            + options
            + ".queueDelayTarget) and "
            + limit
            + " are in flight, the limit now; nothing ran, retry later",
        protocol,
        limit,
        true);
  }

  /** {@code XA}, {@code TCC} or {@code Saga}. */
  public String protocol() {
    return protocol;
  }

  /** The limit that was reached (the count, or the lower limit queueing set). */
  public int limit() {
    return limit;
  }

  /** Whether the limit judged on queueing delay refused, rather than the count. */
  public boolean queueing() {
    return queueing;
  }
}
