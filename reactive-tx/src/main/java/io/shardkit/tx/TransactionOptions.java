package io.shardkit.tx;

import io.shardkit.context.ConfigurationException;
import io.shardkit.context.ScopeOptions;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.Objects;

/**
 * Options of one transaction: its timeout, which is mandatory (there is no "no timeout"; the
 * deadline it gives is capped by the enclosing scope's, if any), and whether an XA transaction's
 * second phase may finish after the caller is answered ({@link #asyncSecondPhase()}).
 *
 * <p>Immutable; invalid values are rejected when built, naming the field and the value.
 */
public final class TransactionOptions {

  private final Duration timeout;
  private final boolean asyncSecondPhase;

  private TransactionOptions(Duration timeout, boolean asyncSecondPhase) {
    this.timeout = timeout;
    this.asyncSecondPhase = asyncSecondPhase;
  }

  /**
   * Options with this timeout.
   *
   * @throws ConfigurationException if null, zero, negative or above {@link
   *     ScopeOptions#MAX_TIMEOUT}
   */
  public static TransactionOptions ofTimeout(Duration timeout) {
    if (timeout == null) {
      throw new ConfigurationException(
          "timeout", "must be set: a transaction always has a deadline");
    }
    if (timeout.isZero() || timeout.isNegative()) {
      throw new ConfigurationException(
          "timeout", "must be positive (there is no 'no timeout'), got " + timeout);
    }
    if (timeout.compareTo(ScopeOptions.MAX_TIMEOUT) > 0) {
      throw new ConfigurationException(
          "timeout", "must be at most " + ScopeOptions.MAX_TIMEOUT + ", got " + timeout);
    }
    return new TransactionOptions(timeout, false);
  }

  /**
   * These options with the asynchronous second phase on or off (off by default). On, an XA
   * transaction run by {@code Transactions.xaResult} answers its caller as soon as its COMMIT
   * decision is durable; the other branches' {@code XA COMMIT}s then run in the background (owned
   * by the transaction manager, each bounded by {@code rollbackTimeout}; recovery finishes any that
   * cannot be, also after a crash), and {@link TransactionResult#secondPhasePending()} is true. The
   * price: a read right after the answer, on another shard than the one that kept the decision, may
   * not see the transaction's writes yet (a locking read or a write waits for them). Atomicity is
   * unchanged. Rollbacks and one-shard transactions are not affected.
   */
  public TransactionOptions withAsyncSecondPhase(boolean on) {
    return new TransactionOptions(timeout, on);
  }

  /**
   * Reads {@code {"timeoutMs": 2000, "asyncSecondPhase": false}}; {@code timeoutMs} is required,
   * any other field rejected.
   *
   * @throws ConfigurationException naming the invalid field
   */
  public static TransactionOptions fromJson(JsonObject json) {
    for (String field : json.fieldNames()) {
      if (!field.equals("timeoutMs") && !field.equals("asyncSecondPhase")) {
        throw new ConfigurationException(
            field, "unknown transaction option (known: timeoutMs, asyncSecondPhase)");
      }
    }
    Object value = json.getValue("timeoutMs");
    if (!(value instanceof Number n) || n.doubleValue() != n.longValue()) {
      throw new ConfigurationException(
          "timeoutMs", "must be a whole number of milliseconds, got " + value);
    }
    if (n.longValue() <= 0) {
      throw new ConfigurationException("timeoutMs", "must be positive, got " + n);
    }
    Object async = json.getValue("asyncSecondPhase", false);
    if (!(async instanceof Boolean on)) {
      throw new ConfigurationException("asyncSecondPhase", "must be true or false, got " + async);
    }
    return ofTimeout(Duration.ofMillis(n.longValue())).withAsyncSecondPhase(on);
  }

  public JsonObject toJson() {
    return new JsonObject()
        .put("timeoutMs", timeout.toMillis())
        .put("asyncSecondPhase", asyncSecondPhase);
  }

  /**
   * Whether the second phase may finish after the caller is answered (see {@link
   * #withAsyncSecondPhase}).
   */
  public boolean asyncSecondPhase() {
    return asyncSecondPhase;
  }

  /** The timeout, counted from the call to {@code withTransaction}. */
  public Duration timeout() {
    return timeout;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TransactionOptions other
        && timeout.equals(other.timeout)
        && asyncSecondPhase == other.asyncSecondPhase;
  }

  @Override
  public int hashCode() {
    return Objects.hash(timeout, asyncSecondPhase);
  }

  @Override
  public String toString() {
    return "TransactionOptions[timeout="
        + timeout.toMillis()
        + " ms"
        + (asyncSecondPhase ? ", async second phase" : "")
        + "]";
  }
}
