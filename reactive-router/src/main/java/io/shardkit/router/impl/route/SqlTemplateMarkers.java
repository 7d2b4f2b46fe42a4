package io.shardkit.router.impl.route;

/** Marker identifiers the planner writes into the AST for the template compiler. */
final class SqlTemplateMarkers {

  static final String LIMIT = "__sk_limit__";

  private SqlTemplateMarkers() {}
}
