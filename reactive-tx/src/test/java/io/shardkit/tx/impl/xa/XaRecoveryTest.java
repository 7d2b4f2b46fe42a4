package io.shardkit.tx.impl.xa;

import static io.shardkit.tx.impl.xa.XaFixture.await;
import static io.shardkit.tx.impl.xa.XaFixture.failure;
import static io.shardkit.tx.impl.xa.XaFixture.transfer;
import static org.assertj.core.api.Assertions.assertThat;

import io.shardkit.context.junit.LeakGuardExtension;
import io.shardkit.testkit.ShardDatabases;
import io.shardkit.testkit.Shards;
import io.vertx.core.Future;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Recovery run by several app instances at once, and pruning of the coordinator log. */
@Shards(2)
@ExtendWith(LeakGuardExtension.class)
class XaRecoveryTest {

  static XaFixture fx;

  @BeforeAll
  static void setUp(ShardDatabases dbs) throws Exception {
    XaFixture.createTables(dbs);
    fx = new XaFixture(dbs, XaFixture.options().logRetention(Duration.ZERO), 8);
    await(fx.transactions.installSchema());
  }

  @AfterAll
  static void tearDown() throws Exception {
    fx.close();
  }

  /** {@code count} transfers i → i+1 abandoned at {@code stop}, each over both shards. */
  private static void abandon(StopPoint stop, int firstAccount, int count, Duration timeout)
      throws Exception {
    fx.tx.stopAt(stop);
    try {
      // one after the other: transfers starting on different shards, all in flight with 8
      // connections per shard, could each hold the connection the other waits for
      for (int i = 0; i < count; i++) {
        long odd = firstAccount + 2L * i;
        // half start on ds_1 (odd account), half on ds_0: the first shard decides, the other is
        // prepared, so both shards hold prepared branches
        long from = reversed(odd) ? odd + 1 : odd;
        long to = reversed(odd) ? odd : odd + 1;
        assertThat(
                failure(
                    fx.pool.withTransaction(
                        timeout, sql -> transfer(sql, "a" + from, from, to, 10))))
            .hasMessageContaining("abandoned");
      }
    } finally {
      fx.tx.stopAt(StopPoint.NONE);
    }
  }

  /** Whether the transfer of the pair (odd, odd + 1) goes from odd + 1 to odd. */
  private static boolean reversed(long odd) {
    return (odd / 2) % 2 == 1;
  }

  @Test
  void twoRecoveryInstancesNeverActOnTheSameBranch() throws Exception {
    fx.resetAccounts(160, 100);
    long expectedTotal = fx.totalBalance();
    XaFixture other = fx.another(XaFixture.options().logRetention(Duration.ZERO));
    // Warm both instances up (connections, lease rows) so that they really start together below.
    await(fx.tx.recovery().runOnce());
    await(other.tx.recovery().runOnce());
    long start = System.currentTimeMillis();
    abandon(StopPoint.AFTER_PREPARE, 1, 20, Duration.ofSeconds(4)); // accounts 1..40: roll back
    abandon(StopPoint.AFTER_DECISION, 41, 20, Duration.ofSeconds(30)); // 41..80: commit
    abandon(StopPoint.AFTER_ONE_COMMIT, 81, 20, Duration.ofSeconds(30)); // 81..120: commit
    // the first shard of each transfer decides: one branch prepared per transfer
    int expectedBranches = 20 + 20 + 20;
    assertThat(fx.preparedBranchesEverywhere()).isEqualTo(expectedBranches);
    Thread.sleep(Math.max(0, start + 4_500 - System.currentTimeMillis())); // past deadline + grace

    try (other) {
      // Each instance holds a lease 500 ms before scanning: started together, they overlap.
      fx.tx.recoveryImpl().holdLeaseMillis = 500;
      other.tx.recoveryImpl().holdLeaseMillis = 500;
      Map<String, String> actedBy = new ConcurrentHashMap<>();
      Set<String> actedTwice = ConcurrentHashMap.newKeySet();
      fx.tx.recoveryImpl().actionListener =
          (xid, action) -> {
            if (actedBy.putIfAbsent(xid.toString(), "A") != null) {
              actedTwice.add(xid.toString());
            }
          };
      other.tx.recoveryImpl().actionListener =
          (xid, action) -> {
            if (actedBy.putIfAbsent(xid.toString(), "B") != null) {
              actedTwice.add(xid.toString());
            }
          };
      List<RecoveryReport> reports = new ArrayList<>();
      for (int round = 0; round < 5 && fx.preparedBranchesEverywhere() > 0; round++) {
        // Both instances start a pass at the same moment.
        Future<RecoveryReport> a = fx.tx.recovery().runOnce();
        Future<RecoveryReport> b = other.tx.recovery().runOnce();
        reports.add(await(a));
        reports.add(await(b));
      }
      fx.tx.recoveryImpl().holdLeaseMillis = 0;
      assertThat(actedTwice).isEmpty();
      assertThat(actedBy).hasSize(expectedBranches);
      assertThat(new HashSet<>(actedBy.values())).as("both instances did some work").hasSize(2);
      assertThat(reports.stream().anyMatch(r -> !r.leasedElsewhere().isEmpty()))
          .as("an instance found a lease taken")
          .isTrue();
    }
    assertThat(fx.preparedBranchesEverywhere()).isZero();
    assertThat(fx.totalBalance()).isEqualTo(expectedTotal);
    for (long odd = 1; odd <= 120; odd += 2) {
      boolean expectedApplied = odd > 40;
      long from = reversed(odd) ? odd + 1 : odd;
      long to = reversed(odd) ? odd : odd + 1;
      assertThat(fx.balance(from)).as("account %d", from).isEqualTo(expectedApplied ? 90 : 100);
      assertThat(fx.balance(to)).as("account %d", to).isEqualTo(expectedApplied ? 110 : 100);
    }
  }

  @Test
  void recoveryPrunesFinishedDecisionsButKeepsThoseStillInDoubt() throws Exception {
    fx.resetAccounts(20, 100);
    await(fx.tx.recovery().runOnce()); // prune leftovers of earlier tests
    await(fx.pool.withTransaction(Duration.ofSeconds(5), sql -> transfer(sql, "p1", 1, 2, 5)));
    abandon(StopPoint.AFTER_DECISION, 3, 1, Duration.ofSeconds(30));
    shardB().pause();
    RecoveryReport whilePaused;
    try {
      // A shard that cannot be scanned might hold a branch: nothing is pruned.
      fx.tx.stopAt(StopPoint.NONE);
      whilePaused = await(withShortPool());
    } finally {
      shardB().resume();
    }
    assertThat(whilePaused.unreachable()).containsExactly("ds_1");
    assertThat(whilePaused.committed())
        .as("ds_0's branch waits: its decision is on ds_1, frozen")
        .isZero();
    assertThat(whilePaused.pruned()).isZero();
    assertThat(fx.logRows()).isEqualTo(2);
    RecoveryReport report = await(fx.tx.recovery().runOnce());
    assertThat(report.committed()).as("ds_0's branch").isOne();
    // The decision row of the recovered transaction goes on the next pass, once no branch is left.
    RecoveryReport next = await(fx.tx.recovery().runOnce());
    assertThat(report.pruned() + next.pruned()).isEqualTo(2);
    assertThat(fx.logRows()).isZero();
  }

  private static io.shardkit.testkit.Shard shardB() {
    return fx.dbs.get(1).shard();
  }

  /** A recovery pass that gives up on the paused shard after its rollback timeout. */
  private static Future<RecoveryReport> withShortPool() {
    return fx.tx.recovery().runOnce();
  }
}
