package io.shardkit.context;

import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * How {@link TxScope#run} opens a scope: its timeout (mandatory, {@link #DEFAULT_TIMEOUT} unless
 * set, never "none"), and optionally the global id, branch id and routing hint.
 *
 * <p>Nesting rules (applied by {@link TxScope#run} when the caller is already inside a scope):
 *
 * <ul>
 *   <li>deadline: the earlier of {@code now + timeout} and the enclosing scope's deadline, so a
 *       nested scope can shorten its budget but never extend it;
 *   <li>global id: inherited unless {@link Builder#globalId} or {@link Builder#newGlobalId} is set
 *       (the nested scope then starts another global transaction, still under the enclosing
 *       deadline); generated when there is nothing to inherit;
 *   <li>branch id and routing hint: inherited unless set (the branch only while the global id is
 *       the inherited one).
 * </ul>
 *
 * <p>Immutable; built with {@link #builder()}, {@link #ofTimeout(Duration)} or {@link
 * #fromJson(JsonObject)}. Invalid values are rejected when set, with a {@link
 * ConfigurationException} naming the field and the value.
 */
public final class ScopeOptions {

  /** The timeout of a scope whose options do not set one: 30 seconds. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);

  /** The longest timeout accepted: 24 hours. Longer-running work is not a scope. */
  public static final Duration MAX_TIMEOUT = Duration.ofHours(24);

  private static final ScopeOptions DEFAULTS = new ScopeOptions(DEFAULT_TIMEOUT, null, null, null);
  private static final Set<String> JSON_FIELDS = Set.of("timeoutMs", "globalId", "branchId");

  private final Duration timeout;
  private final String globalId;
  private final String branchId;
  private final RoutingHint routingHint;

  private ScopeOptions(
      Duration timeout, String globalId, String branchId, RoutingHint routingHint) {
    this.timeout = timeout;
    this.globalId = globalId;
    this.branchId = branchId;
    this.routingHint = routingHint;
  }

  /** Options with the default timeout that inherit everything else. */
  public static ScopeOptions defaults() {
    return DEFAULTS;
  }

  /**
   * Options with this timeout that inherit everything else.
   *
   * @throws ConfigurationException if the timeout is null, zero, negative or above {@link
   *     #MAX_TIMEOUT}
   */
  public static ScopeOptions ofTimeout(Duration timeout) {
    return builder().timeout(timeout).build();
  }

  /** A builder starting from the defaults. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Reads options from JSON: {@code timeoutMs} (positive number of milliseconds), {@code globalId},
   * {@code branchId}; every field optional, any other field rejected.
   *
   * @throws ConfigurationException naming the first invalid field
   */
  public static ScopeOptions fromJson(JsonObject json) {
    Builder builder = builder();
    for (String field : json.fieldNames()) {
      if (!JSON_FIELDS.contains(field)) {
        throw new ConfigurationException(
            field, "unknown scope option (known: timeoutMs, globalId, branchId)");
      }
    }
    Object timeoutMs = json.getValue("timeoutMs");
    if (timeoutMs != null) {
      if (!(timeoutMs instanceof Number number) || number.doubleValue() != number.longValue()) {
        throw new ConfigurationException(
            "timeoutMs", "must be a whole number of milliseconds, got " + timeoutMs);
      }
      builder.timeout(Duration.ofMillis(number.longValue()), "timeoutMs");
    }
    Object globalId = json.getValue("globalId");
    if (globalId != null) {
      builder.globalId(String.valueOf(globalId));
    }
    Object branchId = json.getValue("branchId");
    if (branchId != null) {
      builder.branchId(String.valueOf(branchId));
    }
    return builder.build();
  }

  /** These options as JSON, readable by {@link #fromJson}; the routing hint is not included. */
  public JsonObject toJson() {
    JsonObject json = new JsonObject().put("timeoutMs", timeout.toMillis());
    if (globalId != null) {
      json.put("globalId", globalId);
    }
    if (branchId != null) {
      json.put("branchId", branchId);
    }
    return json;
  }

  /** The timeout; never null, always positive. */
  public Duration timeout() {
    return timeout;
  }

  /** The global id to use instead of the inherited or a generated one. */
  public Optional<String> globalId() {
    return Optional.ofNullable(globalId);
  }

  /** The branch id to use instead of the inherited one. */
  public Optional<String> branchId() {
    return Optional.ofNullable(branchId);
  }

  /** The routing hint to use instead of the inherited one. */
  public Optional<RoutingHint> routingHint() {
    return Optional.ofNullable(routingHint);
  }

  /** A builder starting from these options. */
  public Builder toBuilder() {
    Builder builder = new Builder();
    builder.timeout = timeout;
    builder.globalId = globalId;
    builder.branchId = branchId;
    builder.routingHint = routingHint;
    return builder;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ScopeOptions other
        && timeout.equals(other.timeout)
        && Objects.equals(globalId, other.globalId)
        && Objects.equals(branchId, other.branchId)
        && Objects.equals(routingHint, other.routingHint);
  }

  @Override
  public int hashCode() {
    return Objects.hash(timeout, globalId, branchId, routingHint);
  }

  @Override
  public String toString() {
    return "ScopeOptions[timeout="
        + timeout.toMillis()
        + " ms"
        + (globalId != null ? ", globalId=" + globalId : "")
        + (branchId != null ? ", branchId=" + branchId : "")
        + (routingHint != null ? ", " + routingHint : "")
        + "]";
  }

  /** Builds {@link ScopeOptions}; each setter validates its value. */
  public static final class Builder {

    private Duration timeout = DEFAULT_TIMEOUT;
    private String globalId;
    private String branchId;
    private RoutingHint routingHint;

    private Builder() {}

    /**
     * The scope's timeout, counted from when {@link TxScope#run} is called.
     *
     * @throws ConfigurationException if null, zero, negative or above {@link #MAX_TIMEOUT}
     */
    public Builder timeout(Duration timeout) {
      return timeout(timeout, "timeout");
    }

    private Builder timeout(Duration timeout, String field) {
      if (timeout == null) {
        throw new ConfigurationException(field, "must be set: a scope always has a deadline");
      }
      if (timeout.isZero() || timeout.isNegative()) {
        throw new ConfigurationException(
            field, "must be positive (there is no 'no timeout'), got " + timeout);
      }
      if (timeout.compareTo(MAX_TIMEOUT) > 0) {
        throw new ConfigurationException(
            field, "must be at most " + MAX_TIMEOUT + ", got " + timeout);
      }
      this.timeout = timeout;
      return this;
    }

    /**
     * Starts the scope under this global id instead of inheriting one.
     *
     * @throws ConfigurationException if the id is empty, longer than 64 characters or holds
     *     characters other than {@code [A-Za-z0-9._:-]}
     */
    public Builder globalId(String globalId) {
      this.globalId = TxContext.checkId("globalId", globalId);
      return this;
    }

    /** Starts the scope under a freshly generated global id ("requires new"). */
    public Builder newGlobalId() {
      this.globalId = GlobalIds.next();
      return this;
    }

    /**
     * The branch id of the scope.
     *
     * @throws ConfigurationException if the id is not valid (same rules as the global id)
     */
    public Builder branchId(String branchId) {
      this.branchId = TxContext.checkId("branchId", branchId);
      return this;
    }

    /** The routing hint of the scope; {@code null} to inherit the enclosing one. */
    public Builder routingHint(RoutingHint routingHint) {
      this.routingHint = routingHint;
      return this;
    }

    /** Immutable options. */
    public ScopeOptions build() {
      return new ScopeOptions(timeout, globalId, branchId, routingHint);
    }
  }
}
