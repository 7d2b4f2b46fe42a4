package io.shardkit.router.impl.route;

import java.util.List;

/**
 * An UPDATE or DELETE: one template for any number of units, unless a LIMIT confines it to one.
 *
 * @param kind {@link Plan.Kind#UPDATE} or {@link Plan.Kind#DELETE}
 * @param sql the SQL text as given
 * @param scope the tables it writes and reads and the conditions that select their nodes
 * @param template the statement with its tables renamed
 * @param dmlLimit whether it has a LIMIT (then it may run on one unit only)
 * @param keyUpdates {@code SET column = value} of sharding columns (UPDATE), else empty
 */
public record WritePlan(
    Plan.Kind kind,
    String sql,
    Plan.Scope scope,
    SqlTemplate template,
    boolean dmlLimit,
    List<Plan.KeyUpdate> keyUpdates)
    implements Plan.OnUnits {

  public WritePlan {
    if (kind != Plan.Kind.UPDATE && kind != Plan.Kind.DELETE) {
      throw new IllegalArgumentException("a write plan is an UPDATE or a DELETE, not " + kind);
    }
    keyUpdates = List.copyOf(keyUpdates);
  }

  @Override
  public boolean write() {
    return true;
  }

  @Override
  public SqlTemplate single() {
    return template;
  }

  @Override
  public SqlTemplate multi() {
    return dmlLimit ? null : template;
  }

  @Override
  public String multiRefusal() {
    return dmlLimit
        ? kind + " ... LIMIT on several data nodes cannot keep the LIMIT's meaning"
        : null;
  }
}
