package io.shardkit.tx.outbox;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import java.time.Duration;
import java.util.Objects;
import java.util.UUID;

/**
 * Settings of the outbox, its relay and its reconciliation. Every field has a default; {@link
 * #builder()} changes them.
 *
 * <p>The outbox table ({@link #table()}) is a logical table of the pool's rules, sharded on the
 * column {@code aggregate_key} by the same database strategy as the business table whose rows the
 * messages describe (one actual table per data source, no table strategy). The lease table lives
 * next to it on every data source and is not part of the rules.
 */
public final class OutboxOptions {

  private final String table;
  private final String leaseTable;
  private final String aggregateKeyType;
  private final Duration pollInterval;
  private final int batchSize;
  private final int maxInFlight;
  private final Duration leaseDuration;
  private final Duration publishTimeout;
  private final Duration failureBackoff;
  private final boolean deletePublished;
  private final Duration retention;
  private final Duration stuckAfter;
  private final Duration reconcileInterval;
  private final String relayId;
  private final MeterRegistry meterRegistry;

  private OutboxOptions(Builder b) {
    this.table = b.table;
    this.leaseTable = b.leaseTable;
    this.aggregateKeyType = b.aggregateKeyType;
    this.pollInterval = b.pollInterval;
    this.batchSize = b.batchSize;
    this.maxInFlight = b.maxInFlight;
    this.leaseDuration = b.leaseDuration;
    this.publishTimeout = b.publishTimeout;
    this.failureBackoff = b.failureBackoff;
    this.deletePublished = b.deletePublished;
    this.retention = b.retention;
    this.stuckAfter = b.stuckAfter;
    this.reconcileInterval = b.reconcileInterval;
    this.relayId = b.relayId;
    this.meterRegistry = b.meterRegistry;
  }

  /** The defaults. */
  public static OutboxOptions defaults() {
    return builder().build();
  }

  /** A builder starting from the defaults. */
  public static Builder builder() {
    return new Builder();
  }

  /** A builder starting from these settings. */
  public Builder toBuilder() {
    Builder b = new Builder();
    b.table = table;
    b.leaseTable = leaseTable;
    b.aggregateKeyType = aggregateKeyType;
    b.pollInterval = pollInterval;
    b.batchSize = batchSize;
    b.maxInFlight = maxInFlight;
    b.leaseDuration = leaseDuration;
    b.publishTimeout = publishTimeout;
    b.failureBackoff = failureBackoff;
    b.deletePublished = deletePublished;
    b.retention = retention;
    b.stuckAfter = stuckAfter;
    b.reconcileInterval = reconcileInterval;
    b.relayId = relayId;
    b.meterRegistry = meterRegistry;
    return b;
  }

  /** The logical outbox table ({@code shardkit_outbox}). */
  public String table() {
    return table;
  }

  /** The relay lease table on every data source ({@code shardkit_outbox_lease}). */
  public String leaseTable() {
    return leaseTable;
  }

  /**
   * The SQL type of {@code aggregate_key} ({@code BIGINT}): the type of the business table's
   * sharding column, so that a key routes the outbox row where it routes the business row.
   */
  public String aggregateKeyType() {
    return aggregateKeyType;
  }

  /** How long an idle relay waits between polls of a data source (50 ms). */
  public Duration pollInterval() {
    return pollInterval;
  }

  /** Rows read per poll (200). */
  public int batchSize() {
    return batchSize;
  }

  /** Publications in flight at once per data source (32), one per aggregate key at most. */
  public int maxInFlight() {
    return maxInFlight;
  }

  /** How long a relay's lease on a data source lasts from its last renewal (5 s). */
  public Duration leaseDuration() {
    return leaseDuration;
  }

  /**
   * The longest a sink may take for one message (2 s); a relay starts no publication later than
   * lease end minus this, so a new owner never publishes while the old one still does.
   */
  public Duration publishTimeout() {
    return publishTimeout;
  }

  /** Wait after a failed poll or a failed publication (500 ms). */
  public Duration failureBackoff() {
    return failureBackoff;
  }

  /**
   * Delete published rows at once instead of marking them (false: marked, kept {@link
   * #retention()}).
   */
  public boolean deletePublished() {
    return deletePublished;
  }

  /** How long marked rows are kept before the relay deletes them (1 h). */
  public Duration retention() {
    return retention;
  }

  /** A message unpublished for longer than this is stuck for reconciliation (30 s). */
  public Duration stuckAfter() {
    return stuckAfter;
  }

  /** How often reconciliation runs (10 s). */
  public Duration reconcileInterval() {
    return reconcileInterval;
  }

  /** This relay instance's name in the lease table (random unless set). */
  public String relayId() {
    return relayId;
  }

  /** Where {@code shardkit.outbox.*} meters go (the global registry). */
  public MeterRegistry meterRegistry() {
    return meterRegistry;
  }

  /** Builder of {@link OutboxOptions}. */
  public static final class Builder {
    private String table = "shardkit_outbox";
    private String leaseTable = "shardkit_outbox_lease";
    private String aggregateKeyType = "BIGINT";
    private Duration pollInterval = Duration.ofMillis(50);
    private int batchSize = 200;
    private int maxInFlight = 32;
    private Duration leaseDuration = Duration.ofSeconds(5);
    private Duration publishTimeout = Duration.ofSeconds(2);
    private Duration failureBackoff = Duration.ofMillis(500);
    private boolean deletePublished;
    private Duration retention = Duration.ofHours(1);
    private Duration stuckAfter = Duration.ofSeconds(30);
    private Duration reconcileInterval = Duration.ofSeconds(10);
    private String relayId = "relay-" + UUID.randomUUID().toString().substring(0, 8);
    private MeterRegistry meterRegistry = Metrics.globalRegistry;

    private Builder() {}

    public Builder table(String table) {
      this.table = identifier("table", table);
      return this;
    }

    public Builder leaseTable(String leaseTable) {
      this.leaseTable = identifier("leaseTable", leaseTable);
      return this;
    }

    public Builder aggregateKeyType(String sqlType) {
      if (sqlType == null || !sqlType.matches("[A-Za-z]+( UNSIGNED)?(\\(\\d+\\))?( UNSIGNED)?")) {
        throw new IllegalArgumentException("aggregateKeyType: a SQL column type such as BIGINT");
      }
      this.aggregateKeyType = sqlType;
      return this;
    }

    public Builder pollInterval(Duration d) {
      this.pollInterval = positive("pollInterval", d);
      return this;
    }

    public Builder batchSize(int n) {
      if (n < 1 || n > 10_000) {
        throw new IllegalArgumentException("batchSize: 1 to 10000");
      }
      this.batchSize = n;
      return this;
    }

    public Builder maxInFlight(int n) {
      if (n < 1) {
        throw new IllegalArgumentException("maxInFlight: at least 1");
      }
      this.maxInFlight = n;
      return this;
    }

    public Builder leaseDuration(Duration d) {
      this.leaseDuration = positive("leaseDuration", d);
      return this;
    }

    public Builder publishTimeout(Duration d) {
      this.publishTimeout = positive("publishTimeout", d);
      return this;
    }

    public Builder failureBackoff(Duration d) {
      this.failureBackoff = positive("failureBackoff", d);
      return this;
    }

    public Builder deletePublished(boolean delete) {
      this.deletePublished = delete;
      return this;
    }

    public Builder retention(Duration d) {
      this.retention = positive("retention", d);
      return this;
    }

    public Builder stuckAfter(Duration d) {
      this.stuckAfter = positive("stuckAfter", d);
      return this;
    }

    public Builder reconcileInterval(Duration d) {
      this.reconcileInterval = positive("reconcileInterval", d);
      return this;
    }

    public Builder relayId(String id) {
      if (id == null || id.isBlank() || id.length() > 64) {
        throw new IllegalArgumentException("relayId: 1 to 64 chars");
      }
      this.relayId = id;
      return this;
    }

    public Builder meterRegistry(MeterRegistry registry) {
      this.meterRegistry = Objects.requireNonNull(registry, "meterRegistry");
      return this;
    }

    /**
     * Checks that a lease outlives a publication: {@code publishTimeout} must be less than half of
     * {@code leaseDuration}.
     */
    public OutboxOptions build() {
      if (publishTimeout.multipliedBy(2).compareTo(leaseDuration) >= 0) {
        throw new IllegalArgumentException(
            "publishTimeout ("
                + publishTimeout.toMillis()
                + " ms) must be less than half of leaseDuration ("
                + leaseDuration.toMillis()
                + " ms)");
      }
      return new OutboxOptions(this);
    }

    private static String identifier(String field, String name) {
      if (name == null || !name.matches("[A-Za-z_][A-Za-z0-9_]{0,63}")) {
        throw new IllegalArgumentException(field + ": a plain SQL identifier");
      }
      return name;
    }

    private static Duration positive(String field, Duration d) {
      if (d == null || d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException(field + ": a positive duration");
      }
      return d;
    }
  }
}
