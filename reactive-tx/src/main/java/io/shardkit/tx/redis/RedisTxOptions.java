package io.shardkit.tx.redis;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import io.opentelemetry.api.OpenTelemetry;
import io.shardkit.context.ConfigurationException;
import io.shardkit.router.CircuitBreakerOptions;
import java.time.Duration;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Options of the Redis participant and of Redis side effects ({@link RedisSources}): where the
 * fence lives, how long a command may take, meters, traces and the per-source circuit breaker.
 * Immutable; {@link #defaults()} or {@link #builder()}.
 */
public final class RedisTxOptions {

  /** Default prefix of fence keys: {@code shardkit:fence:<gid>:<branch>}. */
  public static final String DEFAULT_FENCE_PREFIX = "shardkit:fence";

  /** Default time a fence hash is kept after its last phase (as the MySQL fence's retention). */
  public static final Duration DEFAULT_FENCE_RETENTION = Duration.ofDays(7);

  /** Default bound of one command (also capped by the transaction's deadline). */
  public static final Duration DEFAULT_COMMAND_TIMEOUT = Duration.ofSeconds(5);

  private static final Pattern PREFIX = Pattern.compile("[A-Za-z0-9._:{}-]{1,64}");

  private final String fencePrefix;
  private final Duration fenceRetention;
  private final Duration commandTimeout;
  private final MeterRegistry meterRegistry;
  private final OpenTelemetry openTelemetry;
  private final CircuitBreakerOptions circuitBreaker;

  private RedisTxOptions(Builder b) {
    this.fencePrefix = b.fencePrefix;
    this.fenceRetention = b.fenceRetention;
    this.commandTimeout = b.commandTimeout;
    this.meterRegistry = b.meterRegistry != null ? b.meterRegistry : Metrics.globalRegistry;
    this.openTelemetry = b.openTelemetry != null ? b.openTelemetry : OpenTelemetry.noop();
    this.circuitBreaker = b.circuitBreaker;
  }

  public static RedisTxOptions defaults() {
    return builder().build();
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Prefix of the fence hashes. */
  public String fencePrefix() {
    return fencePrefix;
  }

  /**
   * How long a fence hash lives after its last phase ({@code PEXPIRE}): longer than a transaction
   * can stay unfinished (recovery must still find its fence), like the MySQL fence's retention.
   */
  public Duration fenceRetention() {
    return fenceRetention;
  }

  /** The bound of one command, also capped by the remaining time of the transaction. */
  public Duration commandTimeout() {
    return commandTimeout;
  }

  public MeterRegistry meterRegistry() {
    return meterRegistry;
  }

  public OpenTelemetry openTelemetry() {
    return openTelemetry;
  }

  /** The per-source circuit breaker (the options the SQL data sources use). */
  public CircuitBreakerOptions circuitBreaker() {
    return circuitBreaker;
  }

  /** Builds {@link RedisTxOptions}. */
  public static final class Builder {
    private String fencePrefix = DEFAULT_FENCE_PREFIX;
    private Duration fenceRetention = DEFAULT_FENCE_RETENTION;
    private Duration commandTimeout = DEFAULT_COMMAND_TIMEOUT;
    private MeterRegistry meterRegistry;
    private OpenTelemetry openTelemetry;
    private CircuitBreakerOptions circuitBreaker = CircuitBreakerOptions.defaults();

    private Builder() {}

    /** 1 to 64 characters of {@code [A-Za-z0-9._:{}-]}. */
    public Builder fencePrefix(String prefix) {
      if (prefix == null || !PREFIX.matcher(prefix).matches()) {
        throw new ConfigurationException(
            "redis.fencePrefix", "must be 1 to 64 characters of [A-Za-z0-9._:{}-], got " + prefix);
      }
      this.fencePrefix = prefix;
      return this;
    }

    public Builder fenceRetention(Duration retention) {
      if (retention == null || retention.compareTo(Duration.ofMinutes(1)) < 0) {
        throw new ConfigurationException(
            "redis.fenceRetention", "must be at least 1 minute, got " + retention);
      }
      this.fenceRetention = retention;
      return this;
    }

    public Builder commandTimeout(Duration timeout) {
      if (timeout == null || timeout.isNegative() || timeout.isZero()) {
        throw new ConfigurationException(
            "redis.commandTimeout", "must be positive, got " + timeout);
      }
      this.commandTimeout = timeout;
      return this;
    }

    public Builder meterRegistry(MeterRegistry registry) {
      this.meterRegistry = Objects.requireNonNull(registry, "meterRegistry");
      return this;
    }

    public Builder openTelemetry(OpenTelemetry openTelemetry) {
      this.openTelemetry = Objects.requireNonNull(openTelemetry, "openTelemetry");
      return this;
    }

    public Builder circuitBreaker(CircuitBreakerOptions options) {
      this.circuitBreaker = Objects.requireNonNull(options, "circuitBreaker");
      return this;
    }

    public RedisTxOptions build() {
      return new RedisTxOptions(this);
    }
  }
}
