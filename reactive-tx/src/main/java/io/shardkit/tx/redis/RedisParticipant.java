package io.shardkit.tx.redis;

import io.shardkit.context.ShardkitException;
import io.shardkit.tx.TccBranch;
import io.shardkit.tx.TccParticipant;
import io.shardkit.tx.TccPhaseOutcome;
import io.shardkit.tx.TccTryRefusedException;
import io.shardkit.tx.Transactions;
import io.vertx.core.Future;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Response;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Redis as a TCC or Saga participant: runs the phases of the {@link RedisStep}s registered here,
 * each as one Lua script that checks the branch's fence, runs the step's body and writes the fence,
 * atomically on the server. It plugs into the coordinator's participant seam like a remote service:
 * {@link #installOn} registers every step as a saga step reference and this participant for it, so
 * {@code saga.step(step.sagaStep(), arg)} and {@code tcc.enlist(step.tccAction(), arg)} reach it,
 * and recovery (any instance that installed the same steps) confirms or compensates with it.
 *
 * <p>The guarantees are the MySQL fence's ({@code TccParticipants}): a repeated phase returns
 * {@code DUPLICATE} and does nothing; a cancel before any try is an empty rollback that records the
 * branch as cancelled, so a late try is refused ({@link TccTryRefusedException}) and reserves
 * nothing; confirm and cancel may be retried by anyone. A command that timed out may still run on
 * the server later: the fence makes that harmless too.
 *
 * <p>What it needs from Redis: Lua scripting ({@code EVALSHA}, falling back to {@code EVAL} on
 * {@code NOSCRIPT}, e.g. after a restart), and, for the guarantees to survive a Redis restart,
 * persistence of every acknowledged write ({@code appendonly yes}, {@code appendfsync always}): a
 * fence entry lost with a crash lets a retried phase run twice. The fence hashes expire after
 * {@link RedisTxOptions#fenceRetention()}.
 */
public final class RedisParticipant implements TccParticipant {

  private final RedisSources sources;
  private final Map<String, RedisStep<?>> steps = new ConcurrentHashMap<>();

  private RedisParticipant(RedisSources sources) {
    this.sources = sources;
  }

  /** A participant sending its phases to {@code sources}. */
  public static RedisParticipant create(RedisSources sources) {
    return new RedisParticipant(java.util.Objects.requireNonNull(sources, "sources"));
  }

  /**
   * Registers a step.
   *
   * @throws RedisStepConfigurationException when its fixed source is not one of the sources, or the
   *     name is taken
   */
  public <A> RedisParticipant register(RedisStep<A> step) {
    if (step.fixedSource() != null) {
      sources.source(step.name(), step.fixedSource()); // unknown → typed error now
    }
    if (steps.putIfAbsent(step.name(), step) != null) {
      throw new RedisStepConfigurationException(
          step.name(), step.fixedSource(), "redis step " + step.name() + " is already registered");
    }
    return this;
  }

  /**
   * Registers every step here with {@code transactions}: as a saga step reference ({@link
   * RedisStep#sagaStep()}) and with this participant serving its name (also for TCC).
   */
  public RedisParticipant installOn(Transactions transactions) {
    for (RedisStep<?> step : steps.values()) {
      transactions.register(step.sagaStep());
      transactions.registerParticipant(step.name(), this);
    }
    return this;
  }

  /** The names of the registered steps. */
  public Set<String> steps() {
    return Set.copyOf(steps.keySet());
  }

  @Override
  public Future<TccPhaseOutcome> tryBranch(TccBranch branch) {
    return run(FenceScript.TRY, branch);
  }

  @Override
  public Future<TccPhaseOutcome> confirm(TccBranch branch) {
    return run(FenceScript.CONFIRM, branch);
  }

  @Override
  public Future<TccPhaseOutcome> cancel(TccBranch branch) {
    return run(FenceScript.CANCEL, branch);
  }

  /** The fence key of a branch. */
  public String fenceKey(String globalId, String branchId) {
    return sources.options().fencePrefix() + ":" + globalId + ":" + branchId;
  }

  private Future<TccPhaseOutcome> run(String phase, TccBranch branch) {
    RedisStep<?> step = steps.get(branch.action());
    if (step == null) {
      return Future.failedFuture(
          new RedisStepConfigurationException(
              branch.action(),
              null,
              "transaction "
                  + branch.globalId()
                  + ": no redis step '"
                  + branch.action()
                  + "' is registered with this participant (registered: "
                  + steps.keySet()
                  + ")"));
    }
    try {
      return run(phase, branch, step);
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
  }

  private <A> Future<TccPhaseOutcome> run(String phase, TccBranch branch, RedisStep<A> step) {
    A argument = step.codec().decode(branch.args());
    String sourceName = step.sourceFor(argument);
    RedisSources.Source source = sources.source(step.name(), sourceName);
    List<String> keys = new ArrayList<>();
    keys.add(fenceKey(branch.globalId(), branch.branchId()));
    keys.addAll(step.keysFor(argument));
    List<String> args = new ArrayList<>();
    args.add(Long.toString(sources.options().fenceRetention().toMillis()));
    args.addAll(step.argsFor(argument));
    FenceScript script = step.script(phase);
    return sources
        .send(
            source, RedisSources.eval(Command.EVALSHA, script.sha, keys, args), phase, step.name())
        .recover(
            failure -> {
              if (RedisSources.isErrorReply(failure)
                  && String.valueOf(failure.getMessage()).startsWith("NOSCRIPT")) {
                // not in the server's script cache (a restart): EVAL loads it
                return sources.send(
                    source,
                    RedisSources.eval(Command.EVAL, script.text, keys, args),
                    phase,
                    step.name());
              }
              return Future.failedFuture(failure);
            })
        .transform(
            ar -> {
              if (ar.failed()) {
                Throwable failure = ar.cause();
                sources.count("shardkit.redis.phases", source.name, phase, "failed");
                if (RedisSources.isErrorReply(failure)) {
                  String message = String.valueOf(failure.getMessage());
                  int refused = message.indexOf(FenceScript.REFUSED_PREFIX);
                  if (refused >= 0) {
                    return Future.failedFuture(
                        new RedisStepRefusedException(
                            branch.globalId(),
                            step.name(),
                            phase,
                            source.name,
                            message
                                .substring(refused + FenceScript.REFUSED_PREFIX.length())
                                .trim()));
                  }
                  return Future.failedFuture(
                      new RedisScriptException(
                          branch.globalId(), step.name(), phase, source.name, message));
                }
                return Future.failedFuture(failure);
              }
              return outcome(phase, branch, step, source.name, ar.result());
            });
  }

  private Future<TccPhaseOutcome> outcome(
      String phase, TccBranch branch, RedisStep<?> step, String source, Response reply) {
    String answer = reply == null || reply.size() == 0 ? "" : reply.get(0).toString();
    sources.count(
        "shardkit.redis.phases", source, phase, answer.toLowerCase(java.util.Locale.ROOT));
    switch (answer) {
      case "APPLIED":
        return Future.succeededFuture(TccPhaseOutcome.APPLIED);
      case "DUPLICATE":
        return Future.succeededFuture(TccPhaseOutcome.DUPLICATE);
      case "EMPTY_ROLLBACK":
        return Future.succeededFuture(TccPhaseOutcome.EMPTY_ROLLBACK);
      case "REFUSED":
        return Future.failedFuture(
            new TccTryRefusedException(
                branch.globalId(), branch.branchId(), branch.action(), "redis source " + source));
      case "NO_TRY":
        return Future.failedFuture(
            new ShardkitException(
                "transaction "
                    + branch.globalId()
                    + ": confirm of branch "
                    + branch.branchId()
                    + " (redis step "
                    + step.name()
                    + ") on redis source "
                    + source
                    + " refused: "
                    + (reply.size() > 1 && "cancel".equals(reply.get(1).toString())
                        ? "the branch was cancelled before its try"
                        : "no try is recorded (never tried, its fence expired, or Redis lost it:"
                            + " run Redis with appendonly yes, appendfsync always)")));
      default:
        return Future.failedFuture(
            new ShardkitException(
                "redis source " + source + " answered " + reply + " to a fenced " + phase));
    }
  }
}
