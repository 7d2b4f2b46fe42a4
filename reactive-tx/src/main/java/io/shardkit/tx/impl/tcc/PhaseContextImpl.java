package io.shardkit.tx.impl.tcc;

import io.shardkit.context.ShardkitException;
import io.shardkit.router.ShardedPool;
import io.shardkit.tx.TccBranch;
import io.shardkit.tx.TccPhaseContext;
import io.vertx.core.Future;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.SqlConnection;

/** What a phase runs with; {@link #client()} is created on first use. */
final class PhaseContextImpl implements TccPhaseContext {

  private final TccBranch branch;
  private final String phase;
  private final String dataSource;
  private final SqlConnection connection;
  private final ShardedPool pool;
  private SqlClient client;

  PhaseContextImpl(
      TccBranch branch,
      String phase,
      String dataSource,
      SqlConnection connection,
      ShardedPool pool) {
    this.branch = branch;
    this.phase = phase;
    this.dataSource = dataSource;
    this.connection = connection;
    this.pool = pool;
  }

  @Override
  public String globalId() {
    return branch.globalId();
  }

  @Override
  public String branchId() {
    return branch.branchId();
  }

  @Override
  public String action() {
    return branch.action();
  }

  @Override
  public String phase() {
    return phase;
  }

  @Override
  public String dataSource() {
    return dataSource;
  }

  @Override
  public SqlConnection connection() {
    return connection;
  }

  @Override
  public SqlClient client() {
    if (client == null) {
      client =
          pool.withConnections(
              target ->
                  target.equals(dataSource)
                      ? Future.succeededFuture(connection)
                      : Future.failedFuture(
                          new ShardkitException(
                              "transaction "
                                  + branch.globalId()
                                  + ": "
                                  + phase()
                                  + " of branch "
                                  + branch.branchId()
                                  + " ("
                                  + branch.action()
                                  + ") runs on "
                                  + dataSource
                                  + " only, but a statement routed to "
                                  + target)));
    }
    return client;
  }
}
