package io.shardkit.tx.pg;

import io.shardkit.tx.SagaStep;
import io.shardkit.tx.TccAction;
import io.shardkit.tx.TccCodec;
import io.vertx.core.Future;
import io.vertx.sqlclient.SqlConnection;
import java.util.Objects;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * A TCC action or saga step whose phases are SQL on a PostgreSQL source, each run in one local
 * PostgreSQL transaction whose first statement writes the branch's fence row ({@link
 * PgParticipant}): e.g. credit a ledger account held as pending in the try, booked in the confirm,
 * released in the cancel.
 *
 * <pre>{@code
 * PgStep<Credit> credit = PgStep.builder("ledger.credit", CREDIT_CODEC)
 *     .source("ledger")
 *     .action((conn, c) -> conn.preparedQuery(
 *             "UPDATE account SET pending = pending + $1 WHERE id = $2 AND NOT frozen")
 *         .execute(Tuple.of(c.amount(), c.account()))
 *         .compose(rs -> rs.rowCount() == 1 ? Future.succeededFuture()
 *             : Future.failedFuture(new IllegalStateException("account frozen"))))
 *     .confirm((conn, c) -> conn.preparedQuery(
 *             "UPDATE account SET pending = pending - $1, balance = balance + $1 WHERE id = $2")
 *         .execute(Tuple.of(c.amount(), c.account())).mapEmpty())
 *     .compensation((conn, c) -> conn.preparedQuery(
 *             "UPDATE account SET pending = pending - $1 WHERE id = $2")
 *         .execute(Tuple.of(c.amount(), c.account())).mapEmpty())
 *     .build();
 * }</pre>
 *
 * <p>Each function gets the phase's connection (inside its transaction: never {@code COMMIT} or
 * {@code ROLLBACK} on it) and the argument. A failed future rolls the phase back with its fence
 * row, so the phase counts as not run: the action (the TCC try) may fail to refuse (the transaction
 * is then rolled back, the cancel is an empty rollback); the confirm and the compensation (cancel)
 * are retried until they succeed, so they must not refuse.
 *
 * @param <A> the argument type
 */
public final class PgStep<A> {

  /** One phase's work: the statements run on {@code connection} for {@code argument}. */
  @FunctionalInterface
  public interface Phase<A> extends BiFunction<SqlConnection, A, Future<Void>> {}

  private final String name;
  private final TccCodec<A> codec;
  private final Function<A, String> source;
  private final String fixedSource;
  private final Phase<A> action;
  private final Phase<A> confirm;
  private final Phase<A> compensation;

  private PgStep(Builder<A> b) {
    this.name = b.name;
    this.codec = b.codec;
    this.source = b.source;
    this.fixedSource = b.fixedSource;
    this.action = b.action;
    this.confirm = b.confirm == null ? (conn, a) -> Future.succeededFuture() : b.confirm;
    this.compensation = b.compensation;
  }

  /**
   * Starts a step.
   *
   * @param name unique among the steps and actions of the application (the TCC action name rules)
   */
  public static <A> Builder<A> builder(String name, TccCodec<A> codec) {
    // the same name rules as every action: checked by building a remote reference
    TccAction.remote(name, Objects.requireNonNull(codec, "codec"));
    return new Builder<>(name, codec);
  }

  public String name() {
    return name;
  }

  public TccCodec<A> codec() {
    return codec;
  }

  /** The source every branch runs on, or null when it is chosen per argument. */
  public String fixedSource() {
    return fixedSource;
  }

  /** The PostgreSQL source a branch with this argument runs on. */
  public String sourceFor(A argument) {
    return source.apply(argument);
  }

  Phase<A> phase(String phase) {
    return switch (phase) {
      case PgFence.TRY -> action;
      case PgFence.CONFIRM -> confirm;
      case PgFence.CANCEL -> compensation;
      default -> throw new IllegalArgumentException(phase);
    };
  }

  /**
   * The step as a saga step reference, for {@code saga.step(...)}: its action runs as the try, its
   * compensation as the cancel, on the {@link PgParticipant} registered for it.
   */
  public SagaStep<A, Void> sagaStep() {
    return SagaStep.remote(name, codec);
  }

  /** The step as a TCC action reference, for {@code tcc.enlist(...)}. */
  public TccAction<A> tccAction() {
    return TccAction.remote(name, codec);
  }

  @Override
  public String toString() {
    return "PgStep[" + name + (fixedSource == null ? "" : " on " + fixedSource) + "]";
  }

  /** Builds a {@link PgStep}. */
  public static final class Builder<A> {
    private final String name;
    private final TccCodec<A> codec;
    private Function<A, String> source;
    private String fixedSource;
    private Phase<A> action;
    private Phase<A> confirm;
    private Phase<A> compensation;

    private Builder(String name, TccCodec<A> codec) {
      this.name = name;
      this.codec = codec;
    }

    /** Every branch runs on this PostgreSQL source (a name given to {@link PgParticipant}). */
    public Builder<A> source(String source) {
      if (source == null || source.isBlank()) {
        throw new PgStepConfigurationException(
            name, source, "pg step " + name + ": source must name a PostgreSQL source");
      }
      this.fixedSource = source;
      this.source = a -> source;
      return this;
    }

    /** Each branch runs on the source this function names for its argument. */
    public Builder<A> source(Function<A, String> source) {
      this.source = Objects.requireNonNull(source, "source");
      this.fixedSource = null;
      return this;
    }

    /** The action (the TCC try); a failed future refuses it (the transaction rolls back). */
    public Builder<A> action(Phase<A> action) {
      this.action = Objects.requireNonNull(action, "action");
      return this;
    }

    /** The TCC confirm (default: nothing, the try's effect stands); must not refuse. */
    public Builder<A> confirm(Phase<A> confirm) {
      this.confirm = Objects.requireNonNull(confirm, "confirm");
      return this;
    }

    /** The compensation (the TCC cancel): undoes the action; retried, must not refuse. */
    public Builder<A> compensation(Phase<A> compensation) {
      this.compensation = Objects.requireNonNull(compensation, "compensation");
      return this;
    }

    /**
     * @throws PgStepConfigurationException naming the step, its source and the missing part
     */
    public PgStep<A> build() {
      String where =
          "pg step " + name + (fixedSource == null ? "" : " (source " + fixedSource + ")");
      if (source == null) {
        throw new PgStepConfigurationException(
            name,
            null,
            where + ": no PostgreSQL source: call source(name) or source(argument -> name)");
      }
      if (action == null) {
        throw new PgStepConfigurationException(
            name, fixedSource, where + ": no action (the statements of the try)");
      }
      if (compensation == null) {
        throw new PgStepConfigurationException(
            name,
            fixedSource,
            where
                + ": no compensation: a PostgreSQL step must be undoable (statements that undo"
                + " what the action did), or the transaction could not be rolled back");
      }
      return new PgStep<>(this);
    }
  }
}
