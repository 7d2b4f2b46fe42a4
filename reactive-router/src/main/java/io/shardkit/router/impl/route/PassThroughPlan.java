package io.shardkit.router.impl.route;

/**
 * A statement run as written (tables renamed) on every data node of its table: DDL ({@code CREATE
 * TABLE}, {@code ALTER}, {@code DROP}, {@code TRUNCATE}, {@code CREATE INDEX}).
 *
 * @param sql the SQL text as given
 * @param scope its table (one block, no conditions, no IN lists)
 * @param template the statement with its table renamed
 */
public record PassThroughPlan(String sql, Plan.Scope scope, SqlTemplate template)
    implements Plan.OnUnits {

  @Override
  public Plan.Kind kind() {
    return Plan.Kind.DDL;
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
    return template;
  }

  @Override
  public String multiRefusal() {
    return null;
  }
}
