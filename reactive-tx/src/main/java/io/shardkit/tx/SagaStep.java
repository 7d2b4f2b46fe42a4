package io.shardkit.tx;

import io.shardkit.context.ConfigurationException;
import io.shardkit.router.ShardingRules;
import java.util.Objects;
import java.util.function.Function;

/**
 * A saga step: a name, an argument type with its JSON {@link TccCodec}, and, for a step this
 * process runs itself, where it runs, its action and its compensation. Built once at start-up and
 * registered by name ({@link Transactions#register(SagaStep)}), like a {@link TccAction}, so that
 * recovery finds it again from the name in the coordinator log.
 *
 * <ul>
 *   <li>the <b>action</b> does the work and returns a result to the saga's body; it may fail for
 *       business reasons (the saga is then compensated);
 *   <li>the <b>compensation</b> undoes what the action did; it is retried until it succeeds, so it
 *       must not fail for business reasons;
 *   <li>a <b>retry-only</b> step has no compensation: calling it commits the saga (its pivot), and
 *       its action is retried (by the coordinator, then by recovery) until it succeeds, so it must
 *       not fail for business reasons either.
 * </ul>
 *
 * Action and compensation each run in a local transaction on the data source that owns the argument
 * (from {@link Builder#shardedBy} or {@link Builder#dataSource}), with the same fence row as a TCC
 * try and cancel: each runs at most once per step, a compensation of an action that never committed
 * does nothing (and the action is refused if it arrives later).
 *
 * <p>A step run by another process is referenced with {@link #remote} (or {@link
 * #remoteRetryOnly}); the coordinator sends its action as a TCC try and its compensation as a TCC
 * cancel to the {@link TccParticipant} registered under that name (e.g. over gRPC), and the other
 * process registers the step (or an equivalent {@link TccAction}) in its {@link TccParticipants}.
 *
 * @param <A> the argument type
 * @param <R> the action's result type
 */
public final class SagaStep<A, R> {

  private final String name;
  private final TccCodec<A> codec;
  private final String logicalTable;
  private final Function<A, ?> shardingValue;
  private final Function<A, String> dataSource;
  private final SagaAction<A, R> action;
  private final TccPhase<A> compensation;
  private final boolean retryOnly;

  private SagaStep(Builder<A, R> builder) {
    this.name = builder.name;
    this.codec = builder.codec;
    this.logicalTable = builder.logicalTable;
    this.shardingValue = builder.shardingValue;
    this.dataSource = builder.dataSource;
    this.action = builder.action;
    this.compensation = builder.compensation;
    this.retryOnly = builder.retryOnly;
  }

  /**
   * Starts a local step.
   *
   * @param name unique among the steps and TCC actions of an application: 1 to 128 characters of
   *     {@code [A-Za-z0-9._:-]}; stored in the coordinator log and in fence rows
   * @param codec turns the argument into JSON and back
   * @throws ConfigurationException if the name is not valid
   */
  public static <A> Builder<A, Void> builder(String name, TccCodec<A> codec) {
    return new Builder<>(TccAction.checkName(name), Objects.requireNonNull(codec, "codec"));
  }

  /** A compensatable step run by another process (its result is always {@code null}). */
  public static <A> SagaStep<A, Void> remote(String name, TccCodec<A> codec) {
    return new SagaStep<>(
        new Builder<A, Void>(TccAction.checkName(name), Objects.requireNonNull(codec, "codec")));
  }

  /** A retry-only step run by another process (its result is always {@code null}). */
  public static <A> SagaStep<A, Void> remoteRetryOnly(String name, TccCodec<A> codec) {
    Builder<A, Void> builder =
        new Builder<>(TccAction.checkName(name), Objects.requireNonNull(codec, "codec"));
    builder.retryOnly = true;
    return new SagaStep<>(builder);
  }

  public String name() {
    return name;
  }

  public TccCodec<A> codec() {
    return codec;
  }

  /** Whether this process runs the step (false for {@link #remote} references). */
  public boolean isLocal() {
    return action != null;
  }

  /** Whether the step is retry-only (never compensated; calling it commits the saga). */
  public boolean isRetryOnly() {
    return retryOnly;
  }

  /** The action (null for a remote reference). */
  public SagaAction<A, R> action() {
    return action;
  }

  /** The compensation (null for a remote reference and for a retry-only step). */
  public TccPhase<A> compensation() {
    return compensation;
  }

  /** The logical table whose sharding value locates the argument, if the step gave one. */
  public String logicalTable() {
    return logicalTable;
  }

  /**
   * The data source the step with this argument runs on. Pure: no I/O.
   *
   * @throws IllegalArgumentException if the rules cannot place the argument
   */
  public String dataSourceFor(A argument, ShardingRules rules) {
    if (dataSource != null) {
      return dataSource.apply(argument);
    }
    if (logicalTable == null) {
      throw new IllegalStateException("step " + name + " is a remote reference: no data source");
    }
    return rules.dataSourceFor(logicalTable, shardingValue.apply(argument));
  }

  @Override
  public String toString() {
    return "SagaStep["
        + name
        + (retryOnly ? ", retry-only" : "")
        + (isLocal() ? "" : ", remote")
        + "]";
  }

  /** Builds a local {@link SagaStep}. */
  public static final class Builder<A, R> {

    private final String name;
    private final TccCodec<A> codec;
    private String logicalTable;
    private Function<A, ?> shardingValue;
    private Function<A, String> dataSource;
    private SagaAction<A, R> action;
    private TccPhase<A> compensation;
    private boolean retryOnly;

    private Builder(String name, TccCodec<A> codec) {
      this.name = name;
      this.codec = codec;
    }

    @SuppressWarnings("unchecked")
    private <R2> Builder<A, R2> self() {
      return (Builder<A, R2>) this;
    }

    /**
     * Runs the step on the data source that owns {@code shardingValue(argument)} in the database
     * strategy of {@code logicalTable}.
     */
    public Builder<A, R> shardedBy(String logicalTable, Function<A, ?> shardingValue) {
      if (logicalTable == null || logicalTable.isBlank()) {
        throw new ConfigurationException(
            "steps." + name + ".logicalTable", "must name a table, got '" + logicalTable + "'");
      }
      this.logicalTable = logicalTable;
      this.shardingValue = Objects.requireNonNull(shardingValue, "shardingValue");
      this.dataSource = null;
      return this;
    }

    /** Runs the step on one data source. */
    public Builder<A, R> dataSource(String dataSource) {
      if (dataSource == null || dataSource.isBlank()) {
        throw new ConfigurationException(
            "steps." + name + ".dataSource", "must name a data source, got '" + dataSource + "'");
      }
      return dataSource(argument -> dataSource);
    }

    /** Runs the step on the data source this function names for its argument. */
    public Builder<A, R> dataSource(Function<A, String> dataSource) {
      this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
      this.logicalTable = null;
      this.shardingValue = null;
      return this;
    }

    /** The action; its result is what {@link SagaTransaction#step} completes with. */
    public <R2> Builder<A, R2> action(SagaAction<A, R2> action) {
      Builder<A, R2> typed = self();
      typed.action = Objects.requireNonNull(action, "action");
      return typed;
    }

    /** The compensation: undoes the action. Not allowed on a retry-only step. */
    public Builder<A, R> compensation(TccPhase<A> compensation) {
      this.compensation = Objects.requireNonNull(compensation, "compensation");
      return this;
    }

    /** Makes the step retry-only: no compensation; calling it commits the saga. */
    public Builder<A, R> retryOnly() {
      this.retryOnly = true;
      return this;
    }

    /**
     * @throws ConfigurationException naming the first missing or conflicting part
     */
    public SagaStep<A, R> build() {
      String prefix = "steps." + name + ".";
      if (logicalTable == null && dataSource == null) {
        throw new ConfigurationException(
            prefix + "placement", "call shardedBy(table, key) or dataSource(...)");
      }
      if (action == null) {
        throw new ConfigurationException(prefix + "action", "required");
      }
      if (retryOnly && compensation != null) {
        throw new ConfigurationException(
            prefix + "compensation",
            "a retry-only step has no compensation (it is never undone); drop one of the two");
      }
      if (!retryOnly && compensation == null) {
        throw new ConfigurationException(
            prefix + "compensation", "required (or declare the step retryOnly())");
      }
      return new SagaStep<>(this);
    }
  }
}
