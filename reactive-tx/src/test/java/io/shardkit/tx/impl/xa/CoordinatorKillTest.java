package io.shardkit.tx.impl.xa;

import static io.shardkit.tx.impl.xa.XaFixture.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.shardkit.context.junit.LeakGuardExtension;
import io.shardkit.testkit.ShardDatabases;
import io.shardkit.testkit.Shards;
import io.shardkit.tx.TransactionOutcomePendingException.Decision;
import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The coordinator process is killed (SIGKILL) between a transaction's decision and its other
 * branches' commits, with 16 transfers in flight, and another instance recovers: with the decision
 * kept on the first participant (committed together with its work), with the decision in the
 * coordinator log, and with the asynchronous second phase (the commits the manager runs in the
 * background after answering the caller).
 *
 * <p>What must hold afterwards, from the data: the held transaction's decision is COMMIT and its
 * transfer is applied on both shards; no branch is left prepared; every transfer is on both shards
 * or on none; every account's balance equals its opening balance plus its transfer rows; the total
 * is unchanged.
 */
@Shards(2)
@ExtendWith(LeakGuardExtension.class)
class CoordinatorKillTest {

  private static final int ACCOUNTS = 200;
  private static final long OPENING = 1_000;

  static ShardDatabases dbs;

  @BeforeAll
  static void tables(ShardDatabases shards) {
    dbs = shards;
    XaFixture.createTables(shards);
  }

  @ParameterizedTest(name = "decision: {0}")
  @ValueSource(strings = {"participant", "log", "async"})
  void killedBetweenDecisionAndCommitsRecoversEveryTransfer(String mode) throws Exception {
    boolean onParticipant = !mode.equals("log");
    try (XaFixture fx =
        new XaFixture(dbs, XaFixture.options().decisionOnParticipant(onParticipant), 8)) {
      await(fx.transactions.installSchema());
      fx.resetAccounts(ACCOUNTS, OPENING);
      String held;
      Process child = start(mode);
      try {
        held = awaitDecided(child);
      } finally {
        child.destroyForcibly(); // SIGKILL: no statement after this point
        child.waitFor(20, TimeUnit.SECONDS);
      }
      assertThat(await(fx.tx.decision(held))).isEqualTo(Optional.of(Decision.COMMIT));
      assertThat(fx.preparedBranchesEverywhere())
          .as("the held transaction's branches (and others in flight) wait for recovery")
          .isGreaterThanOrEqualTo(onParticipant ? 1 : 2);
      if (onParticipant) {
        assertThat(rowsOf(held))
            .as("the first participant committed its work with the decision, the other not yet")
            .isEqualTo(1);
      }

      Thread.sleep(2_000 + 300 + 500); // the child's transactions' deadline and grace
      for (int pass = 0; pass < 20 && fx.preparedBranchesEverywhere() > 0; pass++) {
        await(fx.tx.recovery().runOnce());
        Thread.sleep(200);
      }
      assertThat(fx.preparedBranchesEverywhere()).isZero();
      assertThat(rowsOf(held)).as("the held transfer, on both shards").isEqualTo(2);
      assertThat(fx.totalBalance()).isEqualTo(ACCOUNTS * OPENING);
      Map<String, Integer> perTransfer = new HashMap<>();
      for (int i = 0; i < dbs.size(); i++) {
        for (JsonObject row :
            dbs.get(i).query("SELECT tid, COUNT(*) AS c FROM transfer GROUP BY tid")) {
          perTransfer.merge(row.getString("tid"), row.getInteger("c"), Integer::sum);
        }
        List<JsonObject> wrong =
            dbs.get(i)
                .query(
                    "SELECT a.id, a.balance, COALESCE(SUM(t.delta), 0) AS moved FROM account a"
                        + " LEFT JOIN transfer t ON t.account = a.id GROUP BY a.id, a.balance"
                        + " HAVING a.balance <> "
                        + OPENING
                        + " + COALESCE(SUM(t.delta), 0)");
        assertThat(wrong)
            .as("accounts on ds_%d whose balance disagrees with transfers", i)
            .isEmpty();
      }
      assertThat(perTransfer).as("transfers").hasSizeGreaterThan(10);
      List<String> half = new ArrayList<>();
      perTransfer.forEach(
          (tid, n) -> {
            if (n != 2) {
              half.add(tid + "=" + n);
            }
          });
      assertThat(half).as("transfers applied on one shard only").isEmpty();
    }
  }

  private static int rowsOf(String tid) {
    int n = 0;
    for (int i = 0; i < dbs.size(); i++) {
      n +=
          dbs.get(i)
              .query("SELECT COUNT(*) AS c FROM transfer WHERE tid = '" + tid + "'")
              .get(0)
              .getInteger("c");
    }
    return n;
  }

  private static Process start(String mode) throws Exception {
    return XaFixture.childJvm(
            CoordinatorKillMain.class,
            List.of(XaFixture.dataSourcesJson(dbs), String.valueOf(ACCOUNTS), "100", mode))
        .start();
  }

  /** Reads the child's output until it holds a decided transaction; its global id. */
  private static String awaitDecided(Process child) throws Exception {
    CompletableFuture<String> decided = new CompletableFuture<>();
    Thread reader =
        new Thread(
            () -> {
              try (BufferedReader in =
                  new BufferedReader(
                      new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                  if (line.startsWith("decided ")) {
                    decided.complete(line.substring("decided ".length()).trim());
                  }
                }
                decided.completeExceptionally(new AssertionError("child ended without deciding"));
              } catch (Exception e) {
                decided.completeExceptionally(e);
              }
            });
    reader.setDaemon(true);
    reader.start();
    return decided.get(90, TimeUnit.SECONDS);
  }
}
