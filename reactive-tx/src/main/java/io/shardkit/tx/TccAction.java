package io.shardkit.tx;

import io.shardkit.context.ConfigurationException;
import io.shardkit.router.ShardingRules;
import java.util.Objects;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * A TCC action: a name, an argument type with its JSON {@link TccCodec}, and, for an action this
 * process runs itself, where it runs and its three phases. Built once at start-up and registered by
 * name (with {@link Transactions#register} or {@link TccParticipants#register}) so that recovery
 * can find it again from the name in the coordinator log after a restart.
 *
 * <ul>
 *   <li><b>try</b> reserves (e.g. moves an amount from {@code balance} to {@code frozen}); it must
 *       leave the data so that both confirm and cancel can succeed later;
 *   <li><b>confirm</b> applies the reservation; <b>cancel</b> releases it. Both are retried until
 *       they succeed, so they must not fail for business reasons.
 * </ul>
 *
 * Each phase runs in a local transaction on the data source that owns the argument (from {@link
 * Builder#shardedBy} or {@link Builder#dataSource}), together with the fence row that makes it
 * idempotent; the phase only writes its statements on the connection it is given.
 *
 * <p>An action run by another process is referenced with {@link #remote}: the name and codec only;
 * the coordinator sends it to the {@link TccParticipant} registered under that name.
 *
 * @param <A> the argument type
 */
public final class TccAction<A> {

  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._:-]{1,128}");

  private final String name;
  private final TccCodec<A> codec;
  private final String logicalTable;
  private final Function<A, ?> shardingValue;
  private final Function<A, String> dataSource;
  private final TccPhase<A> tryPhase;
  private final TccPhase<A> confirmPhase;
  private final TccPhase<A> cancelPhase;

  private TccAction(Builder<A> builder) {
    this.name = builder.name;
    this.codec = builder.codec;
    this.logicalTable = builder.logicalTable;
    this.shardingValue = builder.shardingValue;
    this.dataSource = builder.dataSource;
    this.tryPhase = builder.tryPhase;
    this.confirmPhase = builder.confirmPhase;
    this.cancelPhase = builder.cancelPhase;
  }

  /**
   * Starts a local action.
   *
   * @param name unique among the actions of an application: 1 to 128 characters of {@code
   *     [A-Za-z0-9._:-]}; it is stored in the coordinator log and in fence rows
   * @param codec turns the argument into JSON and back
   * @throws ConfigurationException if the name is not valid
   */
  public static <A> Builder<A> builder(String name, TccCodec<A> codec) {
    return new Builder<>(checkName(name), Objects.requireNonNull(codec, "codec"));
  }

  /**
   * An action run by another process: the name its participant serves and the argument's codec.
   * Enlisting it calls the {@link TccParticipant} registered under {@code name} with {@link
   * Transactions#registerParticipant}.
   *
   * @throws ConfigurationException if the name is not valid
   */
  public static <A> TccAction<A> remote(String name, TccCodec<A> codec) {
    Builder<A> builder = new Builder<>(checkName(name), Objects.requireNonNull(codec, "codec"));
    return new TccAction<>(builder);
  }

  /** The action's name. */
  public String name() {
    return name;
  }

  /** The argument's codec. */
  public TccCodec<A> codec() {
    return codec;
  }

  /** Whether this process runs the action (false for {@link #remote} references). */
  public boolean isLocal() {
    return tryPhase != null;
  }

  /** The try phase (null for a remote reference). */
  public TccPhase<A> tryPhase() {
    return tryPhase;
  }

  /** The confirm phase (null for a remote reference). */
  public TccPhase<A> confirmPhase() {
    return confirmPhase;
  }

  /** The cancel phase (null for a remote reference). */
  public TccPhase<A> cancelPhase() {
    return cancelPhase;
  }

  /** The logical table whose sharding value locates the argument, if the action gave one. */
  public String logicalTable() {
    return logicalTable;
  }

  /**
   * The data source the phases of a branch with this argument run on. Pure: no I/O.
   *
   * @throws IllegalArgumentException if the rules cannot place the argument
   */
  public String dataSourceFor(A argument, ShardingRules rules) {
    if (dataSource != null) {
      return dataSource.apply(argument);
    }
    if (logicalTable == null) {
      throw new IllegalStateException("action " + name + " is a remote reference: no data source");
    }
    return rules.dataSourceFor(logicalTable, shardingValue.apply(argument));
  }

  @Override
  public String toString() {
    return "TccAction[" + name + (isLocal() ? "" : ", remote") + "]";
  }

  /** Checks an action name; returns it. */
  static String checkName(String name) {
    if (name == null || !NAME.matcher(name).matches()) {
      throw new ConfigurationException(
          "action", "name must be 1 to 128 characters of [A-Za-z0-9._:-], got '" + name + "'");
    }
    return name;
  }

  /** Builds a local {@link TccAction}; every setter is required except the placement choice. */
  public static final class Builder<A> {

    private final String name;
    private final TccCodec<A> codec;
    private String logicalTable;
    private Function<A, ?> shardingValue;
    private Function<A, String> dataSource;
    private TccPhase<A> tryPhase;
    private TccPhase<A> confirmPhase;
    private TccPhase<A> cancelPhase;

    private Builder(String name, TccCodec<A> codec) {
      this.name = name;
      this.codec = codec;
    }

    /**
     * Runs each branch on the data source that owns {@code shardingValue(argument)} in the database
     * strategy of {@code logicalTable} (see {@link ShardingRules#dataSourceFor}).
     */
    public Builder<A> shardedBy(String logicalTable, Function<A, ?> shardingValue) {
      if (logicalTable == null || logicalTable.isBlank()) {
        throw new ConfigurationException(
            "actions." + name + ".logicalTable", "must name a table, got '" + logicalTable + "'");
      }
      this.logicalTable = logicalTable;
      this.shardingValue = Objects.requireNonNull(shardingValue, "shardingValue");
      this.dataSource = null;
      return this;
    }

    /** Runs every branch on one data source. */
    public Builder<A> dataSource(String dataSource) {
      if (dataSource == null || dataSource.isBlank()) {
        throw new ConfigurationException(
            "actions." + name + ".dataSource", "must name a data source, got '" + dataSource + "'");
      }
      return dataSource(argument -> dataSource);
    }

    /** Runs each branch on the data source this function names for its argument. */
    public Builder<A> dataSource(Function<A, String> dataSource) {
      this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
      this.logicalTable = null;
      this.shardingValue = null;
      return this;
    }

    /** The try phase: reserve. */
    public Builder<A> onTry(TccPhase<A> phase) {
      this.tryPhase = Objects.requireNonNull(phase, "try phase");
      return this;
    }

    /** The confirm phase: apply the reservation. */
    public Builder<A> onConfirm(TccPhase<A> phase) {
      this.confirmPhase = Objects.requireNonNull(phase, "confirm phase");
      return this;
    }

    /** The cancel phase: release the reservation. */
    public Builder<A> onCancel(TccPhase<A> phase) {
      this.cancelPhase = Objects.requireNonNull(phase, "cancel phase");
      return this;
    }

    /**
     * @throws ConfigurationException naming the first missing part
     */
    public TccAction<A> build() {
      String prefix = "actions." + name + ".";
      if (logicalTable == null && dataSource == null) {
        throw new ConfigurationException(
            prefix + "placement", "call shardedBy(table, key) or dataSource(...)");
      }
      if (tryPhase == null) {
        throw new ConfigurationException(prefix + "try", "required");
      }
      if (confirmPhase == null) {
        throw new ConfigurationException(prefix + "confirm", "required");
      }
      if (cancelPhase == null) {
        throw new ConfigurationException(prefix + "cancel", "required");
      }
      return new TccAction<>(this);
    }
  }
}
