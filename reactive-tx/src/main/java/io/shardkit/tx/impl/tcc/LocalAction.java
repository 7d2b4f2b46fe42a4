package io.shardkit.tx.impl.tcc;

import io.shardkit.context.ShardkitException;
import io.shardkit.router.ShardingRules;
import io.shardkit.tx.SagaAction;
import io.shardkit.tx.SagaStep;
import io.shardkit.tx.TccAction;
import io.shardkit.tx.TccCodec;
import io.shardkit.tx.TccPhase;
import io.vertx.core.Future;

/**
 * A registered local participant action of either protocol, as the fenced runner sees it: the TCC
 * try or the saga action is the forward phase (fence phase 1, with a result for sagas), the TCC
 * cancel or the saga compensation the backward one (phase 3), the TCC confirm phase 2 (none for a
 * saga step).
 */
final class LocalAction<A> {

  final String name;
  final Protocol protocol;
  final TccCodec<A> codec;
  final String logicalTable;
  final boolean retryOnly;
  private final SagaAction<A, ?> forward;
  private final TccPhase<A> confirm;
  private final TccPhase<A> backward;
  private final java.util.function.BiFunction<A, ShardingRules, String> placement;

  private LocalAction(
      String name,
      Protocol protocol,
      TccCodec<A> codec,
      String logicalTable,
      boolean retryOnly,
      SagaAction<A, ?> forward,
      TccPhase<A> confirm,
      TccPhase<A> backward,
      java.util.function.BiFunction<A, ShardingRules, String> placement) {
    this.name = name;
    this.protocol = protocol;
    this.codec = codec;
    this.logicalTable = logicalTable;
    this.retryOnly = retryOnly;
    this.forward = forward;
    this.confirm = confirm;
    this.backward = backward;
    this.placement = placement;
  }

  static <A> LocalAction<A> of(TccAction<A> action) {
    TccPhase<A> tryPhase = action.tryPhase();
    return new LocalAction<>(
        action.name(),
        Protocol.TCC,
        action.codec(),
        action.logicalTable(),
        false,
        (ctx, a) -> tryPhase.run(ctx, a).map(v -> null),
        action.confirmPhase(),
        action.cancelPhase(),
        action::dataSourceFor);
  }

  static <A> LocalAction<A> of(SagaStep<A, ?> step) {
    return new LocalAction<>(
        step.name(),
        Protocol.SAGA,
        step.codec(),
        step.logicalTable(),
        step.isRetryOnly(),
        step.action(),
        null,
        step.compensation(),
        step::dataSourceFor);
  }

  String dataSourceFor(A argument, ShardingRules rules) {
    return placement.apply(argument, rules);
  }

  /** The phase's name in this protocol's words (meters, spans, {@code TccPhaseContext.phase()}). */
  String phaseName(int phase) {
    if (protocol == Protocol.SAGA) {
      return switch (phase) {
        case Sql.TRY -> "action";
        case Sql.CANCEL -> "compensation";
        default -> Sql.phaseName(phase);
      };
    }
    return Sql.phaseName(phase);
  }

  /** Fails before any I/O when the protocol has no such phase for this action. */
  ShardkitException refuse(int phase, String gid) {
    if (protocol == Protocol.SAGA && phase == Sql.CONFIRM) {
      return new ShardkitException(
          "transaction " + gid + ": saga step " + name + " has no confirm phase");
    }
    if (protocol == Protocol.SAGA && phase == Sql.CANCEL && retryOnly) {
      return new ShardkitException(
          "transaction " + gid + ": saga step " + name + " is retry-only, it is never compensated");
    }
    return null;
  }

  @SuppressWarnings("unchecked")
  Future<Object> run(int phase, io.shardkit.tx.TccPhaseContext context, A argument) {
    return switch (phase) {
      case Sql.TRY -> (Future<Object>) forward.run(context, argument);
      case Sql.CONFIRM -> confirm.run(context, argument).map(v -> null);
      default -> backward.run(context, argument).map(v -> null);
    };
  }
}
