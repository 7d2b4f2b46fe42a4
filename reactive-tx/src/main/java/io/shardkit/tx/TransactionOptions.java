package io.shardkit.tx;

import io.shardkit.context.ConfigurationException;
import io.shardkit.context.ScopeOptions;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.Objects;

/**
 * Options of one transaction: its timeout, which is mandatory (there is no "no timeout"). The
 * deadline it gives is capped by the enclosing scope's, if any.
 *
 * <p>Immutable; invalid values are rejected when built, naming the field and the value.
 */
public final class TransactionOptions {

  private final Duration timeout;

  private TransactionOptions(Duration timeout) {
    this.timeout = timeout;
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
    return new TransactionOptions(timeout);
  }

  /**
   * Reads {@code {"timeoutMs": 2000}}; the field is required, any other field rejected.
   *
   * @throws ConfigurationException naming the invalid field
   */
  public static TransactionOptions fromJson(JsonObject json) {
    for (String field : json.fieldNames()) {
      if (!field.equals("timeoutMs")) {
        throw new ConfigurationException(field, "unknown transaction option (known: timeoutMs)");
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
    return ofTimeout(Duration.ofMillis(n.longValue()));
  }

  public JsonObject toJson() {
    return new JsonObject().put("timeoutMs", timeout.toMillis());
  }

  /** The timeout, counted from the call to {@code withTransaction}. */
  public Duration timeout() {
    return timeout;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TransactionOptions other && timeout.equals(other.timeout);
  }

  @Override
  public int hashCode() {
    return Objects.hash(timeout);
  }

  @Override
  public String toString() {
    return "TransactionOptions[timeout=" + timeout.toMillis() + " ms]";
  }
}
