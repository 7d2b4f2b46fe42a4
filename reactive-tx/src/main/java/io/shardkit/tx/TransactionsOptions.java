package io.shardkit.tx;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import io.shardkit.context.ConfigurationException;
import io.shardkit.tx.spi.TransactionObserver;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Configuration of a {@link Transactions} instance: where the coordinator log lives and how
 * recovery behaves. Immutable; built with {@link #builder(String)} or {@link
 * #fromJson(JsonObject)}; invalid values are rejected when set, naming the field and the value.
 */
public final class TransactionsOptions {

  /** Grace added to a branch's deadline before recovery may abort it: 10 s. */
  public static final Duration DEFAULT_RECOVERY_GRACE = Duration.ofSeconds(10);

  /** Period of recovery passes: 5 s. */
  public static final Duration DEFAULT_RECOVERY_INTERVAL = Duration.ofSeconds(5);

  /** How long a rollback may take before its connection is closed instead: 5 s. */
  public static final Duration DEFAULT_ROLLBACK_TIMEOUT = Duration.ofSeconds(5);

  /** How long finished decision rows are kept before recovery prunes them: 10 min. */
  public static final Duration DEFAULT_LOG_RETENTION = Duration.ofMinutes(10);

  /**
   * Prefix of reactive-tx's tables: {@code shardkit} ({@code shardkit_tx}, the one coordinator log
   * of every protocol; {@code shardkit_fence}; {@code shardkit_xa_lease}).
   */
  public static final String DEFAULT_TABLE_PREFIX = TccOptions.DEFAULT_TABLE_PREFIX;

  /**
   * Default {@link #maxInFlight()}: 256 XA transactions one manager drives at once before it
   * refuses new ones (as {@link TccOptions#DEFAULT_MAX_IN_FLIGHT} for TCC and Saga).
   */
  public static final int DEFAULT_MAX_IN_FLIGHT = 256;

  /**
   * Default {@link #queueDelayTarget()}: zero, off (the count limit alone); 10 ms is a good value
   * to turn it on with (the router's default for statements).
   */
  public static final Duration DEFAULT_QUEUE_DELAY_TARGET = Duration.ZERO;

  private static final Set<String> JSON_FIELDS =
      Set.of(
          "logDataSource",
          "tablePrefix",
          "recoveryGraceMs",
          "recoveryIntervalMs",
          "rollbackTimeoutMs",
          "logRetentionMs",
          "decisionOnParticipant",
          "pipelineBranchStart",
          "maxInFlight",
          "queueDelayTargetMs",
          "tcc",
          "postgres");

  private final String logDataSource;
  private final Duration recoveryGrace;
  private final Duration recoveryInterval;
  private final Duration rollbackTimeout;
  private final Duration logRetention;
  private final boolean decisionOnParticipant;
  private final boolean pipelineBranchStart;
  private final int maxInFlight;
  private final Duration queueDelayTarget;
  private final MeterRegistry meterRegistry;
  private final io.opentelemetry.api.OpenTelemetry openTelemetry;
  private final List<TransactionObserver> observers;
  private final TccOptions tcc;
  private final Map<String, PostgresSourceOptions> postgres;

  private TransactionsOptions(Builder b) {
    this.logDataSource = b.logDataSource;
    this.recoveryGrace = b.recoveryGrace;
    this.recoveryInterval = b.recoveryInterval;
    this.rollbackTimeout = b.rollbackTimeout;
    this.logRetention = b.logRetention;
    this.decisionOnParticipant = b.decisionOnParticipant;
    this.pipelineBranchStart = b.pipelineBranchStart;
    this.maxInFlight = b.maxInFlight;
    this.queueDelayTarget = b.queueDelayTarget;
    this.meterRegistry = b.meterRegistry;
    this.openTelemetry = b.openTelemetry;
    this.observers = List.copyOf(b.observers);
    this.tcc = withDefaults(b.tcc, b.tablePrefix);
    this.postgres =
        java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(b.postgres));
  }

  /**
   * The TCC and Saga section, with this log data source and table prefix (there is one coordinator
   * log for every protocol: a section may repeat them, not differ), and this meter registry and
   * tracer where it sets none.
   */
  private TccOptions withDefaults(TccOptions section, String prefix) {
    TccOptions.Builder t = section.toBuilder();
    if (section.logDataSource() != null && !section.logDataSource().equals(logDataSource)) {
      throw new ConfigurationException(
          "tcc.logDataSource",
          "'"
              + section.logDataSource()
              + "' differs from logDataSource '"
              + logDataSource
              + "': every protocol shares one coordinator log; set it once, at the top level");
    }
    t.logDataSource(logDataSource);
    if (prefix != null) {
      if (section.tablePrefixSet() && !section.tablePrefix().equals(prefix)) {
        throw new ConfigurationException(
            "tcc.tablePrefix",
            "'"
                + section.tablePrefix()
                + "' differs from tablePrefix '"
                + prefix
                + "': every protocol shares one coordinator log; set it once, at the top level");
      }
      t.tablePrefix(prefix);
    }
    t.observers(observers);
    if (!section.meterRegistrySet()) {
      t.meterRegistry(meterRegistry);
    }
    if (!section.openTelemetrySet() && openTelemetry != null) {
      t.openTelemetry(openTelemetry);
    }
    return t.build();
  }

  /**
   * A builder; {@code logDataSource} is the data source (one of the ShardedPool's) holding the
   * coordinator log.
   */
  public static Builder builder(String logDataSource) {
    return new Builder(logDataSource);
  }

  /** Options with every default and this log data source. */
  public static TransactionsOptions of(String logDataSource) {
    return builder(logDataSource).build();
  }

  /**
   * Reads {@code logDataSource} (required), {@code logTable}, {@code recoveryGraceMs}, {@code
   * recoveryIntervalMs}, {@code rollbackTimeoutMs}, {@code logRetentionMs}, {@code
   * decisionOnParticipant}, {@code pipelineBranchStart}, {@code maxInFlight}, {@code
   * queueDelayTargetMs}, {@code tcc} (an object read by {@link TccOptions#fromJson}) and {@code
   * postgres} (an object of named PostgreSQL sources, each read by {@link
   * PostgresSourceOptions#fromJson}; errors name {@code postgres.<name>.<field>}); any other field
   * is rejected. The meter registry, OpenTelemetry and observers are set on the builder only.
   */
  public static TransactionsOptions fromJson(JsonObject json) {
    return new TransactionsOptions(json);
  }

  /**
   * Reads options from JSON, as {@link #fromJson} (the Vert.x data-object constructor), so the
   * transaction manager configures from the same Vert.x config / YAML file as the pool.
   *
   * @throws ConfigurationException naming the invalid field's path (e.g. {@code
   *     tcc.phaseTimeoutMs})
   */
  public TransactionsOptions(JsonObject json) {
    this(read(json));
  }

  private static Builder read(JsonObject json) {
    Objects.requireNonNull(json, "json");
    for (String field : json.fieldNames()) {
      if (!JSON_FIELDS.contains(field)) {
        throw new ConfigurationException(field, "unknown option (known: " + JSON_FIELDS + ")");
      }
    }
    Object ds = json.getValue("logDataSource");
    if (!(ds instanceof String s)) {
      throw new ConfigurationException("logDataSource", "required string, got " + ds);
    }
    Builder b = builder(s);
    if (json.containsKey("tablePrefix")) {
      b.tablePrefix(String.valueOf(json.getValue("tablePrefix")));
    }
    b.recoveryGrace = millis(json, "recoveryGraceMs", b.recoveryGrace, true);
    b.recoveryInterval = millis(json, "recoveryIntervalMs", b.recoveryInterval, false);
    b.rollbackTimeout = millis(json, "rollbackTimeoutMs", b.rollbackTimeout, false);
    b.logRetention = millis(json, "logRetentionMs", b.logRetention, true);
    b.queueDelayTarget = millis(json, "queueDelayTargetMs", b.queueDelayTarget, true);
    if (json.containsKey("decisionOnParticipant")) {
      if (!(json.getValue("decisionOnParticipant") instanceof Boolean on)) {
        throw new ConfigurationException(
            "decisionOnParticipant",
            "must be true or false, got " + json.getValue("decisionOnParticipant"));
      }
      b.decisionOnParticipant(on);
    }
    if (json.containsKey("pipelineBranchStart")) {
      if (!(json.getValue("pipelineBranchStart") instanceof Boolean on)) {
        throw new ConfigurationException(
            "pipelineBranchStart",
            "must be true or false, got " + json.getValue("pipelineBranchStart"));
      }
      b.pipelineBranchStart(on);
    }
    if (json.containsKey("maxInFlight")) {
      Object v = json.getValue("maxInFlight");
      if (!(v instanceof Number n) || n.doubleValue() != n.longValue()) {
        throw new ConfigurationException("maxInFlight", "must be a whole number, got " + v);
      }
      b.maxInFlight((int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, n.longValue())));
    }
    if (json.containsKey("tcc")) {
      if (!(json.getValue("tcc") instanceof JsonObject section)) {
        throw new ConfigurationException("tcc", "must be an object, got " + json.getValue("tcc"));
      }
      try {
        b.tcc(TccOptions.fromJson(section));
      } catch (ConfigurationException e) {
        String reason = e.getMessage().substring(e.field().length() + 2);
        throw new ConfigurationException("tcc." + e.field(), reason, e);
      }
    }
    if (json.containsKey("postgres")) {
      readPostgres(json.getValue("postgres"), b);
    }
    return b;
  }

  /** {@code "postgres": {"<name>": {PostgresSourceOptions JSON}, ...}}. */
  private static void readPostgres(Object value, Builder b) {
    if (!(value instanceof JsonObject sources)) {
      throw new ConfigurationException("postgres", "must be an object, got " + value);
    }
    for (String name : sources.fieldNames()) {
      String field = "postgres." + name;
      if (!(sources.getValue(name) instanceof JsonObject source)) {
        throw new ConfigurationException(field, "must be an object, got " + sources.getValue(name));
      }
      PostgresSourceOptions options;
      try {
        options = PostgresSourceOptions.fromJson(source);
      } catch (ConfigurationException e) {
        String reason = e.getMessage().substring(e.field().length() + 2);
        throw new ConfigurationException(field + "." + e.field(), reason, e);
      }
      b.postgres(name, options);
    }
  }

  private static Duration millis(JsonObject json, String field, Duration dflt, boolean zeroOk) {
    if (!json.containsKey(field)) {
      return dflt;
    }
    Object v = json.getValue(field);
    if (!(v instanceof Number n) || n.doubleValue() != n.longValue()) {
      throw new ConfigurationException(field, "must be a whole number of milliseconds, got " + v);
    }
    return check(field, Duration.ofMillis(n.longValue()), zeroOk);
  }

  private static Duration check(String field, Duration d, boolean zeroOk) {
    if (d == null || d.isNegative() || (!zeroOk && d.isZero())) {
      throw new ConfigurationException(
          field, "must be " + (zeroOk ? "zero or positive" : "positive") + ", got " + d);
    }
    return d;
  }

  public JsonObject toJson() {
    return new JsonObject()
        .put("logDataSource", logDataSource)
        .put("tablePrefix", tablePrefix())
        .put("recoveryGraceMs", recoveryGrace.toMillis())
        .put("recoveryIntervalMs", recoveryInterval.toMillis())
        .put("rollbackTimeoutMs", rollbackTimeout.toMillis())
        .put("logRetentionMs", logRetention.toMillis())
        .put("decisionOnParticipant", decisionOnParticipant)
        .put("pipelineBranchStart", pipelineBranchStart)
        .put("maxInFlight", maxInFlight)
        .put("queueDelayTargetMs", queueDelayTarget.toMillis())
        .put("tcc", tcc.toJson())
        .put("postgres", postgresJson());
  }

  /** The PostgreSQL sources, by name, without their passwords. */
  private JsonObject postgresJson() {
    JsonObject sources = new JsonObject();
    postgres.forEach((name, source) -> sources.put(name, source.toJson()));
    return sources;
  }

  /** The data source holding the coordinator log and recovery's lease table. */
  public String logDataSource() {
    return logDataSource;
  }

  /**
   * Prefix of the tables: {@code <prefix>_tx} on the log data source, the one coordinator log of
   * XA, TCC and Saga (one row per global transaction: protocol, state, deadline, lease, branches);
   * {@code <prefix>_xa_lease} beside it (XA recovery's per-data-source leases); {@code
   * <prefix>_fence} on every data source (TCC and Saga phases).
   */
  public String tablePrefix() {
    return tcc.tablePrefix();
  }

  /** The coordinator log table, {@code <tablePrefix>_tx}. */
  public String logTable() {
    return tcc.txTable();
  }

  /**
   * The table of XA decisions kept on participants, {@code <tablePrefix>_xa_decision}, on every
   * MySQL data source (see {@link #decisionOnParticipant()}).
   */
  public String xaDecisionTable() {
    return tablePrefix() + "_xa_decision";
  }

  /** Time after a branch's deadline before recovery may decide ABORT for it. */
  public Duration recoveryGrace() {
    return recoveryGrace;
  }

  /** Period of the recovery service's passes. */
  public Duration recoveryInterval() {
    return recoveryInterval;
  }

  /** How long a rollback may take before the connection is closed (recovery finishes the rest). */
  public Duration rollbackTimeout() {
    return rollbackTimeout;
  }

  /** Minimum age of a finished decision row before recovery deletes it. */
  public Duration logRetention() {
    return logRetention;
  }

  /**
   * Whether an XA transaction's first MySQL branch keeps its decision (default true): that branch
   * runs as a local transaction and, once every other branch is prepared, commits its work together
   * with the COMMIT row in {@code <tablePrefix>_xa_decision} on its own data source, in one durable
   * write; the others' xids name it. When false, every branch is prepared and the decision is
   * written to the coordinator log on {@link #logDataSource()} (one prepare and one log write more,
   * in sequence). Transactions whose first branch is a PostgreSQL source, and pools with a data
   * source name containing '@' or longer than 23 characters, use the coordinator log.
   */
  public boolean decisionOnParticipant() {
    return decisionOnParticipant;
  }

  /**
   * Whether a MySQL branch's start is pipelined with its first statement (default false): the
   * session is switched to {@code autocommit=0} and {@code XA START} (nothing, for the deciding
   * branch: its first statement opens the transaction) goes out in the same round trip as the first
   * statement instead of one before it. Safe because nothing autocommits: a statement behind a
   * start that failed waits uncommitted and is rolled back with the connection, which is closed
   * rather than pooled; every branch's last command restores {@code autocommit=1} in its own round
   * trip. It saves the round trip only when the data sources' connect options set a pipelining
   * limit above 1, which {@code ShardedPool.stream} does not survive (see the router's README): off
   * by default for that reason.
   */
  public boolean pipelineBranchStart() {
    return pipelineBranchStart;
  }

  /**
   * How many XA transactions this manager drives at once (from {@code begin} until the caller is
   * answered, the second phase included unless it runs in the background). A new transaction beyond
   * it is refused at once with {@link TransactionOverloadedException}, before any connection is
   * taken or anything is logged: under overload the transactions already started keep their pace
   * instead of waiting for connections behind newcomers. An XA transaction holds a connection per
   * data source it touched from its first statement to its commit, so size it near the connections
   * the pools have times a few; default {@value #DEFAULT_MAX_IN_FLIGHT}.
   */
  public int maxInFlight() {
    return maxInFlight;
  }

  /**
   * The wait for a connection that lowers {@link #maxInFlight()} while it lasts: the steps of the
   * XA transactions in flight time how long the pools take to hand them a connection; when every
   * step over an interval (100 ms) waited longer than this, a standing queue, the manager lets in
   * fewer transactions at once (in proportion, never fewer than the pools' connections together)
   * and refuses the others at once with {@link TransactionOverloadedException} ({@link
   * TransactionOverloadedException#queueing()}); the limit grows back once the waits are short.
   * Under overload the admitted transactions then take about their own time plus this, instead of
   * waiting behind up to {@link #maxInFlight()} others. It judges waits, not their cause: a shard
   * that stalls (paused, killed, restarting) makes every step wait too, and new transactions are
   * then refused until the waits are short again. Zero (the default): only the count limit; 10 ms
   * turns it on with the router's target for statements.
   */
  public Duration queueDelayTarget() {
    return queueDelayTarget;
  }

  /** Where {@code shardkit.tx.*} meters go; the global registry unless set. */
  public MeterRegistry meterRegistry() {
    return meterRegistry;
  }

  /**
   * Where transaction and phase spans go: the one set on the builder, else {@code
   * GlobalOpenTelemetry} (a no-op unless the application installed one).
   */
  public io.opentelemetry.api.OpenTelemetry openTelemetry() {
    return openTelemetry != null ? openTelemetry : io.opentelemetry.api.GlobalOpenTelemetry.get();
  }

  /**
   * The TCC section: timeouts, retries, table names and recovery of TCC transactions. Its log data
   * source, meter registry and OpenTelemetry are these options' unless the section sets its own.
   */
  public TccOptions tcc() {
    return tcc;
  }

  /** Observers called besides the metrics and tracing (tests, custom hooks). */
  public List<TransactionObserver> observers() {
    return observers;
  }

  /**
   * The named PostgreSQL data sources global XA transactions may enlist ({@link Builder#postgres}),
   * in the order they were added; set on the builder only (not in JSON).
   */
  public Map<String, PostgresSourceOptions> postgresSources() {
    return postgres;
  }

  @Override
  public String toString() {
    return "TransactionsOptions" + toJson().encode();
  }

  /** Builds {@link TransactionsOptions}; each setter validates its value. */
  public static final class Builder {
    private final String logDataSource;
    private String tablePrefix;
    private Duration recoveryGrace = DEFAULT_RECOVERY_GRACE;
    private Duration recoveryInterval = DEFAULT_RECOVERY_INTERVAL;
    private Duration rollbackTimeout = DEFAULT_ROLLBACK_TIMEOUT;
    private Duration logRetention = DEFAULT_LOG_RETENTION;
    private boolean decisionOnParticipant = true;
    private boolean pipelineBranchStart;
    private int maxInFlight = DEFAULT_MAX_IN_FLIGHT;
    private Duration queueDelayTarget = DEFAULT_QUEUE_DELAY_TARGET;
    private MeterRegistry meterRegistry = Metrics.globalRegistry;
    private io.opentelemetry.api.OpenTelemetry openTelemetry;
    private final List<TransactionObserver> observers = new ArrayList<>();
    private TccOptions tcc = TccOptions.defaults();
    private final Map<String, PostgresSourceOptions> postgres = new java.util.LinkedHashMap<>();

    private Builder(String logDataSource) {
      if (logDataSource == null || logDataSource.isBlank()) {
        throw new ConfigurationException("logDataSource", "required, got '" + logDataSource + "'");
      }
      this.logDataSource = logDataSource;
    }

    /**
     * Prefix of every table (default {@code shardkit}): 1 to 40 characters of {@code [A-Za-z0-9_]}
     * starting with a letter. See {@link TransactionsOptions#tablePrefix()}.
     */
    public Builder tablePrefix(String prefix) {
      TccOptions.builder().tablePrefix(prefix); // validates, naming the field
      this.tablePrefix = prefix;
      return this;
    }

    /** Zero or positive; must exceed the clock skew between app instances. */
    public Builder recoveryGrace(Duration grace) {
      this.recoveryGrace = check("recoveryGrace", grace, true);
      return this;
    }

    /** Positive. */
    public Builder recoveryInterval(Duration interval) {
      this.recoveryInterval = check("recoveryInterval", interval, false);
      return this;
    }

    /** Positive. */
    public Builder rollbackTimeout(Duration timeout) {
      this.rollbackTimeout = check("rollbackTimeout", timeout, false);
      return this;
    }

    /** Zero or positive. */
    public Builder logRetention(Duration retention) {
      this.logRetention = check("logRetention", retention, true);
      return this;
    }

    /** See {@link TransactionsOptions#decisionOnParticipant()}; default true. */
    public Builder decisionOnParticipant(boolean on) {
      this.decisionOnParticipant = on;
      return this;
    }

    /** See {@link TransactionsOptions#pipelineBranchStart()}; default false. */
    public Builder pipelineBranchStart(boolean on) {
      this.pipelineBranchStart = on;
      return this;
    }

    /** See {@link TransactionsOptions#maxInFlight()}; between 1 and 1,000,000. */
    public Builder maxInFlight(int value) {
      if (value < 1 || value > 1_000_000) {
        throw new ConfigurationException(
            "maxInFlight", "must be between 1 and 1000000, got " + value);
      }
      this.maxInFlight = value;
      return this;
    }

    /** See {@link TransactionsOptions#queueDelayTarget()}; zero (off) or positive. */
    public Builder queueDelayTarget(Duration target) {
      this.queueDelayTarget = check("queueDelayTarget", target, true);
      return this;
    }

    public Builder meterRegistry(MeterRegistry registry) {
      this.meterRegistry = Objects.requireNonNull(registry, "meterRegistry");
      return this;
    }

    /** Where spans go (default: {@code GlobalOpenTelemetry}). */
    public Builder openTelemetry(io.opentelemetry.api.OpenTelemetry openTelemetry) {
      this.openTelemetry = Objects.requireNonNull(openTelemetry, "openTelemetry");
      return this;
    }

    public Builder addObserver(TransactionObserver observer) {
      observers.add(Objects.requireNonNull(observer, "observer"));
      return this;
    }

    /** The TCC section (default: {@link TccOptions#defaults()}). */
    public Builder tcc(TccOptions tcc) {
      this.tcc = Objects.requireNonNull(tcc, "tcc");
      return this;
    }

    /**
     * Adds a named PostgreSQL data source that global XA transactions may enlist next to the MySQL
     * shards (the work reaches it with {@link Transactions#postgres(String)}): an unsharded
     * participant whose branch commits with PostgreSQL's own two-phase commit ({@code PREPARE
     * TRANSACTION}, {@code COMMIT PREPARED}) under the same decision log and recovery as the XA
     * branches. The name must differ from the pool's data sources (checked at {@code create}), is
     * at most 47 characters (it is part of the branch id) and may not contain {@code '}.
     */
    public Builder postgres(String name, PostgresSourceOptions source) {
      String field = "postgres." + name;
      if (name == null || name.isBlank() || name.length() > 47 || name.indexOf('\'') >= 0) {
        throw new ConfigurationException(
            field,
            "a PostgreSQL data source name is 1 to 47 characters without ', got '" + name + "'");
      }
      if (postgres.containsKey(name)) {
        throw new ConfigurationException(field, "added twice");
      }
      postgres.put(name, Objects.requireNonNull(source, field));
      return this;
    }

    public TransactionsOptions build() {
      return new TransactionsOptions(this);
    }
  }
}
