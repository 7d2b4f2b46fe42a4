package io.shardkit.tx;

import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.SqlConnection;

/**
 * What a {@link TccPhase} runs with: the branch it belongs to and the local transaction, already
 * begun on the data source that owns the argument, with the fence row already written. The phase
 * runs on the Vert.x context of the branch's scope, so {@code TxScope.current()} gives the global
 * id, the branch id and the deadline.
 */
public interface TccPhaseContext {

  /** The global transaction id. */
  String globalId();

  /** The branch id, unique within the global transaction. */
  String branchId();

  /** The action's name. */
  String action();

  /** {@code "try"}, {@code "confirm"} or {@code "cancel"}. */
  String phase();

  /** The data source the local transaction runs on. */
  String dataSource();

  /**
   * The local transaction's connection: statements use the actual table names of this data source.
   * Owned by shardkit: do not commit, roll back or close it.
   */
  SqlConnection connection();

  /**
   * A routed client on the same connection: statements use logical table names and are rewritten by
   * the pool's rules; a statement that routes to another data source fails before it runs.
   */
  SqlClient client();
}
