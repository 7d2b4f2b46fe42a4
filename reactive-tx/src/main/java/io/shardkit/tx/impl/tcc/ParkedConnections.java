package io.shardkit.tx.impl.tcc;

import io.shardkit.tx.TccBranch;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.SqlConnection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToIntFunction;

/**
 * Connections a TCC try left idle (its local transaction committed, none open) for the confirm or
 * cancel of the same branch, run by the same coordinator: that second phase then takes no
 * connection from the pool, so under overload it does not wait in the pool's FIFO queue behind the
 * first steps of transactions admitted after it.
 *
 * <p>Bounded three ways: none on the coordinator log's data source (parked connections wait for
 * their decision, written through that pool, where XA also keeps connections for its own log: a
 * pool of 4 with 2 kept by XA and 2 parked left no connection for the decision, and every
 * transaction waited for its deadline), and on the others at most half the pool's {@code maxSize}
 * (the rest serve tries); each one at most until its transaction's deadline (a timer gives it
 * back); and the coordinator gives back whatever its transaction left parked when the transaction
 * ends ({@link #release}) and everything when it closes ({@link #close}). A parked connection is
 * handed out once ({@link #take}); if it broke meanwhile the phase fails and its retry takes a
 * fresh one from the pool.
 */
final class ParkedConnections {

  private record Parked(String dataSource, SqlConnection connection, long timer) {}

  private final Vertx vertx;

  /** Per data source, the pool's {@code maxSize} (0: never park there). */
  private final ToIntFunction<String> poolMaxSize;

  /** Parked connections by global id, then branch id; guarded by {@code this}. */
  private final Map<String, Map<String, Parked>> byGid = new HashMap<>();

  private final Map<String, Integer> perDataSource = new HashMap<>();
  private boolean closed;

  ParkedConnections(Vertx vertx, ToIntFunction<String> poolMaxSize) {
    this.vertx = vertx;
    this.poolMaxSize = poolMaxSize;
  }

  /**
   * Parks {@code connection} (idle, no transaction open) for {@code branch}'s second phase, for at
   * most {@code within}; false when it cannot be parked (the caller gives it back to its pool).
   */
  boolean park(TccBranch branch, String dataSource, SqlConnection connection, Duration within) {
    long millis = within.toMillis();
    if (millis < 1) {
      return false;
    }
    synchronized (this) {
      int parked = perDataSource.getOrDefault(dataSource, 0);
      if (closed
          || parked >= poolMaxSize.applyAsInt(dataSource) / 2
          || byGid.getOrDefault(branch.globalId(), Map.of()).containsKey(branch.branchId())) {
        return false;
      }
      long timer = vertx.setTimer(millis, id -> expire(branch, id));
      byGid
          .computeIfAbsent(branch.globalId(), g -> new HashMap<>())
          .put(branch.branchId(), new Parked(dataSource, connection, timer));
      perDataSource.put(dataSource, parked + 1);
      return true;
    }
  }

  /** The connection parked for {@code branch}, now the caller's; null when none is. */
  SqlConnection take(TccBranch branch) {
    Parked parked;
    synchronized (this) {
      parked = remove(branch.globalId(), branch.branchId());
    }
    if (parked == null) {
      return null;
    }
    vertx.cancelTimer(parked.timer());
    return parked.connection();
  }

  /** Gives back to their pools the connections still parked for {@code gid}. */
  void release(String gid) {
    List<Parked> left = new ArrayList<>();
    synchronized (this) {
      Map<String, Parked> branches = byGid.get(gid);
      if (branches == null) {
        return;
      }
      for (String branch : List.copyOf(branches.keySet())) {
        left.add(remove(gid, branch));
      }
    }
    giveBack(left);
  }

  /** Gives back every parked connection and parks none from now on. */
  void close() {
    List<Parked> left = new ArrayList<>();
    synchronized (this) {
      closed = true;
      for (String gid : List.copyOf(byGid.keySet())) {
        for (String branch : List.copyOf(byGid.get(gid).keySet())) {
          left.add(remove(gid, branch));
        }
      }
    }
    giveBack(left);
  }

  /** How many connections are parked now (all data sources). */
  synchronized int size() {
    int total = 0;
    for (int n : perDataSource.values()) {
      total += n;
    }
    return total;
  }

  private void expire(TccBranch branch, long timer) {
    Parked parked;
    synchronized (this) {
      Parked current = byGid.getOrDefault(branch.globalId(), Map.of()).get(branch.branchId());
      if (current == null || current.timer() != timer) {
        return;
      }
      parked = remove(branch.globalId(), branch.branchId());
    }
    parked.connection().close();
  }

  /** Removes one entry and counts it out; the caller holds the lock. */
  private Parked remove(String gid, String branch) {
    Map<String, Parked> branches = byGid.get(gid);
    Parked parked = branches == null ? null : branches.remove(branch);
    if (parked == null) {
      return null;
    }
    if (branches.isEmpty()) {
      byGid.remove(gid);
    }
    perDataSource.merge(parked.dataSource(), -1, Integer::sum);
    return parked;
  }

  private void giveBack(List<Parked> parked) {
    for (Parked p : parked) {
      vertx.cancelTimer(p.timer());
      p.connection().close();
    }
  }
}
