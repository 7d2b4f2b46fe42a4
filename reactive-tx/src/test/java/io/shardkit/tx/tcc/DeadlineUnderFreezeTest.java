package io.shardkit.tx.tcc;

import static io.shardkit.tx.tcc.TccTestSupport.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.shardkit.context.ShardkitTimeoutException;
import io.shardkit.context.TxScope;
import io.shardkit.context.junit.LeakGuardExtension;
import io.shardkit.router.ShardedPool;
import io.shardkit.testkit.Shard;
import io.shardkit.testkit.ShardDatabases;
import io.shardkit.testkit.Shards;
import io.shardkit.tx.TccBranch;
import io.shardkit.tx.TccOptions;
import io.shardkit.tx.TccOutcomeUnknownException;
import io.shardkit.tx.TransactionCommittedException;
import io.shardkit.tx.TransactionOptions;
import io.shardkit.tx.TransactionOutcomeUnknownException;
import io.shardkit.tx.Transactions;
import io.shardkit.tx.TransactionsOptions;
import io.shardkit.tx.impl.TransactionsImpl;
import io.shardkit.tx.impl.tcc.LocalParticipants;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The deadline is a promise under freezes, for every protocol: {@link #IN_FLIGHT} transfers run at
 * once, each with a {@link #DEADLINE} deadline, between an account on {@code ds_1} and one on
 * {@code ds_2} ({@code ds_0} holds only the coordinator log), while
 *
 * <ol>
 *   <li>the log shard {@code ds_0} is frozen (SIGSTOP) for {@link #FREEZE}, longer than a deadline:
 *       the transactions in flight are caught in every phase, executing or trying, preparing or
 *       deciding (their decision write hangs), committing or confirming;
 *   <li>then a participant shard {@code ds_1} is frozen as long: statements, prepares, tries,
 *       confirms, cancels and compensations on it hang;
 *   <li>all along, one transaction in {@link #STALL_ONE_IN} finds a participant that never answers:
 *       XA: the work's future never completes after its first statement; TCC: a try, confirm or
 *       cancel; Saga: a step's action (the compensatable debit or the retry-only deposit) or a
 *       compensation, whose phase hangs after its statements, its locks held (the coordinator's
 *       attempt times out; a later attempt answers).
 * </ol>
 *
 * <p>Every caller's latency is measured from its call to its answer: the largest must stay within
 * the deadline plus the stated slack ({@link #SLACK}). After recovery (in the same instance) has
 * finished everything, every answer is checked against the data: committed ⇒ applied on both
 * accounts, rolled back ⇒ on neither, unknown ⇒ on both or neither; money is conserved.
 */
@Shards(3)
@ExtendWith(LeakGuardExtension.class)
class DeadlineUnderFreezeTest {

  static final Duration DEADLINE = Duration.ofMillis(1_500);

  /** The slack the README states: answered at most this long after the deadline. */
  static final long SLACK = 100;

  /**
   * A probe timer firing this much later than due counts as a stall of its event loop (see {@link
   * #probeLag}); shorter delays are the machine's ordinary jitter, inside {@link #SLACK}.
   */
  static final long STALL_MS = 20;

  static final int IN_FLIGHT = 24;
  static final Duration FREEZE = Duration.ofMillis(2_500);
  static final int STALL_ONE_IN = 25;
  static final int ACCOUNTS = 300; // ids 0..299: id % 3 == 1 on ds_1, == 2 on ds_2
  static final long START_BALANCE = 1_000;

  static final String DEBIT =
      "UPDATE account SET balance = balance - ? WHERE id = ? AND balance >= ?";
  static final String CREDIT = "UPDATE account SET balance = balance + ? WHERE id = ?";
  static final String MOVE = "INSERT INTO xa_move (gid, account, delta) VALUES (?, ?, ?)";
  static final String MOVE_DDL =
      "CREATE TABLE xa_move (gid VARCHAR(64) NOT NULL, account BIGINT NOT NULL,"
          + " delta BIGINT NOT NULL, PRIMARY KEY (gid, account)) ENGINE=InnoDB";

  static final TccOptions TCC =
      TccOptions.builder()
          .tablePrefix("frz")
          .phaseTimeout(Duration.ofSeconds(1))
          .completionTimeout(Duration.ofSeconds(4))
          .recoveryInterval(Duration.ofMillis(300))
          .recoveryGrace(Duration.ofMillis(300))
          .recoveryLease(Duration.ofSeconds(3))
          .recoveryTakeover(Duration.ofSeconds(1))
          .retryInitialDelay(Duration.ofMillis(20))
          .retryMaxDelay(Duration.ofMillis(300))
          .build();

  /** What the caller was told. */
  enum Told {
    COMMITTED,
    ROLLED_BACK,
    UNKNOWN
  }

  /**
   * One caller's answer: its global id (null if none was allocated), what, how long it took, and
   * when (its call and its answer, {@link System#nanoTime}).
   */
  record Answer(
      String gid, Told told, long millis, String failure, long startNanos, long endNanos) {}

  /** An event loop measurably stalled from {@code fromNanos} to {@code toNanos}. */
  record Stall(long fromNanos, long toNanos) {}

  ShardDatabases databases;
  Vertx vertx;
  ShardedPool pool;
  Transactions transactions;
  Bank bank;
  SagaBank sagaBank;
  final List<Answer> answers = Collections.synchronizedList(new ArrayList<>());
  final Set<String> stalled = ConcurrentHashMap.newKeySet();

  /** The latest an event-loop timer fired during the run (see {@link #probeLag}), in ms. */
  final java.util.concurrent.atomic.AtomicLong maxLag =
      new java.util.concurrent.atomic.AtomicLong();

  /** Every stall the probes saw during the run (a timer {@link #STALL_MS} or more late). */
  final List<Stall> stalls = Collections.synchronizedList(new ArrayList<>());

  @BeforeEach
  void start(ShardDatabases dbs) throws Exception {
    databases = dbs;
    SagaBank.reset(dbs, TCC);
    dbs.executeOnAll("DROP TABLE IF EXISTS xa_move", "DROP TABLE IF EXISTS frz_xa_lease", MOVE_DDL);
    Bank.open(dbs, ACCOUNTS, START_BALANCE);
    vertx = TccTestSupport.vertx();
    TransactionsOptions options =
        TransactionsOptions.builder("ds_0")
            .tablePrefix("frz")
            .recoveryGrace(Duration.ofMillis(300))
            .recoveryInterval(Duration.ofMillis(300))
            .rollbackTimeout(Duration.ofSeconds(1))
            .tcc(TCC)
            .build();
    pool =
        ShardedPool.builder(vertx)
            .rules(
                io.shardkit.router.ShardingRules.builder()
                    .table(
                        "account",
                        t -> t.dataNodes("ds_${0..2}.account").databaseStrategy("id", "mod"))
                    .table(
                        "xa_move",
                        t -> t.dataNodes("ds_${0..2}.xa_move").databaseStrategy("account", "mod"))
                    .build())
            .dataSources(dbs.dataSources("ds_"), new PoolOptions().setMaxSize(IN_FLIGHT + 4))
            .transactionManager(p -> Transactions.create(vertx, p, options))
            .build();
    TccTestSupport.warmUp(pool);
    for (String sql : List.of(DEBIT, CREDIT, MOVE)) {
      int params = (int) sql.chars().filter(c -> c == '?').count();
      Object[] values = new Object[params];
      java.util.Arrays.fill(values, 1L);
      pool.dataSourcesFor(sql, Tuple.from(values));
    }
    bank = new Bank();
    sagaBank = new SagaBank("saga.");
    transactions = Transactions.of(pool);
    transactions
        .register(bank.debit)
        .register(bank.credit)
        .register(sagaBank.debit)
        .register(sagaBank.deposit);
    await(transactions.installSchema());
    new io.vertx.core.json.JsonArray().add(new JsonObject().put("warm", 1)).encode();
  }

  @AfterEach
  void stop() throws Exception {
    for (int i = 0; i < databases.size(); i++) {
      Shard shard = databases.get(i).shard();
      if (shard.isPaused()) {
        shard.resume();
      }
    }
    await(transactions.close(), Duration.ofSeconds(60));
    await(pool.close());
    TccTestSupport.close(vertx);
  }

  // ---------------------------------------------------------------- the three protocols

  @Test
  void xaAnswersByTheDeadlineAndEveryAnswerMatchesTheData() throws Exception {
    Map<String, Long> report =
        run(
            "xa",
            (from, to) -> {
              String[] gid = new String[1];
              boolean stall = ThreadLocalRandom.current().nextInt(STALL_ONE_IN) == 0;
              Future<Void> call =
                  pool.withTransaction(
                      DEADLINE,
                      sql -> {
                        gid[0] = TxScope.current().orElseThrow().globalId();
                        if (stall) {
                          stalled.add(gid[0]);
                        }
                        return xaTransfer(sql, gid[0], from, to, 7, stall);
                      });
              return new Call(call, () -> gid[0]);
            });
    settle(() -> preparedXaBranches() == 0);
    // every XA transfer applied on both accounts (its two move rows) or on neither
    Map<String, Integer> rows = new HashMap<>();
    for (int s = 1; s < databases.size(); s++) {
      for (JsonObject row : databases.get(s).query("SELECT gid FROM xa_move")) {
        rows.merge(row.getString("gid"), 1, Integer::sum);
      }
    }
    assertThat(rows.values()).as("move rows per XA transfer").containsOnly(2);
    checkAnswers(gid -> rows.containsKey(gid) ? Applied.ALL : Applied.NONE);
    assertThat(Bank.totals(databases)[0]).isEqualTo(ACCOUNTS * START_BALANCE);
    print("xa", report);
  }

  @Test
  void tccAnswersByTheDeadlineAndEveryAnswerMatchesTheData() throws Exception {
    stallPhases(Set.of("try", "confirm", "cancel"));
    Map<String, Long> report =
        run(
            "tcc",
            (from, to) -> {
              String[] gid = new String[1];
              Future<Void> call =
                  transactions.tcc(
                      TransactionOptions.ofTimeout(DEADLINE),
                      tx -> {
                        gid[0] = tx.globalId();
                        return bank.transfer(tx, from, to, 7);
                      });
              return new Call(call, () -> gid[0]);
            });
    settle(
        () ->
            unfinished("TCC") == 0
                && Bank.totals(databases)[1] == 0
                && Bank.totals(databases)[2] == 0);
    // per transaction, from the fences of both shards: branches confirmed, cancelled
    Map<String, int[]> phases = new HashMap<>(); // gid -> {confirms, cancels}
    for (int s = 1; s < databases.size(); s++) {
      for (JsonObject row :
          databases
              .get(s)
              .query(
                  "SELECT gid, SUM(phase = 2) AS c, SUM(phase = 3) AS x FROM "
                      + TCC.fenceTable()
                      + " GROUP BY gid")) {
        int[] p = phases.computeIfAbsent(row.getString("gid"), k -> new int[2]);
        p[0] += Integer.parseInt(String.valueOf(row.getValue("c")));
        p[1] += Integer.parseInt(String.valueOf(row.getValue("x")));
      }
    }
    for (var e : phases.entrySet()) {
      int[] p = e.getValue();
      assertThat(p[0] == 0 || (p[0] == 2 && p[1] == 0))
          .as("transaction %s: %d branches confirmed, %d cancelled", e.getKey(), p[0], p[1])
          .isTrue();
    }
    checkAnswers(
        gid -> phases.containsKey(gid) && phases.get(gid)[0] == 2 ? Applied.ALL : Applied.NONE);
    assertThat(Bank.totals(databases)).containsExactly(ACCOUNTS * START_BALANCE, 0L, 0L);
    print("tcc", report);
  }

  @Test
  void sagaAnswersByTheDeadlineAndEveryAnswerMatchesTheData() throws Exception {
    stallPhases(Set.of("action", "compensation"));
    Map<String, Long> report =
        run(
            "saga",
            (from, to) -> {
              String[] gid = new String[1];
              Future<Void> call =
                  transactions.saga(
                      TransactionOptions.ofTimeout(DEADLINE),
                      saga -> {
                        gid[0] = saga.globalId();
                        return saga.step(sagaBank.debit, new Bank.Move(from, 7))
                            .compose(v -> saga.step(sagaBank.deposit, new Bank.Move(to, 7)));
                      });
              return new Call(call, () -> gid[0]);
            });
    settle(() -> unfinished("SAGA") == 0);
    Map<String, List<String>> journal = new HashMap<>();
    for (JsonObject row : SagaBank.journal(databases)) {
      journal
          .computeIfAbsent(row.getString("gid"), k -> new ArrayList<>())
          .add(row.getString("step") + "." + row.getString("kind"));
    }
    for (var e : journal.entrySet()) {
      assertThat(e.getValue())
          .as("saga %s", e.getKey())
          .isIn(
              List.of("saga.debit.action", "saga.deposit.action"),
              List.of("saga.debit.action", "saga.debit.compensation"));
    }
    checkAnswers(
        gid ->
            journal.getOrDefault(gid, List.of()).contains("saga.deposit.action")
                ? Applied.ALL
                : Applied.NONE);
    assertThat(Bank.totals(databases)[0]).isEqualTo(ACCOUNTS * START_BALANCE);
    print("saga", report);
  }

  // ---------------------------------------------------------------- the run

  /** A call in flight and how to read its global id once it has one. */
  record Call(Future<Void> future, java.util.function.Supplier<String> gid) {}

  interface Transfer {
    Call start(long from, long to);
  }

  /**
   * Runs {@link #IN_FLIGHT} loops of transfers for the whole fault schedule: warm, log shard
   * frozen, a gap, participant shard frozen, a tail; then waits for every caller's answer.
   */
  Map<String, Long> run(String mode, Transfer transfer) throws Exception {
    // one of each first, unmeasured: the path's classes load outside the measured run
    for (int i = 0; i < 3; i++) {
      Call warm = transfer.start(1, 2);
      warm.future().otherwiseEmpty().toCompletionStage().toCompletableFuture().get();
    }
    answers.clear();
    stalled.clear();
    maxLag.set(0);
    stalls.clear();
    AtomicBoolean stop = new AtomicBoolean();
    List<Long> probes = probeLag();
    List<Promise<Void>> loops = new ArrayList<>();
    for (int i = 0; i < IN_FLIGHT; i++) {
      Promise<Void> done = Promise.promise();
      loops.add(done);
      vertx.runOnContext(v -> loop(transfer, stop, done));
    }
    Shard log = databases.get(0).shard();
    Shard participant = databases.get(1).shard();
    Thread.sleep(800);
    long frozenLog = freeze(log);
    Thread.sleep(800);
    long frozenParticipant = freeze(participant);
    Thread.sleep(800);
    stop.set(true);
    for (Promise<Void> done : loops) {
      await(done.future(), Duration.ofSeconds(30));
    }
    probes.forEach(vertx::cancelTimer);
    Map<String, Long> report = new java.util.LinkedHashMap<>();
    report.put("max event-loop lag ms", maxLag.get());
    report.put("event-loop stalls >= " + STALL_MS + " ms", (long) stalls.size());
    report.put("frozen log ms", frozenLog);
    report.put("frozen participant ms", frozenParticipant);
    return report;
  }

  /**
   * A 10 ms periodic timer on each event loop, recording how late it fires: the scheduling delay a
   * caller's answer may suffer on this machine (2 cores shared with other builds) on top of the
   * library's slack. Returns the timer ids.
   */
  List<Long> probeLag() {
    List<Long> ids = new ArrayList<>();
    for (int i = 0; i < 2 * Runtime.getRuntime().availableProcessors(); i++) {
      io.vertx.core.Context context =
          ((io.vertx.core.internal.VertxInternal) vertx).createEventLoopContext();
      Promise<Long> id = Promise.promise();
      context.runOnContext(
          v -> {
            long[] last = {System.nanoTime()};
            id.complete(
                vertx.setPeriodic(
                    10,
                    t -> {
                      long now = System.nanoTime();
                      long late = (now - last[0]) / 1_000_000 - 10;
                      last[0] = now;
                      maxLag.accumulateAndGet(late, Math::max);
                      if (late >= STALL_MS) {
                        stalls.add(new Stall(now - late * 1_000_000, now));
                      }
                    }));
          });
      try {
        ids.add(id.future().toCompletionStage().toCompletableFuture().get());
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }
    return ids;
  }

  private static long freeze(Shard shard) throws InterruptedException {
    long t0 = System.nanoTime();
    shard.pause();
    try {
      Thread.sleep(FREEZE.toMillis());
    } finally {
      shard.resume();
    }
    return (System.nanoTime() - t0) / 1_000_000;
  }

  private void loop(Transfer transfer, AtomicBoolean stop, Promise<Void> done) {
    if (stop.get()) {
      done.complete();
      return;
    }
    ThreadLocalRandom random = ThreadLocalRandom.current();
    long one = 3L * random.nextInt(ACCOUNTS / 3) + 1; // on ds_1
    long two = 3L * random.nextInt(ACCOUNTS / 3) + 2; // on ds_2
    boolean forward = random.nextBoolean();
    long start = System.nanoTime();
    Call call = transfer.start(forward ? one : two, forward ? two : one);
    call.future()
        .onComplete(
            ar -> {
              long end = System.nanoTime();
              long millis = (end - start) / 1_000_000;
              answers.add(
                  new Answer(
                      call.gid().get(),
                      told(ar),
                      millis,
                      ar.failed() ? ar.cause().getClass().getSimpleName() : null,
                      start,
                      end));
              loop(transfer, stop, done);
            });
  }

  /** The outcome table of the README, as a caller applies it. */
  static Told told(io.vertx.core.AsyncResult<?> ar) {
    if (ar.succeeded() || ar.cause() instanceof TransactionCommittedException) {
      return Told.COMMITTED;
    }
    for (Throwable t = ar.cause(); t != null; t = t.getCause()) {
      if (t instanceof TransactionOutcomeUnknownException
          || t instanceof TccOutcomeUnknownException) {
        return Told.UNKNOWN;
      }
      if (t instanceof ShardkitTimeoutException
          && String.valueOf(t.getMessage()).contains("outcome is unknown")) {
        return Told.UNKNOWN;
      }
    }
    return Told.ROLLED_BACK;
  }

  /** TCC and Saga phases (by name) that hang for one branch in {@link #STALL_ONE_IN}, once. */
  void stallPhases(Set<String> phases) {
    Set<String> once = ConcurrentHashMap.newKeySet();
    LocalParticipants local =
        (LocalParticipants) ((TransactionsImpl) transactions).tccCoordinator().participants();
    local.beforeCommit(
        (String phase, TccBranch branch) -> {
          if (phases.contains(phase)
              && Math.floorMod((branch.globalId() + branch.branchId()).hashCode(), STALL_ONE_IN)
                  == 0
              && once.add(branch.globalId() + "/" + branch.branchId() + "/" + phase)) {
            stalled.add(branch.globalId());
            return Promise.<Void>promise().future(); // never answers
          }
          return Future.succeededFuture();
        });
  }

  enum Applied {
    ALL,
    NONE
  }

  /** Latency within deadline + slack; every answer agrees with what the data shows. */
  void checkAnswers(Function<String, Applied> applied) {
    List<Answer> all;
    synchronized (answers) {
      all = new ArrayList<>(answers);
    }
    // the library's promise is deadline + SLACK, event loops permitting: on this shared machine an
    // answer may also wait for its event loop. Each answer is forgiven exactly the time during
    // which the probes saw an event loop stalled within its own call (measured, not assumed: an
    // answer late while every event loop ran on time fails); a stall the library itself causes by
    // running long on an event loop fails the test through the blocked-thread guard instead.
    long bound = DEADLINE.toMillis() + SLACK;
    List<Stall> seen;
    synchronized (stalls) {
      seen = new ArrayList<>(stalls);
    }
    List<String> late = new ArrayList<>();
    for (Answer a : all) {
      long stalled = a.millis() > bound ? stalledMillis(seen, a.startNanos(), a.endNanos()) : 0;
      if (a.millis() > bound + stalled) {
        late.add(a + " (event loops stalled " + stalled + " ms during it)");
      }
    }
    assertThat(late)
        .as(
            "callers answered later than deadline + %d ms + the event-loop stalls measured during"
                + " their call (max event-loop lag of the run: %d ms)",
            SLACK, maxLag.get())
        .isEmpty();
    for (Answer a : all) {
      if (a.gid() == null) {
        assertThat(a.told()).as("an answer without a global id: %s", a).isEqualTo(Told.ROLLED_BACK);
        continue;
      }
      Applied actual = applied.apply(a.gid());
      switch (a.told()) {
        case COMMITTED -> assertThat(actual).as("committed %s", a).isEqualTo(Applied.ALL);
        case ROLLED_BACK -> assertThat(actual).as("rolled back %s", a).isEqualTo(Applied.NONE);
        case UNKNOWN -> {
          // all or nothing: checked per transaction from the data above
        }
      }
    }
  }

  /** How long, within {@code [from, to]}, at least one event loop was measurably stalled. */
  static long stalledMillis(List<Stall> stalls, long from, long to) {
    List<Stall> inside =
        stalls.stream()
            .filter(s -> s.toNanos() > from && s.fromNanos() < to)
            .map(s -> new Stall(Math.max(s.fromNanos(), from), Math.min(s.toNanos(), to)))
            .sorted(java.util.Comparator.comparingLong(Stall::fromNanos))
            .toList();
    long total = 0;
    long covered = from;
    for (Stall s : inside) {
      long begin = Math.max(s.fromNanos(), covered);
      if (s.toNanos() > begin) {
        total += s.toNanos() - begin;
        covered = s.toNanos();
      }
    }
    return total / 1_000_000;
  }

  void print(String mode, Map<String, Long> report) {
    List<Answer> all;
    synchronized (answers) {
      all = new ArrayList<>(answers);
    }
    long max = all.stream().mapToLong(Answer::millis).max().orElse(0);
    Map<String, Integer> counts = new java.util.TreeMap<>();
    for (Answer a : all) {
      counts.merge(a.told() + (a.failure() == null ? "" : "/" + a.failure()), 1, Integer::sum);
    }
    long overDeadline = all.stream().filter(a -> a.millis() > DEADLINE.toMillis()).count();
    List<String> slowest =
        all.stream()
            .sorted(java.util.Comparator.comparingLong(Answer::millis).reversed())
            .limit(3)
            .map(a -> a.millis() + " ms " + a.told() + "/" + a.failure())
            .toList();
    System.out.printf(
        "%s under freezes: %d answers, max latency %d ms (deadline %d ms, bound %d ms; slowest"
            + " %s), %d past the deadline, stalled %d; %s; %s%n",
        mode,
        all.size(),
        max,
        DEADLINE.toMillis(),
        DEADLINE.toMillis() + SLACK,
        slowest,
        overDeadline,
        stalled.size(),
        counts,
        report);
    assertThat(counts.keySet()).as("outcomes seen").anyMatch(k -> k.startsWith("COMMITTED"));
    assertThat(counts.keySet()).as("outcomes seen").anyMatch(k -> k.startsWith("ROLLED_BACK"));
    assertThat(stalled).as("participants that never answered").isNotEmpty();
  }

  // ---------------------------------------------------------------- helpers

  static Future<Void> xaTransfer(
      SqlClient sql, String gid, long from, long to, long amount, boolean stall) {
    return sql.preparedQuery(DEBIT)
        .execute(Tuple.of(amount, from, amount))
        .compose(
            rs -> {
              if (stall) {
                return Promise.<io.vertx.sqlclient.RowSet<io.vertx.sqlclient.Row>>promise()
                    .future(); // the work never completes: the deadline ends it
              }
              return rs.rowCount() == 1
                  ? sql.preparedQuery(CREDIT).execute(Tuple.of(amount, to))
                  : Future.failedFuture(new IllegalStateException("insufficient funds"));
            })
        .compose(
            rs ->
                sql.preparedQuery(MOVE)
                    .executeBatch(List.of(Tuple.of(gid, from, -amount), Tuple.of(gid, to, amount))))
        .mapEmpty();
  }

  /** Starts recovery and waits (≤ 40 s) until {@code done} holds. */
  void settle(java.util.function.BooleanSupplier done) throws Exception {
    await(transactions.startRecovery());
    long t0 = System.nanoTime();
    boolean settled = TccTestSupport.eventually(Duration.ofSeconds(40), done);
    System.out.printf("recovery settled in %d ms%n", (System.nanoTime() - t0) / 1_000_000);
    await(transactions.stopRecovery());
    assertThat(settled).as("recovery finished every transaction").isTrue();
  }

  int preparedXaBranches() {
    int count = 0;
    for (int s = 0; s < databases.size(); s++) {
      for (JsonObject row : databases.get(s).shard().query(null, "XA RECOVER")) {
        if (io.shardkit.tx.impl.xa.Xid.isShardkit(row.getInteger("formatID"))) {
          count++;
        }
      }
    }
    return count;
  }

  int unfinished(String protocol) {
    return databases
        .get(0)
        .query(
            "SELECT COUNT(*) AS n FROM "
                + TCC.txTable()
                + " WHERE state IN (1, 2, 3) AND protocol = '"
                + protocol
                + "'")
        .get(0)
        .getInteger("n");
  }
}
