package io.shardkit.router.impl.route;

import io.vertx.sqlclient.Tuple;
import java.util.BitSet;
import java.util.List;

/**
 * What routing decided for one execution of a plan. The rewriter renders it into SQL per unit and
 * never routes again: the stages run one way (route, then rewrite).
 */
public sealed interface Routing {

  /**
   * A SELECT, UPDATE, DELETE or DDL on these units.
   *
   * @param units what runs where
   * @param inNodes per IN slot and item: the nodes its value can be on (null item: anywhere), for
   *     pruning IN lists per unit; null when the plan has no prunable IN list
   */
  record Units(List<RouteUnit> units, BitSet[][] inNodes) implements Routing {}

  /**
   * An INSERT split by rows.
   *
   * @param units each node's share of the rows
   * @param params the parameters with the generated keys appended (null for a text query)
   * @param generatedKeys the keys generated for the rows, in row order (empty if none)
   */
  record Rows(List<InsertUnit> units, Tuple params, List<Object> generatedKeys)
      implements Routing {}

  /**
   * A UNION that does not land on one unit: each branch routed as its own statement.
   *
   * @param branches per branch: its routing
   * @param params per branch: its share of the parameters (null for a text query)
   */
  record Branches(List<Routing> branches, List<Tuple> params) implements Routing {}

  /**
   * One data node's share of an INSERT.
   *
   * @param unit the node
   * @param rows the indexes of the rows that go there, in statement order
   */
  record InsertUnit(RouteUnit unit, int[] rows) {}
}
