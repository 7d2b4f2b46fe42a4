package io.shardkit.tx.impl.xa;

import io.vertx.core.Future;
import io.vertx.sqlclient.SqlClient;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

/**
 * The coordinator log server's clock, the one clock every instance judges XA deadlines by. An XA
 * branch's deadline travels in its xid as epoch milliseconds; written by one instance and judged by
 * another's recovery, it would otherwise compare two machines' clocks, and an instance whose clock
 * runs fast would abort a live transaction's branches (safe, the COMMIT decision then loses, but
 * the caller hears "rolled back" before its deadline). So the coordinator stamps deadlines on the
 * log server's time (local time plus an offset measured against it, refreshed every {@link
 * #REFRESH_MILLIS}), and recovery and the consistency checker read the server's time when they
 * judge. A drifting local clock errs by at most its drift over one refresh interval plus half a
 * round trip.
 */
public final class DbClock {

  /** How often a transaction start refreshes the offset. */
  static final long REFRESH_MILLIS = 5_000;

  private static final String NOW = "SELECT ROUND(UNIX_TIMESTAMP(NOW(3)) * 1000) AS now_ms";

  private final Supplier<Future<? extends SqlClient>> server;
  private volatile long offsetMillis;
  private volatile long refreshedAtNanos = Long.MIN_VALUE;
  private final AtomicBoolean refreshing = new AtomicBoolean();

  /**
   * @param server where to read the log server's time: the coordinator's kept log connections (a
   *     read never waits for a pool that recovery itself may be holding), or a pool
   */
  public DbClock(Supplier<Future<? extends SqlClient>> server) {
    this.server = server;
  }

  /** The server's time now, in epoch milliseconds, read from the server. */
  public Future<Long> read() {
    long t0 = System.currentTimeMillis();
    return server
        .get()
        .compose(client -> client.query(NOW).execute())
        .map(
            rows -> {
              long t1 = System.currentTimeMillis();
              long server = rows.iterator().next().getLong(0);
              offsetMillis = server - (t0 + t1) / 2;
              refreshedAtNanos = System.nanoTime();
              return server;
            });
  }

  /**
   * The server's time estimated from the local clock and the last measured offset (the local clock
   * until the first measurement); starts a refresh in the background when the offset is stale.
   */
  long now() {
    if (System.nanoTime() - refreshedAtNanos > REFRESH_MILLIS * 1_000_000L
        && refreshing.compareAndSet(false, true)) {
      read().onComplete(ar -> refreshing.set(false));
    }
    return System.currentTimeMillis() + offsetMillis;
  }

  /** The last measured offset (server minus local), for tests and diagnostics. */
  long offsetMillis() {
    return offsetMillis;
  }
}
