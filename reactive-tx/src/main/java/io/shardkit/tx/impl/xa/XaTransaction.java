package io.shardkit.tx.impl.xa;

import io.shardkit.context.Pin;
import io.shardkit.context.ShardkitException;
import io.shardkit.context.ShardkitTimeoutException;
import io.shardkit.context.TxContext;
import io.shardkit.context.TxScope;
import io.shardkit.tx.TransactionOutcomePendingException;
import io.shardkit.tx.TransactionOutcomePendingException.Decision;
import io.shardkit.tx.TransactionOutcomeUnknownException;
import io.shardkit.tx.TransactionRolledBackException;
import io.shardkit.tx.spi.TransactionObserver.Outcome;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.SqlClient;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The coordinator of one XA transaction. Lives on the transaction's scope context: every state
 * change happens there, so the deadline (which closes the scope on that context) and the commit
 * path never race.
 *
 * <p>The rule that makes it safe: a COMMIT decision is written only while the state is {@code
 * PREPARING} and the deadline has not passed; the deadline moves an undecided transaction to {@code
 * ROLLING_BACK} first, so once expired nothing can commit it, and the rollback may run without an
 * ABORT row. A transaction caught in {@code DECIDING} waits for the log's answer.
 */
final class XaTransaction {

  enum State {
    ACTIVE,
    ONE_PHASE,
    PREPARING,
    DECIDING,
    COMMITTING,
    ROLLING_BACK,
    DONE
  }

  private final XaTransactionsImpl owner;
  private final io.shardkit.router.ShardedPool pool;
  private final TxContext tx;
  private final String gid;
  private final long deadlineEpochMillis;
  private final java.time.Duration timeout;
  private final long startNanos = System.nanoTime();
  private final Map<String, Branch> branches = new LinkedHashMap<>();
  private final Pin sentinel;
  private final Context context = Vertx.currentContext();
  private State state = State.ACTIVE;
  private State stateAtExpiry;
  private Future<Decision> decisionWrite;
  private Future<Void> finishing;
  private Future<Void> expiry;
  private List<String> pending = List.of();
  private boolean outcomeReported;

  /**
   * The data source whose branch keeps the decision (the first branch, a local transaction), or
   * null when the coordinator log does; fixed when the first branch is enlisted.
   */
  private String decider;

  XaTransaction(XaTransactionsImpl owner, TxContext tx, io.shardkit.router.ShardedPool pool) {
    this.owner = owner;
    this.pool = pool;
    this.tx = tx;
    this.gid = tx.globalId();
    // on the log server's clock, which every instance's recovery judges it by
    this.deadlineEpochMillis = owner.clock().now() + tx.deadline().remainingMillis() + 1;
    this.timeout = tx.deadline().remaining();
    // Hears the scope's close (deadline, enclosing scope) even before any shard is enlisted.
    this.sentinel = TxScope.pin("xa-transaction", this::expire);
  }

  String globalId() {
    return gid;
  }

  // ---------------------------------------------------------------- enlist

  /** The routed client's view of a data source: the branch's connection, enlisted on first use. */
  Future<SqlClient> clientFor(String dataSource) {
    RuntimeException refused = refusal(dataSource);
    if (refused != null) {
      return Future.failedFuture(refused);
    }
    Branch branch = branches.get(dataSource);
    if (branch != null) {
      return branch.ready;
    }
    if (branches.isEmpty()) {
      decider = owner.decider(dataSource);
    }
    boolean decides = dataSource.equals(decider);
    branch =
        new Branch(
            dataSource,
            new Xid(gid, dataSource, deadlineEpochMillis, decides ? null : decider),
            owner.isPostgres(dataSource),
            decides);
    branches.put(dataSource, branch);
    branch.ready = enlist(branch);
    return branch.ready;
  }

  private Future<SqlClient> enlist(Branch b) {
    Future<SqlClient> refused = refuseIfOpen(b);
    if (refused != null) {
      return refused;
    }
    long asked = System.nanoTime();
    return b.then(
        () ->
            owner
                .checkPostgres(b)
                .compose(
                    v ->
                        owner
                            .connecting(
                                b,
                                owner.admission().connect(b.dataSource, owner.poolOf(b.dataSource)))
                            .recover(
                                t ->
                                    // the source's wait queue is full: typed, retryable, by name
                                    Future.failedFuture(
                                        io.shardkit.router.ShardOverloadedException.typed(
                                            b.dataSource, t))))
                .compose(
                    conn -> {
                      // per branch: the wait for a pooled connection, then its start statement
                      owner.phase(gid, "connect", asked, true);
                      long starting = System.nanoTime();
                      if (state != State.ACTIVE) {
                        b.state = Branch.State.NOT_STARTED;
                        return conn.close().compose(v -> Future.failedFuture(notActive(b)));
                      }
                      try {
                        b.pin = TxScope.pin("connection", this::expire);
                      } catch (RuntimeException scopeClosed) {
                        b.state = Branch.State.NOT_STARTED;
                        return conn.close().compose(v -> Future.failedFuture(scopeClosed));
                      }
                      b.conn = conn;
                      if (!b.postgres && owner.pipelineStart()) {
                        return Future.succeededFuture(startPipelined(b, conn, starting));
                      }
                      String start = b.startSql(owner.pgIsolation(b));
                      // on PostgreSQL the start is counted by the source's breaker like the work's
                      // statements (a frozen server is found by its first statement, the BEGIN)
                      return owner
                          .start(b, () -> b.xa(start))
                          .transform(
                              ar -> {
                                owner.phase(gid, "start", starting, ar.succeeded());
                                if (ar.succeeded()) {
                                  b.state = Branch.State.ACTIVE;
                                  joined(b, ar.result());
                                  return Future.<SqlClient>succeededFuture(client(b, conn));
                                }
                                b.state =
                                    SqlErrors.fromServer(ar.cause())
                                        ? Branch.State.NOT_STARTED
                                        : Branch.State.UNKNOWN;
                                return Future.failedFuture(ar.cause());
                              });
                    },
                    e -> {
                      b.state = Branch.State.NOT_STARTED;
                      owner.enlistFailed(b, e);
                      return Future.failedFuture(e);
                    }));
  }

  /**
   * Sends the MySQL branch's start ({@code SET autocommit=0; XA START x}, or {@code SET
   * autocommit=0} for the deciding branch) and hands out the client at once: its first statement
   * goes out right behind the start on the same connection, saving a round trip. Safe because the
   * session no longer autocommits: should the start fail, the statements behind it wait
   * uncommitted, the commit sees the failure and rolls back, and the connection is closed rather
   * than pooled.
   */
  private SqlClient startPipelined(Branch b, io.vertx.sqlclient.SqlConnection conn, long t0) {
    b.autocommitOff = true;
    b.state = Branch.State.ACTIVE;
    b.started =
        b.xa(b.startSql(null))
            .transform(
                ar -> {
                  owner.phase(gid, "start", t0, ar.succeeded());
                  if (ar.succeeded()) {
                    return Future.<Void>succeededFuture();
                  }
                  // whatever ran behind it is uncommitted: never pooled, never committed
                  b.recordFailure(ar.cause());
                  b.state = Branch.State.UNKNOWN;
                  return Future.failedFuture(ar.cause());
                });
    joined(b, null);
    return client(b, conn);
  }

  /** The client the work's statements on the branch run on, kept by the branch. */
  private SqlClient client(Branch b, io.vertx.sqlclient.SqlConnection conn) {
    b.client =
        new BranchClient(
            conn,
            e -> b.recordFailure(e),
            () -> refusal(b.dataSource),
            owner.statementHook(b, gid));
    return b.client;
  }

  /** The branch joined: its snapshot on the transaction's span. */
  private void joined(Branch b, io.vertx.sqlclient.RowSet<io.vertx.sqlclient.Row> started) {
    b.joinedAt = java.time.Instant.now();
    if (b.postgres) {
      io.vertx.sqlclient.RowSet<io.vertx.sqlclient.Row> show = started.next();
      if (show != null && show.iterator().hasNext()) {
        b.isolationLevel = show.iterator().next().getString(0);
      }
    }
    owner.spans().participant(gid, b.snapshot());
  }

  /** Snapshots of the participants that joined, in order. */
  List<io.shardkit.tx.Participant> participants() {
    List<io.shardkit.tx.Participant> out = new ArrayList<>();
    for (Branch b : branches.values()) {
      io.shardkit.tx.Participant p = b.snapshot();
      if (p != null) {
        out.add(p);
      }
    }
    return out;
  }

  /**
   * Why a statement for {@code dataSource} may not run now, or null if it may: only an {@code
   * ACTIVE} transaction whose deadline has not passed takes statements.
   */
  private RuntimeException refusal(String dataSource) {
    if (state != State.ACTIVE) {
      return new ShardkitException(
          "transaction "
              + gid
              + " is "
              + state
              + ": statement for data source "
              + dataSource
              + " refused");
    }
    if (tx.deadline().isExpired()) {
      return new ShardkitTimeoutException(
          gid,
          java.time.Duration.ofNanos(System.nanoTime() - startNanos),
          timeout,
          "statement for data source " + dataSource + " refused: transaction " + gid,
          null);
    }
    return null;
  }

  /**
   * An open circuit breaker refuses the data source before any I/O (no connection taken, no XA
   * START): the statement fails with ShardCircuitOpenException and the transaction rolls back.
   */
  private Future<SqlClient> refuseIfOpen(Branch b) {
    try {
      owner.breakerOf(b.dataSource).checkAvailable();
      return null;
    } catch (RuntimeException open) {
      b.state = Branch.State.NOT_STARTED;
      return Future.failedFuture(open);
    }
  }

  private ShardkitException notActive(Branch b) {
    return new ShardkitException(
        "transaction " + gid + " is " + state + ": data source " + b.dataSource + " not enlisted");
  }

  // ---------------------------------------------------------------- commit

  /** The user's work succeeded: commit on every enlisted shard. */
  Future<Void> commit() {
    if (state != State.ACTIVE) {
      return Future.failedFuture(notActive("commit"));
    }
    List<Branch> all = new ArrayList<>(branches.values());
    Future<Void> enlisted = Future.all(readies(all)).mapEmpty();
    return enlisted.transform(
        ar -> {
          if (ar.failed()) {
            return rollback("execute", causes(all), "a data source could not be enlisted");
          }
          if (state != State.ACTIVE) {
            return Future.failedFuture(notActive("commit"));
          }
          if (all.isEmpty()) {
            finish(Outcome.COMMITTED);
            return Future.succeededFuture();
          }
          return all.size() == 1 ? onePhase(all.get(0)) : twoPhase(all);
        });
  }

  private Future<Void> onePhase(Branch b) {
    state = State.ONE_PHASE;
    long t0 = System.nanoTime();
    Future<?> commit = b.then(() -> b.xa(b.onePhaseSql()));
    finishing = commit.transform(ar -> Future.<Void>succeededFuture());
    return commit.transform(
        ar -> {
          owner.phase(gid, "one_phase", t0, ar.succeeded());
          if (ar.succeeded()) {
            b.state = Branch.State.COMMITTED;
            state = State.DONE;
            finish(Outcome.COMMITTED);
            return b.release(true);
          }
          if (!SqlErrors.fromServer(ar.cause())) {
            b.state = Branch.State.UNKNOWN;
            state = State.DONE;
            finish(Outcome.UNKNOWN);
            return b.release(false)
                .compose(
                    v ->
                        Future.failedFuture(
                            new TransactionOutcomeUnknownException(gid, "commit", ar.cause())
                                .withParticipants(participants())));
          }
          // The server refused: the branch is not committed; roll it back to be sure.
          finishing = null;
          return rollback("commit", Map.of(b.dataSource, ar.cause()), "one-phase commit failed");
        });
  }

  /**
   * Two phases: every branch prepared, then the decision, then the commits. When a branch keeps the
   * decision ({@link Branch#decides}), it is not prepared: its commit, carrying the COMMIT row, is
   * the decision.
   */
  private Future<Void> twoPhase(List<Branch> all) {
    state = State.PREPARING;
    long t0 = System.nanoTime();
    List<Future<Void>> prepares = new ArrayList<>();
    Map<String, Throwable> failures = new LinkedHashMap<>();
    for (Branch b : all) {
      if (b.decides) {
        continue;
      }
      prepares.add(
          b.then(() -> b.xa(b.prepareSql()))
              .transform(
                  ar -> {
                    if (ar.succeeded()) {
                      b.state = Branch.State.PREPARED;
                      return Future.<Void>succeededFuture();
                    }
                    if (!SqlErrors.fromServer(ar.cause())) {
                      b.state = Branch.State.UNKNOWN;
                    }
                    failures.put(b.dataSource, ar.cause());
                    return Future.failedFuture(ar.cause());
                  }));
    }
    return Future.join(prepares)
        .transform(
            ar -> {
              owner.phase(gid, "prepare", t0, ar.succeeded());
              if (state != State.PREPARING) {
                return Future.failedFuture(notActive("decide")); // the deadline took over
              }
              if (ar.failed()) {
                return rollback("prepare", failures, "XA PREPARE failed on " + failures.keySet());
              }
              return here(owner.beforeDecision(gid))
                  .transform(
                      held -> {
                        if (state != State.PREPARING) {
                          return Future.failedFuture(notActive("decide"));
                        }
                        if (tx.deadline().isExpired()) {
                          return rollback(
                              "prepare", Map.of(), "deadline passed before the decision");
                        }
                        if (owner.stopAtPoint(StopPoint.AFTER_PREPARE)) {
                          return abandon(all);
                        }
                        return decide(all);
                      });
            });
  }

  private Future<Void> decide(List<Branch> all) {
    state = State.DECIDING;
    long t0 = System.nanoTime();
    // the decision row carries each participant's snapshot as it joined
    List<Object> participants = new ArrayList<>();
    Branch deciding = null;
    for (Branch b : all) {
      io.shardkit.tx.Participant p = b.snapshot();
      participants.add(p != null ? p : b.dataSource);
      if (b.decides) {
        deciding = b;
      }
    }
    Throwable[] commitFailure = new Throwable[1];
    boolean onLog = deciding == null;
    String where = onLog ? owner.options().logDataSource() : deciding.dataSource;
    decisionWrite =
        here(
            deciding == null
                ? owner
                    .log()
                    .decideCommit(gid, participants)
                    // The insert may have landed with its answer lost: settle it by trying ABORT,
                    // which either wins or reads back the COMMIT that did land.
                    .recover(
                        e -> {
                          commitFailure[0] = e;
                          return owner
                              .log()
                              .decide(gid, Decision.ROLLBACK, participants, "coordinator");
                        })
                : decideOn(deciding, participants, commitFailure));
    return decisionWrite.transform(
        ar -> {
          owner.phase(gid, "decide", t0, ar.succeeded());
          if (ar.failed() && commitFailure[0] != null && SqlErrors.neverSent(commitFailure[0])) {
            // The COMMIT row was never sent, and only this coordinator writes COMMIT for its
            // transaction: it cannot have committed. Roll back now (recovery would, later).
            if (state == State.DECIDING) {
              state = State.ACTIVE;
            }
            return rollback(
                "decide",
                Map.of(where, commitFailure[0]),
                "the COMMIT decision could not be sent to "
                    + (onLog ? "the coordinator log on '" : "data source '")
                    + where
                    + "' ("
                    + commitFailure[0].getMessage()
                    + "): nothing was committed");
          }
          if (ar.failed()) {
            return unknownDecision(all, ar.cause());
          }
          if (ar.result() == Decision.ROLLBACK) {
            if (state == State.DECIDING) {
              state = State.ACTIVE; // let rollback() run; nothing was committed
            }
            return rollback(
                "decide",
                Map.of(),
                commitFailure[0] != null && SqlErrors.code(commitFailure[0]) != SqlErrors.DUP_ENTRY
                    ? "the COMMIT decision on '"
                        + where
                        + "' failed ("
                        + commitFailure[0].getMessage()
                        + "): nothing was committed"
                    : "recovery decided ABORT first");
          }
          if (state == State.DECIDING) {
            state = State.COMMITTING;
          }
          if (owner.stopAtPoint(StopPoint.AFTER_DECISION)) {
            return abandon(all);
          }
          if (owner.asyncSecondPhase(gid) && expiry == null) {
            return detach(all);
          }
          return here(owner.beforeCommit(gid)).transform(v -> commitAll(all));
        });
  }

  /**
   * The deciding branch's commit: its work and the COMMIT row in one local commit. If it fails, the
   * connection is closed for real (the server rolls back whatever it left open) and the outcome is
   * settled by inserting ABORT on the same data source, which either wins or reads back the COMMIT
   * that did land. A commit never sent is a failure, reported as such (nothing committed).
   */
  private Future<Decision> decideOn(
      Branch d, List<Object> participants, Throwable[] commitFailure) {
    return d.then(() -> d.xa(d.decidingCommitSql(owner.decisions().commitSql(gid, participants))))
        .transform(
            ar -> {
              if (ar.succeeded()) {
                d.state = Branch.State.COMMITTED;
                return d.release(true).map(Decision.COMMIT);
              }
              commitFailure[0] = ar.cause();
              if (SqlErrors.neverSent(ar.cause())) {
                return Future.failedFuture(ar.cause());
              }
              return d.release(false)
                  .compose(
                      v ->
                          owner
                              .decisions()
                              .decide(owner.poolOf(d.dataSource), gid, Decision.ROLLBACK)
                              // no decision table (installSchema() not run there): no COMMIT
                              // row can exist, the transaction is not committed
                              .recover(
                                  e ->
                                      SqlErrors.code(e) == SqlErrors.NO_SUCH_TABLE
                                          ? Future.succeededFuture(
                                              new CoordinatorLog.Decided(Decision.ROLLBACK, false))
                                          : Future.failedFuture(e)))
                  .map(
                      decided -> {
                        d.state =
                            decided.decision() == Decision.COMMIT
                                ? Branch.State.COMMITTED
                                : Branch.State.ROLLED_BACK;
                        return decided.decision();
                      });
            });
  }

  /**
   * The asynchronous second phase: the COMMIT decision is durable, so the caller is answered now
   * (committed, second phase pending) and the commits go on in the background, owned by the manager
   * instead of the caller's scope: the branches' pins are dropped so the scope can close without
   * waiting for them. Each commit stays bounded by the rollback timeout; a branch not committed is
   * recovery's, as in the synchronous mode.
   */
  private Future<Void> detach(List<Branch> all) {
    for (Branch b : all) {
      if (b.pin != null) {
        b.pin.unpin();
      }
    }
    sentinel.unpin();
    owner.committedPending(gid);
    owner.runInBackground(
        here(owner.beforeCommit(gid)).transform(v -> commitAll(all)).otherwiseEmpty());
    return Future.succeededFuture();
  }

  private Future<Void> unknownDecision(List<Branch> all, Throwable cause) {
    state = State.DONE;
    List<Future<Void>> closes = new ArrayList<>();
    for (Branch b : all) {
      closes.add(b.release(false)); // prepared: recovery finishes them from the log
    }
    finish(Outcome.UNKNOWN);
    sentinel.unpin();
    return Future.join(closes)
        .transform(
            v ->
                Future.failedFuture(
                    new TransactionOutcomeUnknownException(gid, "decide", cause)
                        .withParticipants(participants())));
  }

  /** Commits every prepared branch in parallel (once; the deadline may join it). */
  private Future<Void> commitAll(List<Branch> all) {
    if (finishing != null) {
      return finishing;
    }
    long t0 = System.nanoTime();
    boolean stopAfterOne = owner.stopAtPoint(StopPoint.AFTER_ONE_COMMIT);
    if (stopAfterOne) {
      Branch first = all.get(0);
      return commitBranch(first).transform(ar -> abandon(all));
    }
    List<Future<Void>> commits = new ArrayList<>();
    for (Branch b : all) {
      commits.add(commitBranch(b));
    }
    finishing =
        Future.join(commits)
            .transform(
                ar -> {
                  owner.phase(gid, "commit", t0, ar.succeeded());
                  List<String> left = new ArrayList<>();
                  for (Branch b : all) {
                    if (b.state != Branch.State.COMMITTED) {
                      left.add(b.dataSource);
                    }
                  }
                  pending = List.copyOf(left);
                  state = State.DONE;
                  return Future.<Void>succeededFuture();
                });
    return finishing.compose(
        v -> {
          if (pending.isEmpty()) {
            finish(Outcome.COMMITTED);
            return Future.succeededFuture();
          }
          finish(Outcome.PENDING);
          Throwable cause = null;
          return Future.failedFuture(
              new TransactionOutcomePendingException(gid, Decision.COMMIT, pending, cause)
                  .withParticipants(participants()));
        });
  }

  private Future<Void> commitBranch(Branch b) {
    if (b.state == Branch.State.COMMITTED) { // the deciding branch: committed with the decision
      return b.release(true);
    }
    return b.bounded(
            owner.vertx(),
            owner.options().rollbackTimeout().toMillis(),
            b.then(() -> b.xa(b.commitSql())))
        .transform(
            ar -> {
              // 1397: the branch is gone (a read-only branch after a restart): nothing to do.
              if (ar.succeeded() || SqlErrors.branchGone(ar.cause())) {
                b.state = Branch.State.COMMITTED;
                return b.release(true);
              }
              return b.release(false).compose(v -> Future.failedFuture(ar.cause()));
            });
  }

  // ---------------------------------------------------------------- rollback

  /**
   * The caller asked for a rollback: roll back every branch; succeeds once every connection is back
   * (also when the deadline already rolled it back).
   */
  Future<Void> rollbackByCaller() {
    if (state != State.ACTIVE) {
      return finishing == null ? Future.succeededFuture() : finishing.otherwiseEmpty();
    }
    Future<Void> done = rollbackAll();
    finish(Outcome.ROLLED_BACK);
    return done;
  }

  private Future<Void> rollback(String phase, Map<String, Throwable> causes, String message) {
    Future<Void> done = rollbackAll();
    finish(Outcome.ROLLED_BACK);
    return done.transform(
        v ->
            Future.failedFuture(
                new TransactionRolledBackException(gid, phase, causes, message)
                    .withParticipants(participants())));
  }

  /** Rolls every branch back (once); completes when every connection is returned or closed. */
  private Future<Void> rollbackAll() {
    if (finishing != null) {
      return finishing;
    }
    state = State.ROLLING_BACK;
    long t0 = System.nanoTime();
    List<Future<Void>> all = new ArrayList<>();
    for (Branch b : branches.values()) {
      all.add(rollbackBranch(b));
    }
    finishing =
        Future.join(all)
            .transform(
                ar -> {
                  owner.phase(gid, "rollback", t0, ar.succeeded());
                  state = State.DONE;
                  sentinel.unpin();
                  return Future.succeededFuture();
                });
    return finishing;
  }

  private Future<Void> rollbackBranch(Branch b) {
    // a statement of the work still running (a lock wait, a long scan) is cancelled, so that the
    // rollback queued behind it runs now instead of when the lock wait times out (a PostgreSQL one
    // has no lock wait timeout by default); the connection goes back only once the kill answered,
    // and is closed for real when it failed (a PostgreSQL cancel always says so)
    Future<Void> kill =
        b.state == Branch.State.ACTIVE && b.conn != null && b.client != null && b.client.busy()
            ? b.postgres
                ? PgSources.cancelRunning(owner.vertx(), b.conn)
                : owner.cancelRunning(b.dataSource, b.conn, b.client.idle())
            : null;
    Future<Void> work =
        b.then(
            () ->
                switch (b.state) {
                  case ENLISTING, NOT_STARTED, COMMITTED, ROLLED_BACK -> Future.succeededFuture();
                  case UNKNOWN -> Future.failedFuture(new IllegalStateException("unknown state"));
                  case ACTIVE ->
                      b.postgres || b.decides
                          // ROLLBACK (PostgreSQL, or the deciding branch's local transaction) ends
                          // any transaction state; if it fails, the connection is closed for real
                          ? b.xa(b.rollbackActiveSql()).<Void>mapEmpty()
                          : b.xa(b.rollbackActiveSql())
                              .<Void>mapEmpty()
                              // Already ended, or rollback-only after a deadlock: END refuses.
                              .recover(e -> rollbackOnly(b, e));
                  case PREPARED -> b.xa(b.rollbackPreparedSql()).mapEmpty();
                });
    return b.bounded(owner.vertx(), owner.options().rollbackTimeout().toMillis(), work)
        .transform(
            ar -> {
              boolean clean =
                  ar.succeeded()
                      || (SqlErrors.branchGone(ar.cause()) && b.state != Branch.State.PREPARED);
              if (b.state != Branch.State.NOT_STARTED && b.state != Branch.State.ENLISTING) {
                b.state = clean ? Branch.State.ROLLED_BACK : Branch.State.UNKNOWN;
              }
              if (kill == null) {
                return b.release(clean);
              }
              return kill.transform(k -> b.release(clean && k.succeeded()));
            });
  }

  private Future<Void> rollbackOnly(Branch b, Throwable endFailure) {
    if (!SqlErrors.fromServer(endFailure)) {
      return Future.failedFuture(endFailure);
    }
    return b.xa(b.rollbackPreparedSql())
        .<Void>mapEmpty()
        .recover(e -> SqlErrors.branchGone(e) ? Future.succeededFuture() : Future.failedFuture(e));
  }

  // ---------------------------------------------------------------- deadline

  /**
   * The scope closed under the transaction (deadline, or the enclosing scope): everything not yet
   * decided is rolled back; a decision in flight is awaited and obeyed; commits already running go
   * on. Runs once; the caller already has (or will have) its failure from the scope.
   */
  Future<Void> expire() {
    if (expiry != null) {
      return expiry;
    }
    stateAtExpiry = state;
    expiry =
        switch (state) {
          case ACTIVE, PREPARING -> rollbackAll();
          case ONE_PHASE -> finishing.otherwiseEmpty();
          case DECIDING ->
              decisionWrite.transform(
                  ar -> {
                    if (ar.succeeded() && ar.result() == Decision.COMMIT) {
                      state = State.COMMITTING;
                      return commitAll(new ArrayList<>(branches.values())).otherwiseEmpty();
                    }
                    if (ar.succeeded()) {
                      return rollbackAll();
                    }
                    return Future.<Void>succeededFuture(); // the decide path closes the branches
                  });
          case COMMITTING, ROLLING_BACK, DONE ->
              finishing == null ? Future.<Void>succeededFuture() : finishing.otherwiseEmpty();
        };
    return expiry;
  }

  /**
   * What the caller sees when the scope failed before the transaction finished: the timeout as is
   * when nothing was decided; outcome pending when COMMIT was already durable; a timeout whose
   * cause says "outcome unknown" when the decision was being written.
   */
  Throwable scopeFailure(Throwable failure) {
    State at = stateAtExpiry == null ? state : stateAtExpiry;
    if (!(failure instanceof ShardkitException) || outcomeReported) {
      return failure;
    }
    if (at == State.COMMITTING) {
      finish(Outcome.PENDING);
      List<String> left = new ArrayList<>();
      branches.values().stream()
          .filter(b -> b.state != Branch.State.COMMITTED)
          .forEach(b -> left.add(b.dataSource));
      return new TransactionOutcomePendingException(gid, Decision.COMMIT, left, failure)
          .withParticipants(participants());
    }
    if ((at == State.DECIDING || at == State.ONE_PHASE)
        && failure instanceof ShardkitTimeoutException t) {
      finish(Outcome.UNKNOWN);
      String phase = at == State.DECIDING ? "decide" : "commit";
      return new ShardkitTimeoutException(
          gid,
          t.elapsed(),
          t.timeout(),
          at == State.DECIDING
              ? "writing the commit decision (the coordinator log decides the outcome)"
              : "committing in one phase (the shard decides the outcome)",
          new TransactionOutcomeUnknownException(gid, phase, null));
    }
    if (at == State.DECIDING || at == State.ONE_PHASE) {
      // the scope ended for another reason (an enclosing scope closed) while the outcome was being
      // decided: it may still commit, so never report a rollback
      finish(Outcome.UNKNOWN);
      return new TransactionOutcomeUnknownException(
              gid, at == State.DECIDING ? "decide" : "commit", failure)
          .withParticipants(participants());
    }
    finish(failure instanceof ShardkitTimeoutException ? Outcome.TIMED_OUT : Outcome.ROLLED_BACK);
    return failure;
  }

  // ---------------------------------------------------------------- test stop points

  /**
   * Simulates a coordinator crash: no further statement is sent, and the connections drop as they
   * would with the process (their prepared branches stay for recovery).
   */
  private Future<Void> abandon(List<Branch> all) {
    state = State.DONE;
    finishing = Future.succeededFuture();
    List<Future<Void>> closes = new ArrayList<>();
    for (Branch b : all) {
      closes.add(b.release(false));
    }
    outcomeReported = true;
    sentinel.unpin();
    return Future.join(closes)
        .transform(
            v ->
                Future.failedFuture(
                    new ShardkitException(
                        "transaction " + gid + " abandoned at a test stop point")));
  }

  // ---------------------------------------------------------------- helpers

  /** Completes on the transaction's context (the log's kept connections live on others). */
  private <T> Future<T> here(Future<T> future) {
    Promise<T> promise = Promise.promise();
    future.onComplete(
        ar -> {
          if (Vertx.currentContext() == context) {
            promise.handle(ar);
          } else {
            context.runOnContext(v -> promise.handle(ar));
          }
        });
    return promise.future();
  }

  private void finish(Outcome outcome) {
    if (!outcomeReported) {
      outcomeReported = true;
      sentinel.unpin();
      owner.outcome(gid, outcome, branches.size(), startNanos);
    }
  }

  private ShardkitException notActive(String step) {
    return new ShardkitException("transaction " + gid + " is " + state + ": cannot " + step);
  }

  /** Every branch enlisted and, where the start was pipelined, started. */
  private static List<Future<?>> readies(List<Branch> all) {
    List<Future<?>> out = new ArrayList<>();
    for (Branch b : all) {
      out.add(b.ready.compose(c -> b.started == null ? Future.succeededFuture() : b.started));
    }
    return out;
  }

  private static Map<String, Throwable> causes(List<Branch> all) {
    Map<String, Throwable> out = new LinkedHashMap<>();
    for (Branch b : all) {
      Future<SqlClient> ready = b.ready;
      if (ready.failed()) {
        out.put(b.dataSource, ready.cause());
      } else if (b.started != null && b.started.failed()) {
        out.put(b.dataSource, b.started.cause());
      }
    }
    return out;
  }
}
