package io.shardkit.tx.impl.xa;

import static io.shardkit.tx.impl.xa.XaFixture.await;
import static io.shardkit.tx.impl.xa.XaFixture.failure;
import static io.shardkit.tx.impl.xa.XaFixture.transfer;
import static org.assertj.core.api.Assertions.assertThat;

import io.shardkit.context.junit.LeakGuardExtension;
import io.shardkit.testkit.Shard;
import io.shardkit.testkit.ShardDatabases;
import io.shardkit.testkit.Shards;
import io.shardkit.tx.TransactionRolledBackException;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The coordinator log's shard is down when a transaction on two other shards decides: the COMMIT
 * row is never sent (connection refused), so the transaction cannot have committed. The caller is
 * told "rolled back" (not "unknown"), and the prepared branches are rolled back at once.
 */
@Shards(3)
@ExtendWith(LeakGuardExtension.class)
class XaDecisionRefusedTest {

  @Test
  void decisionWriteRefusedBeforeItIsSentIsRolledBackNotUnknown(ShardDatabases dbs)
      throws Exception {
    XaFixture.createTables(dbs);
    Shard log = dbs.get(0).shard();
    // the coordinator log decides (a participant's decision is its own commit: see XaFaultTest)
    try (XaFixture fx = new XaFixture(dbs, XaFixture.options().decisionOnParticipant(false), 4)) {
      await(fx.transactions.installSchema());
      fx.resetAccounts(10, 100);
      // accounts 1 (ds_1) and 2 (ds_2): the log on ds_0 is no participant
      await(fx.pool.withTransaction(Duration.ofSeconds(5), sql -> transfer(sql, "w", 1, 2, 1)));

      log.kill();
      try {
        long start = System.nanoTime();
        Throwable actual =
            failure(
                fx.pool.withTransaction(
                    Duration.ofSeconds(5), sql -> transfer(sql, "refused", 4, 5, 30)));
        long actualMillis = (System.nanoTime() - start) / 1_000_000;

        assertThat(actual).isInstanceOf(TransactionRolledBackException.class);
        TransactionRolledBackException rolledBack = (TransactionRolledBackException) actual;
        assertThat(rolledBack.phase()).isEqualTo("decide");
        assertThat(rolledBack.causes()).containsOnlyKeys("ds_0");
        assertThat(actual.getMessage()).contains("ds_0").contains("nothing was committed");
        assertThat(actualMillis).as("answered before the deadline").isLessThan(5_000);
        // rolled back at once, not left prepared for recovery
        assertThat(fx.preparedBranches(1)).isZero();
        assertThat(fx.preparedBranches(2)).isZero();
        assertThat(fx.balance(4)).isEqualTo(100);
        assertThat(fx.balance(5)).isEqualTo(100);
      } finally {
        log.start();
      }
      assertThat(
              fx.dbs
                  .get(0)
                  .query("SELECT gid FROM shardkit_tx WHERE protocol = 'XA' AND state = 2"))
          .hasSize(1); // the warm-up's only
    }
  }
}
