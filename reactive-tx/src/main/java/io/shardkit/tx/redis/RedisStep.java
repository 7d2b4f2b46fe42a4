package io.shardkit.tx.redis;

import io.shardkit.tx.SagaStep;
import io.shardkit.tx.TccAction;
import io.shardkit.tx.TccCodec;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;

/**
 * A TCC action or saga step whose phases are Redis operations, each a Lua body run atomically with
 * its fence (one script per phase, see {@link RedisParticipant}): e.g. reserve stock with a guarded
 * {@code DECRBY} and give it back in the compensation.
 *
 * <pre>{@code
 * RedisStep<Reserve> reserve = RedisStep.builder("stock.reserve", RESERVE_CODEC)
 *     .source("stock")
 *     .keys(r -> List.of("stock:" + r.sku()))
 *     .args(r -> List.of(Long.toString(r.quantity())))
 *     .action("local left = tonumber(redis.call('GET', KEYS[1]) or '0')\n"
 *         + "if left < tonumber(ARGV[1]) then return redis.error_reply('out of stock') end\n"
 *         + "redis.call('DECRBY', KEYS[1], ARGV[1])")
 *     .compensation("redis.call('INCRBY', KEYS[1], ARGV[1])")
 *     .build();
 * }</pre>
 *
 * <p>A body sees its keys as {@code KEYS} and its arguments as {@code ARGV}; it returns nothing to
 * succeed, or {@code redis.error_reply(reason)} to refuse ({@link RedisStepRefusedException}),
 * having written nothing. It must check before it writes: Redis does not undo the writes of a
 * script that fails half-way. The action (the TCC try) may refuse; the compensation (cancel) and
 * the confirm are retried until they succeed, so they must not refuse.
 *
 * <p>The keys should live on one Redis node with the fence (a standalone server, or hash tags on a
 * cluster).
 *
 * @param <A> the argument type
 */
public final class RedisStep<A> {

  private final String name;
  private final TccCodec<A> codec;
  private final Function<A, String> source;
  private final String fixedSource;
  private final Function<A, List<String>> keys;
  private final Function<A, List<String>> args;
  final FenceScript tryScript;
  final FenceScript confirmScript;
  final FenceScript cancelScript;

  private RedisStep(Builder<A> b) {
    this.name = b.name;
    this.codec = b.codec;
    this.source = b.source;
    this.fixedSource = b.fixedSource;
    this.keys = b.keys;
    this.args = b.args;
    this.tryScript = new FenceScript(FenceScript.TRY, b.action);
    this.confirmScript =
        new FenceScript(FenceScript.CONFIRM, b.confirm == null ? "return nil" : b.confirm);
    this.cancelScript = new FenceScript(FenceScript.CANCEL, b.compensation);
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

  /** The Redis source a branch with this argument runs on. */
  public String sourceFor(A argument) {
    return source.apply(argument);
  }

  List<String> keysFor(A argument) {
    List<String> k = keys.apply(argument);
    return k == null ? List.of() : k;
  }

  List<String> argsFor(A argument) {
    List<String> a = args.apply(argument);
    return a == null ? List.of() : a;
  }

  FenceScript script(String phase) {
    return switch (phase) {
      case FenceScript.TRY -> tryScript;
      case FenceScript.CONFIRM -> confirmScript;
      case FenceScript.CANCEL -> cancelScript;
      default -> throw new IllegalArgumentException(phase);
    };
  }

  /**
   * The step as a saga step reference, for {@code saga.step(...)}: its action runs as the try, its
   * compensation as the cancel, on the {@link RedisParticipant} registered for it.
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
    return "RedisStep[" + name + (fixedSource == null ? "" : " on " + fixedSource) + "]";
  }

  /** Builds a {@link RedisStep}. */
  public static final class Builder<A> {
    private final String name;
    private final TccCodec<A> codec;
    private Function<A, String> source;
    private String fixedSource;
    private Function<A, List<String>> keys = a -> List.of();
    private Function<A, List<String>> args = a -> List.of();
    private String action;
    private String confirm;
    private String compensation;

    private Builder(String name, TccCodec<A> codec) {
      this.name = name;
      this.codec = codec;
    }

    /** Every branch runs on this Redis source. */
    public Builder<A> source(String source) {
      if (source == null || source.isBlank()) {
        throw new RedisStepConfigurationException(
            name, source, "redis step " + name + ": source must name a Redis source");
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

    /** The keys the bodies see as {@code KEYS}. */
    public Builder<A> keys(Function<A, List<String>> keys) {
      this.keys = Objects.requireNonNull(keys, "keys");
      return this;
    }

    /** The arguments the bodies see as {@code ARGV}. */
    public Builder<A> args(Function<A, List<String>> args) {
      this.args = Objects.requireNonNull(args, "args");
      return this;
    }

    /** The action (the TCC try): a Lua body; may refuse with {@code redis.error_reply}. */
    public Builder<A> action(String lua) {
      this.action = Objects.requireNonNull(lua, "action");
      return this;
    }

    /** The TCC confirm: a Lua body (default: nothing, the try's effect stands). */
    public Builder<A> confirm(String lua) {
      this.confirm = Objects.requireNonNull(lua, "confirm");
      return this;
    }

    /** The compensation (the TCC cancel): a Lua body that undoes the action; never refuses. */
    public Builder<A> compensation(String lua) {
      this.compensation = Objects.requireNonNull(lua, "compensation");
      return this;
    }

    /**
     * @throws RedisStepConfigurationException naming the step, its source and the missing part
     */
    public RedisStep<A> build() {
      String where =
          "redis step " + name + (fixedSource == null ? "" : " (source " + fixedSource + ")");
      if (source == null) {
        throw new RedisStepConfigurationException(
            name, null, where + ": no Redis source: call source(name) or source(argument -> name)");
      }
      if (action == null) {
        throw new RedisStepConfigurationException(
            name, fixedSource, where + ": no action (the Lua body of the try)");
      }
      if (compensation == null) {
        throw new RedisStepConfigurationException(
            name,
            fixedSource,
            where
                + ": no compensation: a Redis step must be undoable (a Lua body that gives back"
                + " what the action took), or the transaction could not be rolled back");
      }
      return new RedisStep<>(this);
    }
  }
}
