package io.shardkit.router.impl.route;

/**
 * An INSERT ... VALUES: its rows are routed one by one and each node gets the rows it holds.
 *
 * @param sql the SQL text as given
 * @param scope the target table (one block, no conditions, no IN lists)
 * @param insert the statement split into prefix, rows and suffix, with each row's values
 */
public record InsertPlan(String sql, Plan.Scope scope, Plan.InsertSpec insert) implements Plan {

  @Override
  public Plan.Kind kind() {
    return Plan.Kind.INSERT;
  }

  @Override
  public boolean write() {
    return true;
  }
}
