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

  /** What a transaction knows about its outcome while the coordinator finishes it. */
  interface Known {
    String globalId();

    Deadline deadline();

    Stage stage();

    /** The caller's value, when {@link #hasValue()}. */
    Object value();

    boolean hasValue();

    /** The failure a cancelled transaction answers with. */
    Throwable failure();

    /** What the caller hears when the decision is still being written at the deadline. */
    Throwable unknown();

    /** What the caller hears when committed but without a value yet (a saga's body running). */
    Throwable committedWithoutValue();
  }

  private DeadlineAnswer() {}

  /**
   * {@code decided}, or, if it has not completed {@link #SLACK} after the deadline (counted once
   * {@code started} completed, when the tries or the body have ended), the answer {@code known}
   * gives then.
   */
  @SuppressWarnings("unchecked")
  static <T> Future<T> guard(
      Vertx vertx, Future<?> started, Supplier<Known> known, Future<T> decided) {
    Promise<T> answer = Promise.promise();
    AtomicLong timer = new AtomicLong(-1);
    started.onComplete(
        ignored -> {
          Known tx = known.get();
          if (tx == null || decided.isComplete()) {
            return;
          }
          long wait = Math.max(1, tx.deadline().remaining().toMillis() + SLACK.toMillis());
          timer.set(
              vertx.setTimer(
                  wait,
                  id -> {
                    switch (tx.stage()) {
                      case COMMITTED -> {
                        if (tx.hasValue()) {
                          answer.tryComplete((T) tx.value());
                        } else {
                          answer.tryFail(tx.committedWithoutValue());
                        }
                      }
                      case CANCELLING -> answer.tryFail(tx.failure());
                      case DECIDING -> answer.tryFail(tx.unknown());
                      case RUNNING -> {
                        // not decided yet: the outcome follows
                      }
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
}
