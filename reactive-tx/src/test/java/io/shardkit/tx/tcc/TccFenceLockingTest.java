package io.shardkit.tx.tcc;

import static io.shardkit.tx.tcc.TccTestSupport.await;
import static io.shardkit.tx.tcc.TccTestSupport.awaitFailure;
import static org.assertj.core.api.Assertions.assertThat;

import io.shardkit.context.junit.LeakGuardExtension;
import io.shardkit.router.ShardedPool;
import io.shardkit.testkit.ShardDatabases;
import io.shardkit.testkit.Shards;
import io.shardkit.tx.TccBranch;
import io.shardkit.tx.TccOptions;
import io.shardkit.tx.TccParticipants;
import io.shardkit.tx.TccPhaseOutcome;
import io.shardkit.tx.TccTryRefusedException;
import io.shardkit.tx.impl.tcc.LocalParticipants;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.mysqlclient.MySQLException;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlConnection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Concurrent phases of one branch under REPEATABLE READ (InnoDB's default, which the phases run
 * in): each interleaving is forced by holding a phase's local transaction open before its commit,
 * and a stress run mixes tries and cancels of neighbouring branches. No phase may fail with a
 * deadlock (1213). A control shows that Seata's select-for-update fence does deadlock here.
 */
@Shards(1)
@ExtendWith(LeakGuardExtension.class)
class TccFenceLockingTest {

  static final TccOptions OPTIONS = TccOptions.builder().tablePrefix("lock_t").build();

  static Vertx vertx;
  static ShardDatabases databases;
  static ShardedPool pool;
  Bank bank;
  LocalParticipants participants;

  @BeforeAll
  static void start(ShardDatabases dbs) {
    databases = dbs;
    vertx = TccTestSupport.vertx();
    pool = TccTestSupport.pool(vertx, dbs.dataSources("ds_"));
  }

  @AfterAll
  static void stop() throws Exception {
    await(pool.close());
    TccTestSupport.close(vertx);
  }

  @BeforeEach
  void reset() throws Exception {
    Bank.reset(databases, OPTIONS);
    Bank.open(databases, 64, 1_000);
    bank = new Bank();
    participants = (LocalParticipants) TccParticipants.create(vertx, pool, OPTIONS);
    participants.register(bank.debit);
    await(participants.setup());
    String isolation = databases.get(0).query("SELECT @@tx_isolation AS i").get(0).getString("i");
    assertThat(isolation).isEqualTo("REPEATABLE-READ");
  }

  static TccBranch debit(String gid, String branch, long account) {
    return new TccBranch(gid, branch, "debit", new Bank.Move(account, 10).toJson());
  }

  /** Holds the first local transaction of {@code phase} open; {@code reached} tells when. */
  Promise<Void> hold(String phase, Promise<Void> reached) {
    Promise<Void> release = Promise.promise();
    participants.beforeCommit(
        (p, branch) -> {
          if (p.equals(phase) && !reached.future().isComplete()) {
            reached.complete();
            return release.future();
          }
          return Future.succeededFuture();
        });
    return release;
  }

  @Test
  void cancelArrivingWhileTheTryIsOpenWaitsForItAndThenUndoesIt() throws Exception {
    TccBranch branch = debit("g-try-first", "1", 0);
    Promise<Void> tryHolding = Promise.promise();
    Promise<Void> releaseTry = hold("try", tryHolding);

    Future<TccPhaseOutcome> tried = participants.tryBranch(branch);
    await(tryHolding.future());
    Future<TccPhaseOutcome> cancelled = participants.cancel(branch);
    Thread.sleep(300);
    boolean cancelWaitedForTheTry = !cancelled.isComplete();
    releaseTry.complete();

    assertThat(cancelWaitedForTheTry).isTrue();
    assertThat(await(tried)).isEqualTo(TccPhaseOutcome.APPLIED);
    assertThat(await(cancelled)).isEqualTo(TccPhaseOutcome.APPLIED);
    assertThat(Bank.account(databases, 0)).containsExactly(1_000, 0, 0);
  }

  @Test
  void tryAndSecondCancelArrivingWhileAnEmptyRollbackIsOpenAreRefusedAndDeduplicated()
      throws Exception {
    TccBranch branch = debit("g-cancel-first", "1", 0);
    Promise<Void> cancelHolding = Promise.promise();
    Promise<Void> releaseCancel = hold("cancel", cancelHolding);

    Future<TccPhaseOutcome> firstCancel = participants.cancel(branch);
    await(cancelHolding.future());
    Future<TccPhaseOutcome> lateTry = participants.tryBranch(branch);
    Future<TccPhaseOutcome> secondCancel = participants.cancel(branch);
    Thread.sleep(300);
    boolean bothWaited = !lateTry.isComplete() && !secondCancel.isComplete();
    releaseCancel.complete();

    assertThat(bothWaited).isTrue();
    assertThat(await(firstCancel)).isEqualTo(TccPhaseOutcome.EMPTY_ROLLBACK);
    assertThat(awaitFailure(lateTry)).isInstanceOf(TccTryRefusedException.class);
    assertThat(await(secondCancel)).isEqualTo(TccPhaseOutcome.DUPLICATE);
    assertThat(bank.runs("debit.try")).isZero();
    assertThat(Bank.account(databases, 0)).containsExactly(1_000, 0, 0);
  }

  @Test
  void cancelsOfNeighbouringBranchesWhileTheirTriesAreOpenDoNotDeadlock() throws Exception {
    // Branches 1..3 of one transaction are adjacent in the fence's key order: every try holds its
    // row while every cancel arrives, then the tries commit in reverse order.
    String gid = "g-neighbours";
    List<Promise<Void>> releases = new ArrayList<>();
    List<Promise<Void>> reached = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      releases.add(Promise.promise());
      reached.add(Promise.promise());
    }
    participants.beforeCommit(
        (p, branch) -> {
          int i = Integer.parseInt(branch.branchId()) - 1;
          if (p.equals("try")) {
            reached.get(i).complete();
            return releases.get(i).future();
          }
          return Future.succeededFuture();
        });
    List<Future<TccPhaseOutcome>> tries = new ArrayList<>();
    List<Future<TccPhaseOutcome>> cancels = new ArrayList<>();

    for (int i = 0; i < 3; i++) {
      tries.add(participants.tryBranch(debit(gid, Integer.toString(i + 1), i)));
    }
    for (Promise<Void> r : reached) {
      await(r.future());
    }
    for (int i = 0; i < 3; i++) {
      cancels.add(participants.cancel(debit(gid, Integer.toString(i + 1), i)));
    }
    Thread.sleep(300);
    for (int i = 2; i >= 0; i--) {
      releases.get(i).complete();
    }

    for (int i = 0; i < 3; i++) {
      assertThat(await(tries.get(i))).isEqualTo(TccPhaseOutcome.APPLIED);
      assertThat(await(cancels.get(i))).isEqualTo(TccPhaseOutcome.APPLIED);
      assertThat(Bank.account(databases, i)).containsExactly(1_000, 0, 0);
    }
  }

  @Test
  void concurrentTriesAndCancelsOfManyBranchesNeverDeadlockAndStayConsistent() throws Exception {
    int branches = 300;
    Random random = new Random(42);
    List<Future<TccPhaseOutcome>> tries = new ArrayList<>();
    List<Future<TccPhaseOutcome>> cancels = new ArrayList<>();
    List<Future<TccPhaseOutcome>> secondCancels = new ArrayList<>();

    for (int b = 0; b < branches; b++) {
      // Ten transactions of 30 neighbouring branches; each branch gets a try and two cancels in
      // a random order, all at once; accounts shared by several branches.
      TccBranch branch = debit("g-stress-" + (b / 30), Integer.toString(b % 30 + 1), b % 64);
      int order = random.nextInt(3);
      Future<TccPhaseOutcome> t = null;
      Future<TccPhaseOutcome> c1 = null;
      Future<TccPhaseOutcome> c2 = null;
      for (int k = 0; k < 3; k++) {
        switch ((order + k) % 3) {
          case 0 -> t = participants.tryBranch(branch);
          case 1 -> c1 = participants.cancel(branch);
          default -> c2 = participants.cancel(branch);
        }
      }
      tries.add(t);
      cancels.add(c1);
      secondCancels.add(c2);
    }
    await(Future.join(new ArrayList<>(cancels)).otherwiseEmpty());
    await(Future.join(new ArrayList<>(secondCancels)).otherwiseEmpty());
    await(Future.join(new ArrayList<>(tries)).otherwiseEmpty());

    List<Throwable> deadlocks = new ArrayList<>();
    int applied = 0;
    int refused = 0;
    for (int b = 0; b < branches; b++) {
      for (Future<TccPhaseOutcome> f :
          List.of(tries.get(b), cancels.get(b), secondCancels.get(b))) {
        if (f.failed() && isDeadlock(f.cause())) {
          deadlocks.add(f.cause());
        }
      }
      assertThat(cancels.get(b).succeeded())
          .as("first cancel of branch %d: %s", b, cancels.get(b).cause())
          .isTrue();
      assertThat(secondCancels.get(b).succeeded())
          .as("second cancel of branch %d: %s", b, secondCancels.get(b).cause())
          .isTrue();
      List<TccPhaseOutcome> cancelOutcomes =
          List.of(cancels.get(b).result(), secondCancels.get(b).result());
      if (tries.get(b).succeeded()) {
        applied++;
        assertThat(cancelOutcomes)
            .containsExactlyInAnyOrder(TccPhaseOutcome.APPLIED, TccPhaseOutcome.DUPLICATE);
      } else {
        refused++;
        assertThat(tries.get(b).cause()).isInstanceOf(TccTryRefusedException.class);
        assertThat(cancelOutcomes)
            .containsExactlyInAnyOrder(TccPhaseOutcome.EMPTY_ROLLBACK, TccPhaseOutcome.DUPLICATE);
      }
    }
    System.out.printf("stress: %d tries applied then cancelled, %d refused%n", applied, refused);

    assertThat(deadlocks).isEmpty();
    assertThat(bank.runs("debit.try")).isEqualTo(applied);
    assertThat(bank.runs("debit.cancel")).isEqualTo(applied);
    assertThat(Bank.totals(databases)).containsExactly(64 * 1_000L, 0, 0);
  }

  @Test
  void onMariaDbACancelWaitsForALockAtMostHalfThePhaseTimeout() throws Exception {
    LocalParticipants shortPhases =
        (LocalParticipants)
            TccParticipants.create(
                vertx, pool, OPTIONS.toBuilder().phaseTimeout(Duration.ofSeconds(2)).build());
    shortPhases.register(bank.debit);
    TccBranch branch = debit("g-bounded-wait", "1", 0);
    Promise<Void> tryHolding = Promise.promise();
    Promise<Void> releaseTry = hold("try", tryHolding);
    Future<TccPhaseOutcome> tried = participants.tryBranch(branch);
    await(tryHolding.future());
    long start = System.nanoTime();

    Throwable actual = awaitFailure(shortPhases.cancel(branch));
    Duration waited = Duration.ofNanos(System.nanoTime() - start);
    releaseTry.complete();
    await(tried);

    assertThat(actual).isInstanceOf(MySQLException.class);
    assertThat(((MySQLException) actual).getErrorCode()).isEqualTo(1205);
    assertThat(waited).isBetween(Duration.ofMillis(900), Duration.ofMillis(1_900));
    assertThat(await(shortPhases.cancel(branch))).isEqualTo(TccPhaseOutcome.APPLIED);
  }

  /**
   * The one deadlock a primary-key fence still allows (InnoDB's duplicate-key lock upgrade): two
   * cancels of one branch queued behind a try that then rolls back. The coordinator never has two
   * cancel statements of a branch waiting at once (see the bounded wait above), but a paused server
   * can run abandoned statements late; whichever cancel InnoDB picks as the victim is simply
   * retried, and the fence ends exactly as with one cancel.
   */
  @Test
  void twoCancelsQueuedBehindATryThatRollsBackEndAsOneEmptyRollbackAfterARetry() throws Exception {
    TccBranch branch = debit("g-three-party", "1", 0);
    Promise<Void> tryHolding = Promise.promise();
    Promise<Void> releaseTry = hold("try", tryHolding);
    Future<TccPhaseOutcome> tried = participants.tryBranch(branch);
    await(tryHolding.future());
    participants.beforeCommit(null);

    Future<TccPhaseOutcome> first = participants.cancel(branch);
    Future<TccPhaseOutcome> second = participants.cancel(branch);
    Thread.sleep(300);
    releaseTry.fail("the try fails after writing its fence row");
    await(Future.join(tried, first, second).otherwiseEmpty());
    List<TccPhaseOutcome> actual = new ArrayList<>();
    for (Future<TccPhaseOutcome> cancel : List.of(first, second)) {
      actual.add(cancel.succeeded() ? cancel.result() : await(participants.cancel(branch)));
    }

    assertThat(tried.failed()).isTrue();
    assertThat(actual)
        .containsExactlyInAnyOrder(TccPhaseOutcome.EMPTY_ROLLBACK, TccPhaseOutcome.DUPLICATE);
    assertThat(bank.runs("debit.cancel")).isZero();
    assertThat(Bank.fence(databases, 0, OPTIONS, "g-three-party", "1"))
        .containsExactly(java.util.Map.entry(1, 3), java.util.Map.entry(3, 3));
    assertThat(Bank.account(databases, 0)).containsExactly(1_000, 0, 0);
  }

  /**
   * The control: Seata's fence locks the (absent) row with SELECT ... FOR UPDATE before inserting
   * it. Under REPEATABLE READ two such phases of one branch both get the gap lock, then each insert
   * waits for the other's gap lock: InnoDB reports a deadlock. Our fence never takes that gap lock.
   */
  @Test
  void seataStyleSelectForUpdateFenceDeadlocksInTheSameSituation() throws Exception {
    databases
        .get(0)
        .execute(
            "DROP TABLE IF EXISTS seata_fence",
            "CREATE TABLE seata_fence (xid VARCHAR(64) NOT NULL, branch_id BIGINT NOT NULL,"
                + " status TINYINT NOT NULL, PRIMARY KEY (xid, branch_id)) ENGINE=InnoDB",
            "INSERT INTO seata_fence VALUES ('g-other-a', 1, 1), ('g-other-z', 1, 1)");
    Pool shard = pool.pool("ds_0");
    SqlConnection a = await(shard.getConnection());
    SqlConnection b = await(shard.getConnection());
    try {
      await(a.query("BEGIN").execute());
      await(b.query("BEGIN").execute());
      String lock =
          "SELECT status FROM seata_fence WHERE xid = 'g-seata' AND branch_id = 7 FOR UPDATE";
      await(a.query(lock).execute());
      await(b.query(lock).execute());
      String insert = "INSERT INTO seata_fence VALUES ('g-seata', 7, 3)";
      Future<?> first = a.query(insert).execute();
      Thread.sleep(200);
      Future<?> second = b.query(insert).execute();
      await(Future.join(first, second).otherwiseEmpty());

      List<Throwable> failures = new ArrayList<>();
      for (Future<?> f : List.of(first, second)) {
        if (f.failed()) {
          failures.add(f.cause());
        }
      }
      assertThat(failures).anyMatch(TccFenceLockingTest::isDeadlock);
    } finally {
      await(a.query("ROLLBACK").execute().otherwiseEmpty());
      await(b.query("ROLLBACK").execute().otherwiseEmpty());
      await(a.close());
      await(b.close());
    }
  }

  static boolean isDeadlock(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof MySQLException e && e.getErrorCode() == 1213) {
        return true;
      }
    }
    return false;
  }
}
