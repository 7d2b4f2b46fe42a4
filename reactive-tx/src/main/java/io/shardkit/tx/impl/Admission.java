package io.shardkit.tx.impl;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.shardkit.router.spi.QueueDelayLimit;
import io.shardkit.tx.TransactionOverloadedException;
import io.vertx.core.Future;
import io.vertx.sqlclient.SqlConnection;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * Admission control of one coordinator (XA; or TCC and Saga together): a new transaction is let in
 * before its first step, or refused at once (before any log write or connection), so that the steps
 * of admitted transactions never wait behind newcomers' first steps. Two limits:
 *
 * <ul>
 *   <li>a count: at most {@code maxInFlight} transactions between their admission and the end of
 *       their foreground work (the caller's answer and the second phase it waits for);
 *   <li>a limit judged on queueing delay (when a target is set): the admitted transactions' steps
 *       time how long the pools take to hand them a connection ({@link #connect}); when every step
 *       of an interval waited longer than the target (a standing queue, not a burst), the limit of
 *       transactions in flight falls in proportion, never below {@code floor} (the pools'
 *       connections together), and it grows back once the waits are short ({@link
 *       QueueDelayLimit}). Under overload, the admitted transactions then finish in about their own
 *       time plus the target, instead of queueing behind up to {@code maxInFlight} others until
 *       their deadlines.
 * </ul>
 */
public final class Admission {

  /** Length of an interval of the queueing-delay limit. */
  static final Duration INTERVAL = Duration.ofMillis(100);

  private final int limit;
  private final AtomicInteger inFlight = new AtomicInteger();
  private final QueueDelayLimit queueing; // null: no target
  private final String protocol;
  private final String options;

  /**
   * Counts in the gauge {@code shardkit.tx.in_flight} tagged {@code mode} ({@code what} is its
   * description), and the limit now in {@code shardkit.tx.admission.limit}.
   *
   * @param protocol {@code XA} or {@code TCC}, for refusals (Saga passes its own name per refusal)
   * @param options where the settings are, for refusals ({@code TransactionsOptions} or {@code
   *     TccOptions})
   * @param queueDelayTarget the wait for a connection that, exceeded by every step over an
   *     interval, cuts the limit; zero: only the count limit
   * @param floor the lowest limit for queueing (at least 1, at most {@code limit})
   */
  public Admission(
      int limit,
      Duration queueDelayTarget,
      int floor,
      MeterRegistry registry,
      String mode,
      String what,
      String protocol,
      String options) {
    this.limit = limit;
    this.protocol = protocol;
    this.options = options;
    this.queueing =
        queueDelayTarget.isZero()
            ? null
            : new QueueDelayLimit(
                Math.max(1, Math.min(floor, limit)),
                limit,
                queueDelayTarget.toNanos(),
                INTERVAL.toNanos(),
                System.nanoTime());
    Gauge.builder("shardkit.tx.in_flight", inFlight, AtomicInteger::get)
        .description(what)
        .tag("mode", mode)
        .register(registry);
    Gauge.builder("shardkit.tx.admission.limit", this, Admission::currentLimit)
        .description(
            "Transactions let in flight now: the count limit, lowered while their steps queue for"
                + " connections (queueDelayTarget)")
        .tag("mode", mode)
        .register(registry);
  }

  /**
   * The connections of the pool's data sources together: the floor of the admission limit (as many
   * transactions as could each hold a connection somewhere without anyone waiting).
   */
  public static int connections(io.shardkit.router.ShardedPool pool) {
    int sum = 0;
    for (String ds : pool.dataSourceNames()) {
      io.vertx.sqlclient.PoolOptions o = pool.poolOptions(ds);
      if (o != null) {
        sum += o.getMaxSize();
      }
    }
    return Math.max(1, sum);
  }

  /** Admits one transaction; false (nothing taken) when a limit is reached. */
  public boolean tryAcquire() {
    long now = queueing == null ? 0 : System.nanoTime();
    while (true) {
      int count = inFlight.get();
      if (count >= limit || (queueing != null && !queueing.admits(now))) {
        return false;
      }
      if (inFlight.compareAndSet(count, count + 1)) {
        if (queueing != null) {
          queueing.entered();
        }
        return true;
      }
    }
  }

  /**
   * Why a new transaction was just refused, in the user's terms: {@code protocol} is {@code XA},
   * {@code TCC} or {@code Saga}.
   */
  public TransactionOverloadedException refusal(String protocol) {
    long now = System.nanoTime();
    if (queueing == null || inFlight.get() >= limit || queueing.limit(now) >= limit) {
      return new TransactionOverloadedException(protocol, limit);
    }
    return TransactionOverloadedException.queueing(
        protocol,
        options,
        queueing.limit(now),
        TimeUnit.NANOSECONDS.toMillis(queueing.lastMinWaitNanos()),
        TimeUnit.NANOSECONDS.toMillis(queueing.targetNanos()),
        TimeUnit.NANOSECONDS.toMillis(queueing.intervalNanos()));
  }

  /** {@link #refusal(String)} of this coordinator's protocol. */
  public TransactionOverloadedException refusal() {
    return refusal(protocol);
  }

  /**
   * Asks for a connection for a step of an admitted transaction through {@code ask}, timing how
   * long the pool takes to hand it over (the queueing delay the limit is judged on).
   */
  public Future<SqlConnection> connect(Supplier<Future<SqlConnection>> ask) {
    if (queueing == null) {
      return ask.get();
    }
    long asked = System.nanoTime();
    queueing.waitStarted();
    Future<SqlConnection> answer;
    try {
      answer = ask.get();
    } catch (RuntimeException e) {
      queueing.gotNone();
      throw e;
    }
    return answer.andThen(
        ar -> {
          if (ar.succeeded()) {
            queueing.got(asked, System.nanoTime());
          } else {
            queueing.gotNone();
          }
        });
  }

  /** Releases one admission once {@code done} completes, whatever its outcome. */
  public <T> Future<T> releaseWhen(Future<T> done) {
    return done.andThen(ar -> release());
  }

  /** Releases one admission now (its transaction ended, or could not even start). */
  public void release() {
    inFlight.decrementAndGet();
    if (queueing != null) {
      queueing.done();
    }
  }

  /** The count limit ({@code maxInFlight}). */
  public int limit() {
    return limit;
  }

  /** The limit in force now: the count limit, or lower while steps queue for connections. */
  public int currentLimit() {
    return queueing == null ? limit : Math.min(limit, queueing.limit(System.nanoTime()));
  }

  public int inFlight() {
    return inFlight.get();
  }
}
