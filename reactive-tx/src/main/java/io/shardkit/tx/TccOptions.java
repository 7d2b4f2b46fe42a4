package io.shardkit.tx;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import io.shardkit.context.ConfigurationException;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.function.BiConsumer;
import java.util.regex.Pattern;

/**
 * Configuration of TCC: timeouts, retries, where the coordinator log lives, table names, recovery
 * and retention. Immutable; built with {@link #builder()} or {@link #fromJson(JsonObject)}; every
 * setter rejects an invalid value with a {@link ConfigurationException} naming the field.
 *
 * <p>Durations in JSON are whole milliseconds under the field name with an {@code Ms} suffix (e.g.
 * {@code "phaseTimeoutMs": 5000}); the meter registry is not read from JSON.
 */
public final class TccOptions {

  /**
   * Timeout of a transaction run with the internal coordinator when no timeout is given ({@link
   * Transactions#tcc} always takes one).
   */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);

  /** Timeout of one confirm or cancel attempt (and of a log write after the decision). */
  public static final Duration DEFAULT_PHASE_TIMEOUT = Duration.ofSeconds(5);

  /** How long the coordinator retries confirms/cancels before leaving them to recovery. */
  public static final Duration DEFAULT_COMPLETION_TIMEOUT = Duration.ofSeconds(15);

  public static final Duration DEFAULT_RETRY_INITIAL_DELAY = Duration.ofMillis(50);
  public static final Duration DEFAULT_RETRY_MAX_DELAY = Duration.ofSeconds(2);
  public static final String DEFAULT_TABLE_PREFIX = "shardkit";
  public static final Duration DEFAULT_RECOVERY_INTERVAL = Duration.ofSeconds(5);
  public static final Duration DEFAULT_RECOVERY_GRACE = Duration.ofSeconds(2);
  public static final Duration DEFAULT_RECOVERY_LEASE = Duration.ofSeconds(30);

  /** How long a decided transaction's coordinator may stay silent before recovery takes over. */
  public static final Duration DEFAULT_RECOVERY_TAKEOVER = Duration.ofSeconds(3);

  public static final int DEFAULT_RECOVERY_BATCH_SIZE = 64;
  public static final Duration DEFAULT_FENCE_RETENTION = Duration.ofDays(7);
  public static final Duration DEFAULT_LOG_RETENTION = Duration.ofDays(7);
  public static final Duration DEFAULT_CLEANUP_INTERVAL = Duration.ofMinutes(10);

  /**
   * Default {@link #maxInFlight()}: TCC and Saga transactions one coordinator drives at once before
   * it refuses new ones.
   */
  public static final int DEFAULT_MAX_IN_FLIGHT = 256;

  /** Default {@link #queueDelayTarget()}: zero, off (the count limit alone). */
  public static final Duration DEFAULT_QUEUE_DELAY_TARGET = Duration.ZERO;

  private static final Pattern TABLE_PREFIX = Pattern.compile("[A-Za-z][A-Za-z0-9_]{0,39}");
  private static final Pattern INSTANCE_ID = Pattern.compile("[A-Za-z0-9._:-]{1,64}");
  private static final Map<String, BiConsumer<Builder, Object>> JSON_FIELDS = jsonFields();

  private final Duration defaultTimeout;
  private final Duration phaseTimeout;
  private final Duration completionTimeout;
  private final Duration retryInitialDelay;
  private final Duration retryMaxDelay;
  private final String logDataSource;
  private final String tablePrefix;
  private final Duration recoveryInterval;
  private final Duration recoveryGrace;
  private final Duration recoveryLease;
  private final Duration recoveryTakeover;
  private final int recoveryBatchSize;
  private final Duration fenceRetention;
  private final Duration logRetention;
  private final Duration cleanupInterval;
  private final int maxInFlight;
  private final Duration queueDelayTarget;
  private final String instanceId;
  private final MeterRegistry meterRegistry;
  private final boolean meterRegistrySet;
  private final java.util.List<io.shardkit.tx.spi.TransactionObserver> observers;
  private final boolean tablePrefixSet;
  private final io.opentelemetry.api.OpenTelemetry openTelemetry;

  private TccOptions(Builder b) {
    this.defaultTimeout = b.defaultTimeout;
    this.phaseTimeout = b.phaseTimeout;
    this.completionTimeout = b.completionTimeout;
    this.retryInitialDelay = b.retryInitialDelay;
    this.retryMaxDelay = b.retryMaxDelay;
    this.logDataSource = b.logDataSource;
    this.tablePrefix = b.tablePrefix;
    this.recoveryInterval = b.recoveryInterval;
    this.recoveryGrace = b.recoveryGrace;
    this.recoveryLease = b.recoveryLease;
    this.recoveryTakeover = b.recoveryTakeover;
    this.recoveryBatchSize = b.recoveryBatchSize;
    this.fenceRetention = b.fenceRetention;
    this.logRetention = b.logRetention;
    this.cleanupInterval = b.cleanupInterval;
    this.maxInFlight = b.maxInFlight;
    this.queueDelayTarget = b.queueDelayTarget;
    this.instanceId = b.instanceId != null ? b.instanceId : "tcc-" + UUID.randomUUID();
    this.meterRegistry = b.meterRegistry != null ? b.meterRegistry : Metrics.globalRegistry;
    this.meterRegistrySet = b.meterRegistry != null;
    this.observers = java.util.List.copyOf(b.observers);
    this.tablePrefixSet = b.tablePrefixSet;
    this.openTelemetry = b.openTelemetry;
  }

  /** The defaults. */
  public static TccOptions defaults() {
    return builder().build();
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * Reads options from JSON; every field optional, unknown fields rejected.
   *
   * @throws ConfigurationException naming the first invalid field
   */
  public static TccOptions fromJson(JsonObject json) {
    return new TccOptions(json);
  }

  /**
   * Reads options from JSON, as {@link #fromJson} (the Vert.x data-object constructor).
   *
   * @throws ConfigurationException naming the first invalid field
   */
  public TccOptions(JsonObject json) {
    this(read(json));
  }

  private static Builder read(JsonObject json) {
    java.util.Objects.requireNonNull(json, "json");
    Builder builder = builder();
    for (Map.Entry<String, Object> entry : json) {
      BiConsumer<Builder, Object> setter = JSON_FIELDS.get(entry.getKey());
      if (setter == null) {
        throw new ConfigurationException(
            entry.getKey(), "unknown TCC option (known: " + JSON_FIELDS.keySet() + ")");
      }
      setter.accept(builder, entry.getValue());
    }
    return builder;
  }

  /** These options as JSON, readable by {@link #fromJson} (without the meter registry). */
  public JsonObject toJson() {
    JsonObject json =
        new JsonObject()
            .put("defaultTimeoutMs", defaultTimeout.toMillis())
            .put("phaseTimeoutMs", phaseTimeout.toMillis())
            .put("completionTimeoutMs", completionTimeout.toMillis())
            .put("retryInitialDelayMs", retryInitialDelay.toMillis())
            .put("retryMaxDelayMs", retryMaxDelay.toMillis())
            .put("tablePrefix", tablePrefix)
            .put("recoveryIntervalMs", recoveryInterval.toMillis())
            .put("recoveryGraceMs", recoveryGrace.toMillis())
            .put("recoveryLeaseMs", recoveryLease.toMillis())
            .put("recoveryTakeoverMs", recoveryTakeover.toMillis())
            .put("recoveryBatchSize", recoveryBatchSize)
            .put("fenceRetentionMs", fenceRetention.toMillis())
            .put("logRetentionMs", logRetention.toMillis())
            .put("cleanupIntervalMs", cleanupInterval.toMillis())
            .put("maxInFlight", maxInFlight)
            .put("queueDelayTargetMs", queueDelayTarget.toMillis())
            .put("instanceId", instanceId);
    if (logDataSource != null) {
      json.put("logDataSource", logDataSource);
    }
    return json;
  }

  /**
   * Timeout of the internal coordinator when no timeout is given ({@link Transactions#tcc} always
   * takes one) transactions.
   */
  public Duration defaultTimeout() {
    return defaultTimeout;
  }

  /** Timeout of one confirm/cancel attempt and of each coordinator-log write after the decision. */
  public Duration phaseTimeout() {
    return phaseTimeout;
  }

  /**
   * How long the coordinator drives confirms/cancels after its decision; then the caller gets
   * {@link TransactionOutcomePendingException} and recovery finishes the branches.
   */
  public Duration completionTimeout() {
    return completionTimeout;
  }

  /** First delay between confirm/cancel attempts; doubles up to {@link #retryMaxDelay()}. */
  public Duration retryInitialDelay() {
    return retryInitialDelay;
  }

  public Duration retryMaxDelay() {
    return retryMaxDelay;
  }

  /** The data source holding the coordinator log; null means the pool's first data source. */
  public String logDataSource() {
    return logDataSource;
  }

  /** Prefix of the tables: {@code <prefix>_fence} (every shard), {@code <prefix>_tx} (the log). */
  public String tablePrefix() {
    return tablePrefix;
  }

  /** The fence table, on every data source. */
  public String fenceTable() {
    return tablePrefix + "_fence";
  }

  /** The coordinator log: one row per global transaction, its branches included. */
  public String txTable() {
    return tablePrefix + "_tx";
  }

  /** Period of TCC recovery passes ({@link Transactions#startRecovery()}). */
  public Duration recoveryInterval() {
    return recoveryInterval;
  }

  /** How long after its deadline an undecided transaction is cancelled by recovery. */
  public Duration recoveryGrace() {
    return recoveryGrace;
  }

  /** How long a recovery instance owns a transaction it claimed before another may take it. */
  public Duration recoveryLease() {
    return recoveryLease;
  }

  /**
   * How long after its coordinator last showed life recovery takes over a decided transaction (a
   * coordinator driving its second phase, a saga's compensations or retry-only steps, renews it
   * every third of this): the bound on how late a dead coordinator's decided work is finished, not
   * the completion budget.
   */
  public Duration recoveryTakeover() {
    return recoveryTakeover;
  }

  /** Transactions claimed per recovery round. */
  public int recoveryBatchSize() {
    return recoveryBatchSize;
  }

  /**
   * Age after which fence rows are deleted. Must exceed the longest time a transaction can stay
   * unfinished (a late try is refused only while the cancel's fence row exists).
   */
  public Duration fenceRetention() {
    return fenceRetention;
  }

  /** Age after which finished transactions are deleted from the coordinator log. */
  public Duration logRetention() {
    return logRetention;
  }

  /** Minimum time between two clean-ups (fence and log) by one recovery instance. */
  public Duration cleanupInterval() {
    return cleanupInterval;
  }

  /**
   * How many TCC and Saga transactions this coordinator drives at once (from admission until the
   * caller is answered and the second phase it waits for is done). A new transaction beyond it is
   * refused at once with {@link TransactionOverloadedException}, before its first step: under
   * overload the transactions already started keep their pace instead of queueing behind newcomers.
   * Size it near what the pools can serve (connections × steps' speed); default {@value
   * #DEFAULT_MAX_IN_FLIGHT}.
   */
  public int maxInFlight() {
    return maxInFlight;
  }

  /**
   * The wait for a connection that lowers {@link #maxInFlight()} while it lasts: the steps of the
   * TCC and Saga transactions in flight (log writes, phases) time how long the pools take to hand
   * them a connection; when every step over an interval (100 ms) waited longer than this, a
   * standing queue, the coordinator lets in fewer transactions at once (in proportion, never fewer
   * than the pools' connections together) and refuses the others at once with {@link
   * TransactionOverloadedException} ({@link TransactionOverloadedException#queueing()}); the limit
   * grows back once the waits are short. A stalled shard makes every step wait too: new
   * transactions are then refused until the waits are short again. Zero (the default): only the
   * count limit; 10 ms turns it on with the router's target for statements.
   */
  public Duration queueDelayTarget() {
    return queueDelayTarget;
  }

  /** This instance's name in recovery leases; random unless set. */
  public String instanceId() {
    return instanceId;
  }

  /**
   * Where the TCC {@code shardkit.tx.*} meters ({@code mode=tcc}) go; the global registry unless
   * set.
   */
  public MeterRegistry meterRegistry() {
    return meterRegistry;
  }

  /** Where transaction and phase spans go: the one set, else {@code GlobalOpenTelemetry}. */
  public io.opentelemetry.api.OpenTelemetry openTelemetry() {
    return openTelemetry != null ? openTelemetry : io.opentelemetry.api.GlobalOpenTelemetry.get();
  }

  boolean tablePrefixSet() {
    return tablePrefixSet;
  }

  /**
   * The manager's observers ({@link TransactionsOptions.Builder#addObserver}), which hear TCC and
   * Saga transactions as they hear XA ones; not in JSON.
   */
  public java.util.List<io.shardkit.tx.spi.TransactionObserver> observers() {
    return observers;
  }

  boolean meterRegistrySet() {
    return meterRegistrySet;
  }

  boolean openTelemetrySet() {
    return openTelemetry != null;
  }

  public Builder toBuilder() {
    Builder b = new Builder();
    b.defaultTimeout = defaultTimeout;
    b.phaseTimeout = phaseTimeout;
    b.completionTimeout = completionTimeout;
    b.retryInitialDelay = retryInitialDelay;
    b.retryMaxDelay = retryMaxDelay;
    b.logDataSource = logDataSource;
    b.tablePrefix = tablePrefix;
    b.tablePrefixSet = tablePrefixSet;
    b.recoveryInterval = recoveryInterval;
    b.recoveryGrace = recoveryGrace;
    b.recoveryLease = recoveryLease;
    b.recoveryTakeover = recoveryTakeover;
    b.recoveryBatchSize = recoveryBatchSize;
    b.fenceRetention = fenceRetention;
    b.logRetention = logRetention;
    b.cleanupInterval = cleanupInterval;
    b.maxInFlight = maxInFlight;
    b.queueDelayTarget = queueDelayTarget;
    b.instanceId = instanceId;
    b.meterRegistry = meterRegistrySet ? meterRegistry : null;
    b.observers = observers;
    b.openTelemetry = openTelemetry;
    return b;
  }

  @Override
  public String toString() {
    return "TccOptions" + toJson().encode();
  }

  private static Map<String, BiConsumer<Builder, Object>> jsonFields() {
    Map<String, BiConsumer<Builder, Object>> fields = new LinkedHashMap<>();
    fields.put("defaultTimeoutMs", millis("defaultTimeoutMs", Builder::defaultTimeout));
    fields.put("phaseTimeoutMs", millis("phaseTimeoutMs", Builder::phaseTimeout));
    fields.put("completionTimeoutMs", millis("completionTimeoutMs", Builder::completionTimeout));
    fields.put("retryInitialDelayMs", millis("retryInitialDelayMs", Builder::retryInitialDelay));
    fields.put("retryMaxDelayMs", millis("retryMaxDelayMs", Builder::retryMaxDelay));
    fields.put("logDataSource", (b, v) -> b.logDataSource(string("logDataSource", v)));
    fields.put("tablePrefix", (b, v) -> b.tablePrefix(string("tablePrefix", v)));
    fields.put("recoveryIntervalMs", millis("recoveryIntervalMs", Builder::recoveryInterval));
    fields.put("recoveryGraceMs", millis("recoveryGraceMs", Builder::recoveryGrace));
    fields.put("recoveryLeaseMs", millis("recoveryLeaseMs", Builder::recoveryLease));
    fields.put("recoveryTakeoverMs", millis("recoveryTakeoverMs", Builder::recoveryTakeover));
    fields.put(
        "recoveryBatchSize", (b, v) -> b.recoveryBatchSize((int) whole("recoveryBatchSize", v)));
    fields.put("fenceRetentionMs", millis("fenceRetentionMs", Builder::fenceRetention));
    fields.put("logRetentionMs", millis("logRetentionMs", Builder::logRetention));
    fields.put("cleanupIntervalMs", millis("cleanupIntervalMs", Builder::cleanupInterval));
    fields.put(
        "maxInFlight",
        (b, v) -> b.maxInFlight((int) Math.min(Integer.MAX_VALUE, whole("maxInFlight", v))));
    fields.put("queueDelayTargetMs", millis("queueDelayTargetMs", Builder::queueDelayTarget));
    fields.put("instanceId", (b, v) -> b.instanceId(string("instanceId", v)));
    return fields;
  }

  private static BiConsumer<Builder, Object> millis(
      String field, BiConsumer<Builder, Duration> setter) {
    return (b, v) -> {
      long millis = whole(field, v);
      try {
        setter.accept(b, Duration.ofMillis(millis));
      } catch (ConfigurationException e) {
        // Name the JSON field (e.g. phaseTimeoutMs), not the builder's.
        throw new ConfigurationException(
            field, e.getMessage().substring(e.field().length() + 2) + " (" + millis + " ms)");
      }
    };
  }

  private static long whole(String field, Object value) {
    if (!(value instanceof Number number) || number.doubleValue() != number.longValue()) {
      throw new ConfigurationException(field, "must be a whole number, got " + value);
    }
    return number.longValue();
  }

  private static String string(String field, Object value) {
    if (!(value instanceof String s)) {
      throw new ConfigurationException(field, "must be a string, got " + value);
    }
    return s;
  }

  /** Builds {@link TccOptions}; each setter validates its value. */
  public static final class Builder {

    private Duration defaultTimeout = DEFAULT_TIMEOUT;
    private Duration phaseTimeout = DEFAULT_PHASE_TIMEOUT;
    private Duration completionTimeout = DEFAULT_COMPLETION_TIMEOUT;
    private Duration retryInitialDelay = DEFAULT_RETRY_INITIAL_DELAY;
    private Duration retryMaxDelay = DEFAULT_RETRY_MAX_DELAY;
    private String logDataSource;
    private String tablePrefix = DEFAULT_TABLE_PREFIX;
    private boolean tablePrefixSet;
    private Duration recoveryInterval = DEFAULT_RECOVERY_INTERVAL;
    private Duration recoveryGrace = DEFAULT_RECOVERY_GRACE;
    private Duration recoveryLease = DEFAULT_RECOVERY_LEASE;
    private Duration recoveryTakeover = DEFAULT_RECOVERY_TAKEOVER;
    private int recoveryBatchSize = DEFAULT_RECOVERY_BATCH_SIZE;
    private Duration fenceRetention = DEFAULT_FENCE_RETENTION;
    private Duration logRetention = DEFAULT_LOG_RETENTION;
    private Duration cleanupInterval = DEFAULT_CLEANUP_INTERVAL;
    private int maxInFlight = DEFAULT_MAX_IN_FLIGHT;
    private Duration queueDelayTarget = DEFAULT_QUEUE_DELAY_TARGET;
    private String instanceId;
    private MeterRegistry meterRegistry;
    private java.util.List<io.shardkit.tx.spi.TransactionObserver> observers = java.util.List.of();
    private io.opentelemetry.api.OpenTelemetry openTelemetry;

    private Builder() {}

    public Builder defaultTimeout(Duration value) {
      this.defaultTimeout = positive("defaultTimeout", value, Duration.ofHours(24));
      return this;
    }

    public Builder phaseTimeout(Duration value) {
      this.phaseTimeout = positive("phaseTimeout", value, Duration.ofHours(1));
      return this;
    }

    public Builder completionTimeout(Duration value) {
      this.completionTimeout = positive("completionTimeout", value, Duration.ofHours(24));
      return this;
    }

    public Builder retryInitialDelay(Duration value) {
      this.retryInitialDelay = positive("retryInitialDelay", value, Duration.ofMinutes(10));
      return this;
    }

    public Builder retryMaxDelay(Duration value) {
      this.retryMaxDelay = positive("retryMaxDelay", value, Duration.ofHours(1));
      return this;
    }

    /** The data source of the coordinator log (must be one of the pool's); null: the first. */
    public Builder logDataSource(String value) {
      if (value != null && value.isBlank()) {
        throw new ConfigurationException("logDataSource", "must not be blank");
      }
      this.logDataSource = value;
      return this;
    }

    /** 1 to 40 characters of {@code [A-Za-z0-9_]}, starting with a letter. */
    public Builder tablePrefix(String value) {
      if (value == null || !TABLE_PREFIX.matcher(value).matches()) {
        throw new ConfigurationException(
            "tablePrefix",
            "must be 1 to 40 characters of [A-Za-z0-9_] starting with a letter, got '"
                + value
                + "'");
      }
      this.tablePrefix = value;
      this.tablePrefixSet = true;
      return this;
    }

    public Builder recoveryInterval(Duration value) {
      this.recoveryInterval = positive("recoveryInterval", value, Duration.ofHours(24));
      return this;
    }

    public Builder recoveryGrace(Duration value) {
      this.recoveryGrace = positive("recoveryGrace", value, Duration.ofHours(24));
      return this;
    }

    /** Positive, at most 1 h; see {@link TccOptions#recoveryTakeover()}. */
    public Builder recoveryTakeover(Duration value) {
      this.recoveryTakeover = positive("recoveryTakeover", value, Duration.ofHours(1));
      return this;
    }

    public Builder recoveryLease(Duration value) {
      this.recoveryLease = positive("recoveryLease", value, Duration.ofHours(24));
      return this;
    }

    public Builder recoveryBatchSize(int value) {
      if (value < 1 || value > 10_000) {
        throw new ConfigurationException(
            "recoveryBatchSize", "must be between 1 and 10000, got " + value);
      }
      this.recoveryBatchSize = value;
      return this;
    }

    public Builder fenceRetention(Duration value) {
      this.fenceRetention = positive("fenceRetention", value, Duration.ofDays(3650));
      return this;
    }

    public Builder logRetention(Duration value) {
      this.logRetention = positive("logRetention", value, Duration.ofDays(3650));
      return this;
    }

    /** See {@link TccOptions#maxInFlight()}; between 1 and 1,000,000. */
    public Builder maxInFlight(int value) {
      if (value < 1 || value > 1_000_000) {
        throw new ConfigurationException(
            "maxInFlight", "must be between 1 and 1000000, got " + value);
      }
      this.maxInFlight = value;
      return this;
    }

    /** See {@link TccOptions#queueDelayTarget()}; zero (off) or positive, at most 1 min. */
    public Builder queueDelayTarget(Duration value) {
      this.queueDelayTarget =
          value != null && value.isZero()
              ? Duration.ZERO
              : positive("queueDelayTarget", value, Duration.ofMinutes(1));
      return this;
    }

    public Builder cleanupInterval(Duration value) {
      this.cleanupInterval = positive("cleanupInterval", value, Duration.ofDays(30));
      return this;
    }

    /** 1 to 64 characters of {@code [A-Za-z0-9._:-]}. */
    public Builder instanceId(String value) {
      if (value == null || !INSTANCE_ID.matcher(value).matches()) {
        throw new ConfigurationException(
            "instanceId", "must be 1 to 64 characters of [A-Za-z0-9._:-], got '" + value + "'");
      }
      this.instanceId = value;
      return this;
    }

    /** Set by {@link TransactionsOptions}: the manager's observers. */
    Builder observers(java.util.List<io.shardkit.tx.spi.TransactionObserver> value) {
      this.observers = java.util.List.copyOf(value);
      return this;
    }

    public Builder meterRegistry(MeterRegistry value) {
      this.meterRegistry = Objects.requireNonNull(value, "meterRegistry");
      return this;
    }

    /** Where spans go (default: {@code GlobalOpenTelemetry}). */
    public Builder openTelemetry(io.opentelemetry.api.OpenTelemetry value) {
      this.openTelemetry = Objects.requireNonNull(value, "openTelemetry");
      return this;
    }

    /**
     * @throws ConfigurationException if the values do not fit together (a phase attempt longer than
     *     the completion budget or than a recovery lease, an initial retry delay above the maximum)
     */
    public TccOptions build() {
      check(
          phaseTimeout.compareTo(completionTimeout) <= 0,
          "phaseTimeout",
          "must not exceed completionTimeout (" + completionTimeout + "), got " + phaseTimeout);
      check(
          phaseTimeout.compareTo(recoveryLease) < 0,
          "recoveryLease",
          "must exceed phaseTimeout (" + phaseTimeout + "), got " + recoveryLease);
      check(
          retryInitialDelay.compareTo(retryMaxDelay) <= 0,
          "retryInitialDelay",
          "must not exceed retryMaxDelay (" + retryMaxDelay + "), got " + retryInitialDelay);
      return new TccOptions(this);
    }

    private static void check(boolean ok, String field, String message) {
      if (!ok) {
        throw new ConfigurationException(field, message);
      }
    }

    private static Duration positive(String field, Duration value, Duration max) {
      if (value == null) {
        throw new ConfigurationException(field, "must be set");
      }
      if (value.isZero() || value.isNegative()) {
        throw new ConfigurationException(field, "must be positive, got " + value);
      }
      if (value.compareTo(max) > 0) {
        throw new ConfigurationException(field, "must be at most " + max + ", got " + value);
      }
      return value;
    }
  }
}
