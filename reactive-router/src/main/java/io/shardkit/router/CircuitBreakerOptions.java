package io.shardkit.router;

import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.Objects;
import java.util.Set;

/**
 * When a data source's {@link ShardCircuitBreaker} opens and closes. Immutable; build with {@link
 * #builder()} or read from JSON ({@link #fromJson}, durations as {@code ...Ms} fields).
 *
 * <p>It <b>opens</b> when, while closed,
 *
 * <ul>
 *   <li>{@code consecutiveFailures} calls in a row failed, or
 *   <li>the last {@code windowSize} calls (at least {@code minimumCalls} of them) hold {@code
 *       failureRateThreshold}% failures or more, or {@code slowCallRateThreshold}% slow calls or
 *       more.
 * </ul>
 *
 * A <i>failure</i> is a call the shard did not answer: connect failure, closed connection, pool
 * wait timeout, server overload (MySQL errors 1040 too many connections, 1053 shutdown). An SQL
 * error the server answered (syntax, duplicate key, deadlock) is a success for the breaker. A
 * <i>slow call</i> is one still running after {@code slowCallDuration}: it is counted when that
 * time passes, not when it ends, so a frozen shard whose calls never end still opens the breaker.
 *
 * <p>After {@code openDuration} it is <b>half-open</b>: {@code halfOpenProbes} calls pass; when all
 * succeed in time it closes (with an empty window), the first failure or slow probe opens it again.
 */
public final class CircuitBreakerOptions {

  public static final boolean DEFAULT_ENABLED = true;
  public static final int DEFAULT_CONSECUTIVE_FAILURES = 5;
  public static final int DEFAULT_WINDOW_SIZE = 50;
  public static final int DEFAULT_MINIMUM_CALLS = 20;
  public static final int DEFAULT_FAILURE_RATE_THRESHOLD = 50;
  public static final Duration DEFAULT_SLOW_CALL_DURATION = Duration.ofSeconds(5);
  public static final int DEFAULT_SLOW_CALL_RATE_THRESHOLD = 80;
  public static final Duration DEFAULT_OPEN_DURATION = Duration.ofSeconds(5);
  public static final int DEFAULT_HALF_OPEN_PROBES = 1;

  private static final Set<String> FIELDS =
      Set.of(
          "enabled",
          "consecutiveFailures",
          "windowSize",
          "minimumCalls",
          "failureRateThreshold",
          "slowCallDurationMs",
          "slowCallRateThreshold",
          "openDurationMs",
          "halfOpenProbes");

  private final boolean enabled;
  private final int consecutiveFailures;
  private final int windowSize;
  private final int minimumCalls;
  private final int failureRateThreshold;
  private final Duration slowCallDuration;
  private final int slowCallRateThreshold;
  private final Duration openDuration;
  private final int halfOpenProbes;

  private CircuitBreakerOptions(Builder b) {
    this.enabled = b.enabled;
    this.consecutiveFailures = b.consecutiveFailures;
    this.windowSize = b.windowSize;
    this.minimumCalls = b.minimumCalls;
    this.failureRateThreshold = b.failureRateThreshold;
    this.slowCallDuration = b.slowCallDuration;
    this.slowCallRateThreshold = b.slowCallRateThreshold;
    this.openDuration = b.openDuration;
    this.halfOpenProbes = b.halfOpenProbes;
  }

  /** The defaults (enabled). */
  public static CircuitBreakerOptions defaults() {
    return builder().build();
  }

  /** No breaking: every call passes, nothing is counted. */
  public static CircuitBreakerOptions disabled() {
    return builder().enabled(false).build();
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * Reads {@code {"enabled", "consecutiveFailures", "windowSize", "minimumCalls",
   * "failureRateThreshold", "slowCallDurationMs", "slowCallRateThreshold", "openDurationMs",
   * "halfOpenProbes"}}; absent fields keep their defaults.
   *
   * @throws ShardingConfigurationException naming the field ({@code circuitBreaker.<field>}) and
   *     the value
   */
  public static CircuitBreakerOptions fromJson(JsonObject json) {
    Builder b = builder();
    for (String field : json.fieldNames()) {
      if (!FIELDS.contains(field)) {
        throw new ShardingConfigurationException("circuitBreaker." + field, "unknown field");
      }
    }
    if (json.containsKey("enabled")) {
      if (!(json.getValue("enabled") instanceof Boolean e)) {
        throw new ShardingConfigurationException(
            "circuitBreaker.enabled", "must be a boolean, got " + json.getValue("enabled"));
      }
      b.enabled(e);
    }
    Integer v;
    if ((v = integer(json, "consecutiveFailures")) != null) b.consecutiveFailures(v);
    if ((v = integer(json, "windowSize")) != null) b.windowSize(v);
    if ((v = integer(json, "minimumCalls")) != null) b.minimumCalls(v);
    if ((v = integer(json, "failureRateThreshold")) != null) b.failureRateThreshold(v);
    if ((v = integer(json, "slowCallDurationMs")) != null) b.slowCallDuration(Duration.ofMillis(v));
    if ((v = integer(json, "slowCallRateThreshold")) != null) b.slowCallRateThreshold(v);
    if ((v = integer(json, "openDurationMs")) != null) b.openDuration(Duration.ofMillis(v));
    if ((v = integer(json, "halfOpenProbes")) != null) b.halfOpenProbes(v);
    return b.build();
  }

  private static Integer integer(JsonObject json, String field) {
    if (!json.containsKey(field)) {
      return null;
    }
    Object value = json.getValue(field);
    if (!(value instanceof Number n) || n.longValue() != n.doubleValue()) {
      throw new ShardingConfigurationException(
          "circuitBreaker." + field, "must be an integer, got " + value);
    }
    return n.intValue();
  }

  public JsonObject toJson() {
    return new JsonObject()
        .put("enabled", enabled)
        .put("consecutiveFailures", consecutiveFailures)
        .put("windowSize", windowSize)
        .put("minimumCalls", minimumCalls)
        .put("failureRateThreshold", failureRateThreshold)
        .put("slowCallDurationMs", slowCallDuration.toMillis())
        .put("slowCallRateThreshold", slowCallRateThreshold)
        .put("openDurationMs", openDuration.toMillis())
        .put("halfOpenProbes", halfOpenProbes);
  }

  public boolean enabled() {
    return enabled;
  }

  public int consecutiveFailures() {
    return consecutiveFailures;
  }

  public int windowSize() {
    return windowSize;
  }

  public int minimumCalls() {
    return minimumCalls;
  }

  public int failureRateThreshold() {
    return failureRateThreshold;
  }

  /** Zero: slow calls are not tracked. */
  public Duration slowCallDuration() {
    return slowCallDuration;
  }

  public int slowCallRateThreshold() {
    return slowCallRateThreshold;
  }

  public Duration openDuration() {
    return openDuration;
  }

  public int halfOpenProbes() {
    return halfOpenProbes;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof CircuitBreakerOptions other && toJson().equals(other.toJson());
  }

  @Override
  public int hashCode() {
    return toJson().hashCode();
  }

  @Override
  public String toString() {
    return "CircuitBreakerOptions" + toJson().encode();
  }

  /** Validating builder: every setter rejects an invalid value naming the field. */
  public static final class Builder {
    private boolean enabled = DEFAULT_ENABLED;
    private int consecutiveFailures = DEFAULT_CONSECUTIVE_FAILURES;
    private int windowSize = DEFAULT_WINDOW_SIZE;
    private int minimumCalls = DEFAULT_MINIMUM_CALLS;
    private int failureRateThreshold = DEFAULT_FAILURE_RATE_THRESHOLD;
    private Duration slowCallDuration = DEFAULT_SLOW_CALL_DURATION;
    private int slowCallRateThreshold = DEFAULT_SLOW_CALL_RATE_THRESHOLD;
    private Duration openDuration = DEFAULT_OPEN_DURATION;
    private int halfOpenProbes = DEFAULT_HALF_OPEN_PROBES;

    private Builder() {}

    public Builder enabled(boolean value) {
      this.enabled = value;
      return this;
    }

    /** Failures in a row that open the breaker (at least 1). */
    public Builder consecutiveFailures(int value) {
      this.consecutiveFailures = atLeast("consecutiveFailures", value, 1);
      return this;
    }

    /** Calls in the sliding window (1..10000). */
    public Builder windowSize(int value) {
      atLeast("windowSize", value, 1);
      if (value > 10_000) {
        throw new ShardingConfigurationException(
            "circuitBreaker.windowSize", "must be at most 10000, got " + value);
      }
      this.windowSize = value;
      return this;
    }

    /** Calls the window must hold before the rates count (at least 1, at most windowSize). */
    public Builder minimumCalls(int value) {
      this.minimumCalls = atLeast("minimumCalls", value, 1);
      return this;
    }

    /** Failure percentage (1..100) of the window that opens the breaker. */
    public Builder failureRateThreshold(int value) {
      this.failureRateThreshold = percent("failureRateThreshold", value);
      return this;
    }

    /** A call running longer than this is slow; zero turns slow-call tracking off. */
    public Builder slowCallDuration(Duration value) {
      Objects.requireNonNull(value, "slowCallDuration");
      if (value.isNegative()) {
        throw new ShardingConfigurationException(
            "circuitBreaker.slowCallDurationMs", "must not be negative, got " + value);
      }
      this.slowCallDuration = value;
      return this;
    }

    /** Slow-call percentage (1..100) of the window that opens the breaker. */
    public Builder slowCallRateThreshold(int value) {
      this.slowCallRateThreshold = percent("slowCallRateThreshold", value);
      return this;
    }

    /** How long the breaker stays open before probing (positive). */
    public Builder openDuration(Duration value) {
      Objects.requireNonNull(value, "openDuration");
      if (value.isZero() || value.isNegative()) {
        throw new ShardingConfigurationException(
            "circuitBreaker.openDurationMs", "must be positive, got " + value);
      }
      this.openDuration = value;
      return this;
    }

    /** Probe calls let through when half-open; all must succeed to close (at least 1). */
    public Builder halfOpenProbes(int value) {
      this.halfOpenProbes = atLeast("halfOpenProbes", value, 1);
      return this;
    }

    public CircuitBreakerOptions build() {
      if (minimumCalls > windowSize) {
        throw new ShardingConfigurationException(
            "circuitBreaker.minimumCalls",
            "must not exceed windowSize (" + windowSize + "), got " + minimumCalls);
      }
      return new CircuitBreakerOptions(this);
    }

    private static int atLeast(String field, int value, int min) {
      if (value < min) {
        throw new ShardingConfigurationException(
            "circuitBreaker." + field, "must be at least " + min + ", got " + value);
      }
      return value;
    }

    private static int percent(String field, int value) {
      if (value < 1 || value > 100) {
        throw new ShardingConfigurationException(
            "circuitBreaker." + field, "must be a percentage in 1..100, got " + value);
      }
      return value;
    }
  }
}
