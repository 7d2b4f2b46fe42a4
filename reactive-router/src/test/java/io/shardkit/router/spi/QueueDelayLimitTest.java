package io.shardkit.router.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** The delay estimator of adaptive admission, on a clock of its own (no database, no sleeps). */
class QueueDelayLimitTest {

  private static final long MS = 1_000_000L;
  private static final long TARGET = 10 * MS;
  private static final long INTERVAL = 100 * MS;

  /** floor 4 (connections), ceiling 4 + 1024 (wait queue); the clock starts at 0. */
  private static QueueDelayLimit limit() {
    return new QueueDelayLimit(4, 1028, TARGET, INTERVAL, 0);
  }

  /** {@link #limit()} that holds on a stand-still (as a transaction manager's). */
  private static QueueDelayLimit holding() {
    return new QueueDelayLimit(4, 1028, TARGET, INTERVAL, 0, true);
  }

  /**
   * {@code n} statements that asked at {@code askedAt} and got their connection after {@code wait}.
   */
  private static void served(QueueDelayLimit l, int n, long askedAt, long wait) {
    for (int i = 0; i < n; i++) {
      l.asked();
      l.got(askedAt, askedAt + wait);
      l.done();
    }
  }

  @Test
  void startsAtTheCeilingAndABurstThatDrainsWithinAnIntervalLeavesItThere() {
    QueueDelayLimit l = limit();
    assertThat(l.limit(0)).isEqualTo(1028);
    // 1000 statements at once: the first got a connection at once, the last after 80 ms
    for (int i = 0; i < 1000; i++) {
      assertThat(l.admits(10 * MS)).isTrue();
      l.asked();
    }
    assertThat(l.admits(10 * MS)).as("1028 - 1000 left").isTrue();
    for (int i = 0; i < 1000; i++) {
      long now = 10 * MS + i * 80L * MS / 1000;
      l.got(10 * MS, now);
      l.done();
    }
    assertThat(l.limit(100 * MS)).as("min wait 0: no standing queue").isEqualTo(1028);
    assertThat(l.lastMinWaitNanos()).isZero();
    assertThat(l.outstanding()).isZero();
    assertThat(l.waiting()).isZero();
  }

  @Test
  void aStandingQueueCutsTheLimitInProportionDownToTheConnectionsThenGoodIntervalsDoubleItBack() {
    QueueDelayLimit l = limit();
    // 200 outstanding all interval long, each waited at least 40 ms
    for (int i = 0; i < 200; i++) {
      l.asked();
    }
    for (int i = 0; i < 50; i++) {
      l.got(10 * MS, 50 * MS + i * MS);
    }
    // the interval ends: base min(1028, 200 outstanding) x 10/40
    assertThat(l.limit(100 * MS)).isEqualTo(50);
    assertThat(l.lastMinWaitNanos()).isEqualTo(40 * MS);
    assertThat(l.admits(100 * MS)).as("200 outstanding, limit 50").isFalse();
    // the next interval: the other 150 got theirs after 150 ms; a cut to the floor (not below)
    for (int i = 0; i < 150; i++) {
      l.got(0, 150 * MS);
    }
    assertThat(l.limit(200 * MS)).isEqualTo(4);
    // the queue drained: statements wait 1 ms; every good interval doubles the limit
    for (int i = 0; i < 200; i++) {
      l.done();
    }
    assertThat(l.outstanding()).isZero();
    served(l, 10, 250 * MS, MS);
    assertThat(l.limit(300 * MS)).isEqualTo(8);
    served(l, 10, 350 * MS, MS);
    assertThat(l.limit(400 * MS)).isEqualTo(16);
    // quiet intervals (nothing asked) count as good ones: 8 of them double it past the ceiling
    assertThat(l.limit(1_100 * MS)).isEqualTo(1028);
  }

  @Test
  void quietIntervalsAfterAStandingQueueJudgedLateGrowTheLimitInTheSameLook() {
    QueueDelayLimit l = limit();
    // a standing queue in the first interval, then nobody asks for a second
    for (int i = 0; i < 100; i++) {
      l.asked();
    }
    for (int i = 0; i < 100; i++) {
      l.got(0, 40 * MS);
      l.done();
    }
    // nobody looked since: the first look after the quiet spell judges the queue (100 x 10/40 =
    // 25), then the 9 quiet intervals after it double that back to the ceiling, so the first
    // newcomer after the spell is not refused for a queue long gone
    assertThat(l.limit(1_000 * MS)).isEqualTo(1028);
    assertThat(l.lastMinWaitNanos()).isEqualTo(40 * MS);
    // while statements still wait, the intervals after it are not quiet: the cut stands
    QueueDelayLimit busy = limit();
    for (int i = 0; i < 100; i++) {
      busy.asked();
    }
    for (int i = 0; i < 50; i++) {
      busy.got(0, 40 * MS);
    }
    assertThat(busy.limit(1_000 * MS)).isEqualTo(25);
  }

  @Test
  void aWaitAtTheTargetIsNoStandingQueue() {
    QueueDelayLimit l = limit();
    served(l, 5, 10 * MS, TARGET);
    served(l, 5, 20 * MS, 3 * TARGET);
    assertThat(l.limit(100 * MS)).isEqualTo(1028);
  }

  @Test
  void intervalsInWhichStatementsWaitedAndNoneWasServedDecideNothingTheWaitsSeenAfterDo() {
    QueueDelayLimit l = limit();
    for (int i = 0; i < 900; i++) {
      l.asked(); // e.g. an event loop sending a burst: it hands connections over once done
    }
    assertThat(l.limit(100 * MS)).isEqualTo(1028);
    assertThat(l.limit(200 * MS)).isEqualTo(1028);
    assertThat(l.admits(200 * MS)).isTrue();
    // served from 250 ms on: these waits belong to the interval ending at 300 ms
    for (int i = 0; i < 100; i++) {
      l.got(0, 250 * MS + i * MS / 10);
    }
    assertThat(l.limit(299 * MS)).isEqualTo(1028);
    // at its end: min(1028, 900 outstanding) x 10 / 250
    assertThat(l.limit(300 * MS)).isEqualTo(36);
    assertThat(l.lastMinWaitNanos()).isEqualTo(250 * MS);
    assertThat(l.admits(300 * MS)).isFalse();
  }

  @Test
  void holdingAnIntervalInWhichAQueueStoodAndNoneWasServedLetsNoMoreInTheWaitsSeenAfterDecide() {
    QueueDelayLimit l = holding();
    for (int i = 0; i < 300; i++) {
      l.entered(); // transactions let in; each asks behind others (every connection busy)
      l.waitStarted();
    }
    assertThat(l.queued()).isEqualTo(300);
    // nothing was served all interval while a queue stood: no more in than are in now
    assertThat(l.limit(100 * MS)).isEqualTo(300);
    assertThat(l.admits(100 * MS)).isFalse();
    assertThat(l.limit(200 * MS)).isEqualTo(300);
    // served from 250 ms on: these waits belong to the interval ending at 300 ms
    for (int i = 0; i < 100; i++) {
      l.got(0, 250 * MS + i * MS / 10);
    }
    assertThat(l.limit(299 * MS)).isEqualTo(300);
    // at its end: min(300, 300 outstanding) x 10 / 250
    assertThat(l.limit(300 * MS)).isEqualTo(12);
    assertThat(l.queued()).isEqualTo(200);
    // a stand-still below the floor keeps the floor
    QueueDelayLimit few = holding();
    few.entered();
    few.waitStarted();
    assertThat(few.limit(100 * MS)).isEqualTo(4);
    assertThat(few.admits(100 * MS)).isTrue();
  }

  @Test
  void holdingAnIntervalInWhichOnlyConnectionsBeingSetUpWereAwaitedDecidesNothing() {
    QueueDelayLimit l = holding();
    // a cold pool: each of the first four asked while it had room, a connection set up for each
    for (int i = 0; i < 4; i++) {
      assertThat(l.growing(0, 4)).isEqualTo(i < 4);
      l.asked(true);
    }
    assertThat(l.growing(0, 4)).as("the next would wait behind them").isFalse();
    assertThat(l.queued()).isZero();
    assertThat(l.limit(100 * MS)).as("set-ups still under way: undecided").isEqualTo(1028);
    // the set-ups took 150 ms: no samples, no queue
    for (int i = 0; i < 4; i++) {
      l.got(0, 150 * MS, true);
      l.done();
    }
    assertThat(l.waiting()).isZero();
    assertThat(l.limit(200 * MS)).isEqualTo(1028);
    // one queued behind the set-ups besides: the stand-still counts
    QueueDelayLimit behind = holding();
    for (int i = 0; i < 4; i++) {
      behind.asked(true);
    }
    for (int i = 0; i < 6; i++) {
      behind.asked(false);
    }
    assertThat(behind.limit(100 * MS)).isEqualTo(10);
    for (int i = 0; i < 4; i++) {
      behind.gotNone(true); // the set-ups failed
    }
    for (int i = 0; i < 6; i++) {
      behind.gotNone(false);
    }
    assertThat(behind.waiting()).isZero();
    assertThat(behind.queued()).isZero();
  }

  @Test
  void aRefusedOrFailedAcquisitionIsNoSample() {
    QueueDelayLimit l = limit();
    for (int i = 0; i < 10; i++) {
      l.asked();
    }
    l.got(0, 50 * MS); // one waited 50 ms
    for (int i = 0; i < 9; i++) {
      l.gotNone(); // the pool refused the others at once: no wait of 0 hides the queue
      l.done();
    }
    assertThat(l.limit(100 * MS)).isEqualTo(4);
    assertThat(l.waiting()).isZero();
    assertThat(l.outstanding()).isEqualTo(1);
  }

  @Test
  void invalidBoundsAreRefused() {
    assertThatThrownBy(() -> new QueueDelayLimit(0, 10, TARGET, INTERVAL, 0))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new QueueDelayLimit(8, 4, TARGET, INTERVAL, 0))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new QueueDelayLimit(4, 8, 0, INTERVAL, 0))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
