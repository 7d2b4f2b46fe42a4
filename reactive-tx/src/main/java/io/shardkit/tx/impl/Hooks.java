package io.shardkit.tx.impl;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.shardkit.context.ShardkitTimeoutException;
import io.shardkit.tx.TransactionOutcomePendingException;
import io.shardkit.tx.TransactionOutcomeUnknownException;
import io.vertx.core.AsyncResult;
import io.vertx.core.Context;
import java.util.ArrayList;
import java.util.List;

/**
 * The {@code onCommit} / {@code onRollback} callbacks of one transaction, any protocol. They run
 * once, on the caller's context, when the outcome is final and durable: committed (also a durable
 * COMMIT decision whose second phase is still pending), or rolled back. An unknown outcome runs
 * neither (it is logged). A hook that throws is logged and counted in {@code
 * shardkit.tx.hook.failures}; it never changes the outcome. A hook registered after the outcome
 * runs at once if it matches.
 */
public final class Hooks {

  private static final System.Logger LOG = System.getLogger(Hooks.class.getName());

  /** The counter of hook failures, tagged {@code mode} and {@code hook}. */
  public static final String FAILURES = "shardkit.tx.hook.failures";

  private enum Final {
    OPEN,
    COMMITTED,
    ROLLED_BACK,
    UNKNOWN
  }

  private final Context context;
  private final MeterRegistry meters;
  private final String mode;
  private final List<Runnable> onCommit = new ArrayList<>();
  private final List<Runnable> onRollback = new ArrayList<>();
  private Final outcome = Final.OPEN;
  private String globalId;

  public Hooks(Context context, MeterRegistry meters, String mode) {
    this.context = context;
    this.meters = meters;
    this.mode = mode;
  }

  public void onCommit(Runnable hook) {
    add(hook, onCommit, Final.COMMITTED);
  }

  public void onRollback(Runnable hook) {
    add(hook, onRollback, Final.ROLLED_BACK);
  }

  private void add(Runnable hook, List<Runnable> list, Final when) {
    java.util.Objects.requireNonNull(hook, "hook");
    Final now;
    synchronized (this) {
      now = outcome;
      if (now == Final.OPEN) {
        list.add(hook);
        return;
      }
    }
    if (now == when) {
      context.runOnContext(v -> run(List.of(hook), when));
    }
  }

  /** The transaction ended: runs the matching hooks now (call on the caller's context). */
  public void outcome(String gid, AsyncResult<?> result) {
    Final decided = classify(result);
    List<Runnable> toRun;
    synchronized (this) {
      if (outcome != Final.OPEN) {
        return;
      }
      outcome = decided;
      globalId = gid;
      toRun =
          switch (decided) {
            case COMMITTED -> List.copyOf(onCommit);
            case ROLLED_BACK -> List.copyOf(onRollback);
            default -> List.of();
          };
      onCommit.clear();
      onRollback.clear();
    }
    if (decided == Final.UNKNOWN) {
      LOG.log(
          System.Logger.Level.WARNING,
          "transaction {0}: outcome unknown, no onCommit/onRollback hook runs",
          gid);
    }
    run(toRun, decided);
  }

  private static Final classify(AsyncResult<?> result) {
    if (result.succeeded()) {
      return Final.COMMITTED;
    }
    Throwable e = result.cause();
    if (e instanceof TransactionOutcomePendingException p) {
      return p.decision() == TransactionOutcomePendingException.Decision.COMMIT
          ? Final.COMMITTED
          : Final.ROLLED_BACK;
    }
    if (e instanceof TransactionOutcomeUnknownException
        || e instanceof io.shardkit.tx.TccOutcomeUnknownException
        || (e instanceof ShardkitTimeoutException
            && e.getCause() instanceof TransactionOutcomeUnknownException)) {
      return Final.UNKNOWN;
    }
    return Final.ROLLED_BACK;
  }

  private void run(List<Runnable> hooks, Final when) {
    String kind = when == Final.COMMITTED ? "commit" : "rollback";
    for (Runnable hook : hooks) {
      try {
        hook.run();
      } catch (Throwable t) {
        LOG.log(
            System.Logger.Level.WARNING,
            "transaction "
                + globalId
                + ": an on"
                + (when == Final.COMMITTED ? "Commit" : "Rollback")
                + " hook failed (the outcome stands)",
            t);
        Counter.builder(FAILURES)
            .description("onCommit/onRollback hooks that threw")
            .tag("mode", mode)
            .tag("hook", kind)
            .register(meters)
            .increment();
      }
    }
  }
}
