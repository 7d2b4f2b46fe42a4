package io.shardkit.tx.impl;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.shardkit.router.spi.QueueDelayLimit;
import io.shardkit.tx.TransactionOverloadedException;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlConnection;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Admission control of one coordinator (XA; or TCC and Saga together): a new transaction is let in
 * before its first step, or refused at once (before any log write or connection), so that the steps
 * of admitted transactions never wait behind newcomers' first steps. Two limits:
 *
 * <ul>
 *   <li>a count: at most {@code maxInFlight} transactions between their admission and the end of
 *       their foreground work (the caller's answer and the second phase it waits for);
 *   <li>a limit judged on queueing delay (when a target is set): the admitted transactions' steps
 *       time how long each data source's pool takes to hand them a connection ({@link #connect});
 *       each data source has its own {@link QueueDelayLimit} of the transactions in flight, judged
 *       on its own pool's waits (a minimum over all pools together would be the least loaded
 *       pool's: one that drains for a moment hides the others' standing queues): when every step on
 *       a pool waited longer than the target over an interval (a standing queue, not a burst), its
 *       limit falls in proportion, never below the pools' connections together, and it grows back
 *       once the waits are short; an interval in which steps queued on a pool and none got a
 *       connection lets no more transactions in than are in (a first burst on cold pools would
 *       otherwise be let in whole before its first steps are served). A transaction is let in while
 *       it is under every data source's limit (it may touch any of them). Under overload, the
 *       admitted transactions then finish in about their own time plus the target, instead of
 *       queueing behind up to {@code maxInFlight} others until their deadlines.
 * </ul>
 */
public final class Admission {

  /** Length of an interval of the queueing-delay limit. */
  static final Duration INTERVAL = Duration.ofMillis(100);

  private final int limit;
  private final AtomicInteger inFlight = new AtomicInteger();

  /** Per data source (empty: no target); built once, read only afterwards. */
  private final Map<String, QueueDelayLimit> queueing;

  /** Each data source's most connections, for {@link #connect}. */
  private final Map<String, Integer> maxSizes;

  private final QueueDelayLimit[] limits;
  private final String protocol;
  private final String options;

  /**
   * Counts in the gauge {@code shardkit.tx.in_flight} tagged {@code mode} ({@code what} is its
   * description), and the limit now in {@code shardkit.tx.admission.limit}.
   *
   * @param queueDelayTarget the wait for a connection that, exceeded by every step on a data
   *     source's pool over an interval, cuts the limit; zero: only the count limit
   * @param maxSizes the data sources whose pools the steps take connections from, with each pool's
   *     most connections
   * @param protocol {@code XA} or {@code TCC}, for refusals (Saga passes its own name per refusal)
   * @param options where the settings are, for refusals ({@code TransactionsOptions} or {@code
   *     TccOptions})
   */
  public Admission(
      int limit,
      Duration queueDelayTarget,
      Map<String, Integer> maxSizes,
      MeterRegistry registry,
      String mode,
      String what,
      String protocol,
      String options) {
    this.limit = limit;
    this.protocol = protocol;
    this.options = options;
    this.maxSizes = Map.copyOf(maxSizes);
    Map<String, QueueDelayLimit> byDs = new java.util.LinkedHashMap<>();
    if (!queueDelayTarget.isZero()) {
      // the floor: as many transactions as could each hold a connection somewhere without anyone
      // waiting (the pools' connections together)
      int floor = maxSizes.values().stream().mapToInt(Integer::intValue).sum();
      long now = System.nanoTime();
      for (String ds : maxSizes.keySet()) {
        byDs.put(
            ds,
            new QueueDelayLimit(
                Math.max(1, Math.min(floor, limit)),
                limit,
                queueDelayTarget.toNanos(),
                INTERVAL.toNanos(),
                now,
                true));
      }
    }
    this.queueing = byDs;
    this.limits = byDs.values().toArray(new QueueDelayLimit[0]);
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

  /** Each of the pool's data sources with its most connections ({@code PoolOptions.maxSize}). */
  public static Map<String, Integer> maxSizes(io.shardkit.router.ShardedPool pool) {
    Map<String, Integer> out = new java.util.LinkedHashMap<>();
    for (String ds : pool.dataSourceNames()) {
      io.vertx.sqlclient.PoolOptions o = pool.poolOptions(ds);
      out.put(ds, o == null ? 1 : o.getMaxSize());
    }
    return out;
  }

  /** Admits one transaction; false (nothing taken) when a limit is reached. */
  public boolean tryAcquire() {
    long now = limits.length == 0 ? 0 : System.nanoTime();
    while (true) {
      int count = inFlight.get();
      if (count >= limit) {
        return false;
      }
      for (QueueDelayLimit q : limits) {
        if (!q.admits(now)) {
          return false;
        }
      }
      if (inFlight.compareAndSet(count, count + 1)) {
        for (QueueDelayLimit q : limits) {
          q.entered();
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
    String lowestDs = null;
    QueueDelayLimit lowest = null;
    for (Map.Entry<String, QueueDelayLimit> e : queueing.entrySet()) {
      if (lowest == null || e.getValue().limit(now) < lowest.limit(now)) {
        lowest = e.getValue();
        lowestDs = e.getKey();
      }
    }
    if (lowest == null || inFlight.get() >= limit || lowest.limit(now) >= limit) {
      return new TransactionOverloadedException(protocol, limit);
    }
    return TransactionOverloadedException.queueing(
        protocol,
        options,
        lowestDs,
        lowest.limit(now),
        TimeUnit.NANOSECONDS.toMillis(lowest.lastMinWaitNanos()),
        TimeUnit.NANOSECONDS.toMillis(lowest.targetNanos()),
        TimeUnit.NANOSECONDS.toMillis(lowest.intervalNanos()));
  }

  /** {@link #refusal(String)} of this coordinator's protocol. */
  public TransactionOverloadedException refusal() {
    return refusal(protocol);
  }

  /**
   * Asks {@code dataSource}'s {@code pool} for a connection for a step of an admitted transaction,
   * timing how long the pool takes to hand it over (the queueing delay that data source's limit is
   * judged on). A wait above the target for a request made while the pool had room for another
   * connection was a connection's set-up, not a queue: no sample (as the router's gates).
   */
  public Future<SqlConnection> connect(String dataSource, Pool pool) {
    if (queueing.isEmpty()) {
      return pool.getConnection();
    }
    QueueDelayLimit q = queueing.get(dataSource);
    // set up for this request rather than waited for behind others: the pool's connections and
    // the requests already waiting on it are fewer than its most connections
    boolean growing = q != null && q.growing(pool.size(), maxSizes.getOrDefault(dataSource, 0));
    return connect(dataSource, pool::getConnection, growing);
  }

  /**
   * {@link #connect(String, Pool)} with the pool's answer from {@code ask}; {@code growing}: the
   * pool had room for another connection when asked.
   */
  Future<SqlConnection> connect(
      String dataSource, java.util.function.Supplier<Future<SqlConnection>> ask, boolean growing) {
    QueueDelayLimit q = queueing.get(dataSource);
    if (q == null) {
      return ask.get();
    }
    long asked = System.nanoTime();
    q.waitStarted(growing);
    Future<SqlConnection> answer;
    try {
      answer = ask.get();
    } catch (RuntimeException e) {
      q.gotNone(growing);
      throw e;
    }
    return answer.andThen(
        ar -> {
          if (ar.succeeded()) {
            q.got(asked, System.nanoTime(), growing);
          } else {
            q.gotNone(growing);
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
    for (QueueDelayLimit q : limits) {
      q.done();
    }
  }

  /** The count limit ({@code maxInFlight}). */
  public int limit() {
    return limit;
  }

  /** The limit in force now: the count limit, or lower while steps queue for connections. */
  public int currentLimit() {
    long now = System.nanoTime();
    int l = limit;
    for (QueueDelayLimit q : limits) {
      l = Math.min(l, q.limit(now));
    }
    return l;
  }

  public int inFlight() {
    return inFlight.get();
  }
}
