package io.shardkit.tx.impl.tcc;

import io.shardkit.context.Deadline;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * The deadline as a promise to the caller of a TCC or Saga transaction: at most {@link #SLACK}
 * after it, the caller is answered with what is known then, and what is unfinished goes on in the
 * background (or recovery takes it over if this process dies).
 */
final class DeadlineAnswer {

  /** How late after its deadline a caller is answered at most (event-loop delays aside). */
  static final Duration SLACK = Duration.ofMillis(100);

  /** Where a coordinator is after the tries / the body, for an answer at the deadline. */
  enum Stage {
    RUNNING,
    DECIDING,
    COMMITTED,
    CANCELLING
  }

  /**
   * What a transaction knows about its outcome while its coordinator finishes it: written by the
   * coordinator as it goes, read by {@link #guard} at the deadline.
   */
  static final class Progress {
    final Deadline deadline;
    private final Supplier<Throwable> unknown;
    private final Supplier<Throwable> committedWithoutValue;
    volatile Stage stage = Stage.RUNNING;
    private volatile Object value;
    private volatile boolean hasValue;
    volatile Throwable failure;

    /** Committed with part of the second phase left (to the background or to recovery). */
    volatile boolean secondPhasePending;

    /**
     * @param unknown what the caller hears when the decision is still being written
     * @param committedWithoutValue what the caller hears when committed without a value yet
     */
    Progress(
        Deadline deadline, Supplier<Throwable> unknown, Supplier<Throwable> committedWithoutValue) {
      this.deadline = deadline;
      this.unknown = unknown;
      this.committedWithoutValue = committedWithoutValue;
    }

    /** The caller's value, known. */
    void value(Object value) {
      this.value = value;
      this.hasValue = true;
    }

    /** Cancelling: the caller will hear {@code failure}. */
    void cancelling(Throwable failure) {
      this.failure = failure;
      this.stage = Stage.CANCELLING;
    }
  }

  private DeadlineAnswer() {}

  /**
   * How long past the deadline a decision write still in flight is awaited before the caller hears
   * "unknown": a decision that lands within it gives a definite answer.
   */
  static final Duration DECISION_WAIT = Duration.ofMillis(50);

  /**
   * {@code decided}, or, if it has not completed by the deadline (checked once {@code started}
   * completed, when the tries or the body have ended), the answer {@code progress} gives then: at
   * the deadline when the outcome is known (committed: the value; cancelling: the failure); a
   * decision still being written is awaited {@link #DECISION_WAIT} longer, then reported unknown.
   * So the caller is answered at most {@code DECISION_WAIT} (within {@link #SLACK}) after the
   * deadline, event-loop delays aside.
   */
  static <T> Future<T> guard(
      Vertx vertx, Future<?> started, Supplier<Progress> progress, Future<T> decided) {
    Promise<T> answer = Promise.promise();
    AtomicLong timer = new AtomicLong(-1);
    started.onComplete(
        ignored -> {
          Progress tx = progress.get();
          if (tx == null || decided.isComplete()) {
            return;
          }
          long wait = Math.max(1, tx.deadline.remaining().toMillis());
          timer.set(
              vertx.setTimer(
                  wait,
                  id -> {
                    if (!answer(tx, answer, false)) {
                      timer.set(
                          vertx.setTimer(
                              DECISION_WAIT.toMillis(), id2 -> answer(tx, answer, true)));
                    }
                  }));
        });
    decided.onComplete(
        ar -> {
          long id = timer.get();
          if (id >= 0) {
            vertx.cancelTimer(id);
          }
          if (ar.succeeded()) {
            answer.tryComplete(ar.result());
          } else {
            answer.tryFail(ar.cause());
          }
        });
    return answer.future();
  }

  /**
   * Answers the caller from {@code tx} if its outcome is known, or (when {@code last}) as unknown;
   * returns whether it answered.
   */
  @SuppressWarnings("unchecked")
  private static <T> boolean answer(Progress tx, Promise<T> answer, boolean last) {
    switch (tx.stage) {
      case COMMITTED -> {
        tx.secondPhasePending = true; // answered while the second phase goes on
        if (tx.hasValue) {
          answer.tryComplete((T) tx.value);
        } else {
          answer.tryFail(tx.committedWithoutValue.get());
        }
        return true;
      }
      case CANCELLING -> {
        answer.tryFail(tx.failure);
        return true;
      }
      default -> {
        // DECIDING: the decision is being written; RUNNING cannot last past the deadline (the
        // coordinators set the stage as the tries or the body end) and is reported as unknown too
        if (last) {
          answer.tryFail(tx.unknown.get());
        }
        return last;
      }
    }
  }
}
