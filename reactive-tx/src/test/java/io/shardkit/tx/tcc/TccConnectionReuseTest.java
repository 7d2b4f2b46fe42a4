package io.shardkit.tx.tcc;

import static io.shardkit.tx.tcc.TccTestSupport.await;
import static io.shardkit.tx.tcc.TccTestSupport.awaitFailure;
import static org.assertj.core.api.Assertions.assertThat;

import io.shardkit.router.ShardedPool;
import io.shardkit.testkit.ShardDatabases;
import io.shardkit.testkit.Shards;
import io.shardkit.tx.TccAction;
import io.shardkit.tx.TccOptions;
import io.shardkit.tx.TccPhaseContext;
import io.shardkit.tx.TransactionOptions;
import io.shardkit.tx.Transactions;
import io.shardkit.tx.TransactionsOptions;
import io.shardkit.tx.impl.TransactionsImpl;
import io.shardkit.tx.impl.tcc.TccCoordinatorImpl;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.SqlConnection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A TCC try's connection is kept for the same branch's confirm or cancel (no second trip through
 * the pool's queue), at most half of each pool's connections, and given back on every path: after
 * the second phase, when none comes before the transaction's deadline, and with nothing left kept.
 * Each phase of the {@code probe} action records the server's {@code CONNECTION_ID()}.
 */
@Shards(2)
class TccConnectionReuseTest {

  static final int POOL_SIZE = 4;
  static final TccOptions OPTIONS =
      TccOptions.builder().tablePrefix("reuse_t").logDataSource("ds_0").build();

  static Vertx vertx;
  static ShardedPool pool;
  static ShardDatabases databases;
  static Transactions transactions;
  static TccCoordinatorImpl coordinator;

  /** "gid/account/phase" → the connection id the phase ran on. */
  static final Map<String, Long> connections = new ConcurrentHashMap<>();

  static final TccAction<Bank.Move> PROBE =
      TccAction.builder("probe", Bank.CODEC)
          .shardedBy("account", Bank.Move::account)
          .onTry((ctx, m) -> record(ctx, m, "try"))
          .onConfirm((ctx, m) -> record(ctx, m, "confirm"))
          .onCancel((ctx, m) -> record(ctx, m, "cancel"))
          .build();

  /** "gid/account/phase" → the session variable {@code @tried} the phase saw. */
  static final Map<String, String> marks = new ConcurrentHashMap<>();

  /** Records the connection id and the session's mark; a try marks its session with its gid. */
  static Future<Void> record(TccPhaseContext ctx, Bank.Move m, String phase) {
    String key = ctx.globalId() + "/" + m.account() + "/" + phase;
    return ctx.connection()
        .query("SELECT CONNECTION_ID() AS id, @tried AS mark")
        .execute()
        .compose(
            rows -> {
              io.vertx.sqlclient.Row row = rows.iterator().next();
              connections.put(key, row.getLong("id"));
              if (row.getString("mark") != null) {
                marks.put(key, row.getString("mark"));
              }
              return phase.equals("try")
                  ? ctx.connection()
                      .query("SET @tried = '" + ctx.globalId() + "'")
                      .execute()
                      .<Void>mapEmpty()
                  : Future.<Void>succeededFuture();
            });
  }

  @BeforeAll
  static void start(ShardDatabases dbs) throws Exception {
    databases = dbs;
    Bank.reset(dbs, OPTIONS);
    Bank.open(dbs, 10, 1_000);
    vertx = TccTestSupport.vertx();
    pool =
        ShardedPool.builder(vertx)
            .rules(TccTestSupport.rules(2))
            .dataSources(dbs.dataSources("ds_"), new PoolOptions().setMaxSize(POOL_SIZE))
            .build();
    transactions =
        Transactions.create(vertx, pool, TransactionsOptions.builder("ds_0").tcc(OPTIONS).build());
    transactions.register(PROBE);
    await(transactions.installSchema());
    await(transactions.warmUp());
    coordinator = ((TransactionsImpl) transactions).tccCoordinator();
  }

  @AfterAll
  static void stop() throws Exception {
    await(transactions.close());
    await(pool.close());
    TccTestSupport.close(vertx);
  }

  @BeforeEach
  void clear() {
    connections.clear();
    marks.clear();
  }

  @AfterEach
  void nothingKept() throws Exception {
    coordinator.beforeDecision(null);
    coordinator.stopAt(TccCoordinatorImpl.StopAt.NONE);
    assertThat(coordinator.parkedConnections()).isZero();
  }

  /**
   * Borrows all connections of ds_1 but one and clears their session mark: a try's connection given
   * back to the pool would be among them.
   */
  static Future<Void> clearOtherSessions() {
    List<Future<SqlConnection>> borrowed = new ArrayList<>();
    for (int i = 0; i < POOL_SIZE - 1; i++) {
      borrowed.add(pool.pool("ds_1").getConnection());
    }
    return Future.all(borrowed)
        .compose(
            all -> {
              List<Future<?>> cleared = new ArrayList<>();
              for (Future<SqlConnection> c : borrowed) {
                cleared.add(
                    c.result()
                        .query("SET @tried = NULL")
                        .execute()
                        .eventually(() -> c.result().close()));
              }
              return Future.all(cleared).mapEmpty();
            });
  }

  @Test
  void confirmRunsOnTheConnectionItsTryRanOn() throws Exception {
    // between the try and the decision the other connections of ds_1 are borrowed and their
    // session mark cleared: a try's connection given back to the pool would be among them
    coordinator.beforeDecision(gid -> clearOtherSessions());
    for (int i = 0; i < 3; i++) {
      long account = 1 + 2 * i; // odd: ds_1
      String gid =
          await(
                  transactions.tccResult(
                      TransactionOptions.ofTimeout(Duration.ofSeconds(5)),
                      tx -> tx.enlist(PROBE, new Bank.Move(account, 1))))
              .globalId();
      Long tried = connections.get(gid + "/" + account + "/try");
      assertThat(tried).isNotNull();
      assertThat(connections.get(gid + "/" + account + "/confirm"))
          .as("the confirm's connection")
          .isEqualTo(tried);
      assertThat(marks.get(gid + "/" + account + "/confirm"))
          .as("the confirm's session still carries the try's mark")
          .isEqualTo(gid);
    }
  }

  @Test
  void nothingIsKeptOnTheLogDataSource() throws Exception {
    // ds_0 holds the coordinator log: its connections serve the decision the others wait for
    Promise<Void> decide = Promise.promise();
    List<String> waiting = new java.util.concurrent.CopyOnWriteArrayList<>();
    coordinator.beforeDecision(
        gid -> {
          waiting.add(gid);
          return decide.future();
        });
    Future<?> transfer =
        transactions.tcc(
            TransactionOptions.ofTimeout(Duration.ofSeconds(5)),
            tx ->
                Future.all(
                        tx.enlist(PROBE, new Bank.Move(0, 1)),
                        tx.enlist(PROBE, new Bank.Move(1, 1)))
                    .mapEmpty());
    assertThat(TccTestSupport.eventually(Duration.ofSeconds(5), () -> waiting.size() == 1))
        .isTrue();
    assertThat(coordinator.parkedConnections()).as("ds_1's kept, ds_0's given back").isEqualTo(1);
    vertx.runOnContext(v -> decide.complete());
    await(transfer);
  }

  @Test
  void cancelRunsOnTheConnectionItsTryRanOn() throws Exception {
    String[] gid = new String[1];
    Throwable failure =
        awaitFailure(
            transactions.tcc(
                TransactionOptions.ofTimeout(Duration.ofSeconds(5)),
                tx -> {
                  gid[0] = tx.globalId();
                  return tx.enlist(PROBE, new Bank.Move(1, 1))
                      .compose(tried -> clearOtherSessions())
                      .compose(
                          cleared -> Future.failedFuture(new IllegalStateException("body fails")));
                }));
    assertThat(failure).hasMessageContaining("body fails");
    Long tried = connections.get(gid[0] + "/1/try");
    assertThat(tried).isNotNull();
    assertThat(connections.get(gid[0] + "/1/cancel")).isEqualTo(tried);
    assertThat(marks.get(gid[0] + "/1/cancel"))
        .as("the cancel's session still carries the try's mark")
        .isEqualTo(gid[0]);
  }

  @Test
  void atMostHalfOfAPoolIsKept() throws Exception {
    // four transactions on ds_1 held before their decision, each with its try done
    Promise<Void> decide = Promise.promise();
    List<String> waiting = new java.util.concurrent.CopyOnWriteArrayList<>();
    coordinator.beforeDecision(
        gid -> {
          waiting.add(gid);
          return decide.future();
        });
    List<Future<?>> all = new ArrayList<>();
    for (int i = 0; i < POOL_SIZE; i++) {
      long account = 1 + 2 * i; // odd: ds_1
      all.add(
          transactions.tcc(
              TransactionOptions.ofTimeout(Duration.ofSeconds(5)),
              tx -> tx.enlist(PROBE, new Bank.Move(account, 1))));
    }
    assertThat(TccTestSupport.eventually(Duration.ofSeconds(5), () -> waiting.size() == POOL_SIZE))
        .isTrue();
    assertThat(coordinator.parkedConnections()).isEqualTo(POOL_SIZE / 2);
    vertx.runOnContext(v -> decide.complete());
    await(Future.all(all));
    int reused = 0;
    for (String gid : waiting) {
      for (int i = 0; i < POOL_SIZE; i++) {
        Long tried = connections.get(gid + "/" + (1 + 2 * i) + "/try");
        if (tried != null && tried.equals(connections.get(gid + "/" + (1 + 2 * i) + "/confirm"))) {
          reused++;
        }
      }
    }
    assertThat(reused).isGreaterThanOrEqualTo(POOL_SIZE / 2);
  }

  @Test
  void givenBackAtTheDeadlineWhenNoSecondPhaseComes() throws Exception {
    // answered at the decision, its confirms never sent (the process "died" after deciding)
    coordinator.stopAt(TccCoordinatorImpl.StopAt.AFTER_DECISION);
    long start = System.nanoTime();
    await(
        transactions.tccResult(
            TransactionOptions.ofTimeout(Duration.ofSeconds(1)).withAsyncSecondPhase(true),
            tx -> tx.enlist(PROBE, new Bank.Move(1, 1))));
    assertThat(coordinator.parkedConnections()).isEqualTo(1);
    assertThat(
            TccTestSupport.eventually(
                Duration.ofSeconds(2), () -> coordinator.parkedConnections() == 0))
        .isTrue();
    assertThat((System.nanoTime() - start) / 1_000_000).isLessThan(1_600);
  }
}
