package io.shardkit.router.impl.route;

import io.shardkit.router.impl.parse.ValueRef;
import java.util.List;

/**
 * The cached, immutable result of parsing and analysing one SQL text, independent of parameter
 * values. One record per statement kind, each carrying only what its kind needs:
 *
 * <ul>
 *   <li>{@link SelectPlan}: templates for one and several units, merge spec, LIMIT, UNION;
 *   <li>{@link InsertPlan}: the VALUES rows split for routing row by row;
 *   <li>{@link WritePlan}: UPDATE and DELETE (LIMIT, updates of sharding columns);
 *   <li>{@link PassThroughPlan}: DDL, run as written on every node of its table.
 * </ul>
 *
 * <p>What every kind shares (tables, template slots, table uses, routing groups, conditions, IN
 * lists) is its {@link Scope}: what the router reads. The templates are what the rewriter reads.
 */
public sealed interface Plan permits InsertPlan, Plan.OnUnits {

  /** The statement kind. */
  Kind kind();

  /** The SQL text as given. */
  String sql();

  /** The tables the statement uses and the conditions that select their data nodes. */
  Scope scope();

  /** Whether the statement changes data or schema. */
  boolean write();

  /** Every logical table used, lower case (for messages and previews). */
  default List<String> tables() {
    return scope().tables();
  }

  /** The sharded logical table of each template slot. */
  default List<String> slots() {
    return scope().slots();
  }

  /** Every table reference and how it routes. */
  default List<Use> uses() {
    return scope().uses();
  }

  /** The routing group (binding group) of each group id: its lower-case tables. */
  default List<List<String>> groups() {
    return scope().groups();
  }

  /** Per query block: its sharding conditions (block 0 is the statement's own). */
  default List<Cond> blockConds() {
    return scope().blockConds();
  }

  /** Per IN slot: the list items. */
  default List<List<ValueRef>> inItems() {
    return scope().inItems();
  }

  /** Per IN slot: the condition leaf. */
  default List<Cond.Leaf> inLeaves() {
    return scope().inLeaves();
  }

  /**
   * A plan that runs one statement text per route unit (every kind but INSERT, whose rows are split
   * by node).
   */
  sealed interface OnUnits extends Plan permits SelectPlan, WritePlan, PassThroughPlan {

    /** The template for one route unit (the SQL as written, tables renamed). */
    SqlTemplate single();

    /**
     * The template for several units (derived columns, widened LIMIT), or null when the statement
     * cannot run on several units.
     */
    SqlTemplate multi();

    /** Why the statement cannot run on several units, or null. */
    String multiRefusal();
  }

  /**
   * What a statement touches, for routing.
   *
   * @param tables every logical table used, lower case (for messages and previews)
   * @param slots the sharded logical table of each template slot
   * @param uses every table reference and how it routes
   * @param groups the routing group (binding group) of each group id: its lower-case tables
   * @param blockConds per query block: its sharding conditions (block 0 is the statement's own)
   * @param inItems per IN slot: the list items
   * @param inLeaves per IN slot: the condition leaf
   */
  record Scope(
      List<String> tables,
      List<String> slots,
      List<Use> uses,
      List<List<String>> groups,
      List<Cond> blockConds,
      List<List<ValueRef>> inItems,
      List<Cond.Leaf> inLeaves) {}

  /**
   * A UNION whose branches run as statements of their own (see {@code UnionPlanner}).
   *
   * @param branches each branch planned as an ordinary SELECT; its visible columns are the {@code
   *     columns} result columns followed by the sort key columns of its strings
   * @param parameters how many {@code ?} each branch takes, in order (the outer LIMIT's follow)
   * @param columns the number of result columns
   * @param weights per result column: the position of its {@code WEIGHT_STRING} column in a branch
   *     row, or -1 when it is not a string
   * @param pads per result column: the position of its space-weight column, or -1
   * @param distinctThrough rows of branches 0..distinctThrough are deduplicated together (the last
   *     UNION DISTINCT overrides the ALL unions to its left), -1 when every union is ALL
   * @param orderColumns the outer ORDER BY's result columns
   * @param descending per ORDER BY key
   * @param limit [offset or null, count] of the outer LIMIT, or null
   * @param distinctBranches per branch: a SELECT DISTINCT branch after {@code distinctThrough},
   *     deduplicated alone by the merge
   */
  public record Union(
      List<Plan> branches,
      List<Integer> parameters,
      int columns,
      int[] weights,
      int[] pads,
      int distinctThrough,
      int[] orderColumns,
      boolean[] descending,
      ValueRef[] limit,
      boolean[] distinctBranches) {}

  /** Statement kinds. */
  public enum Kind {
    SELECT,
    INSERT,
    UPDATE,
    DELETE,
    DDL
  }

  /** How a table reference routes. */
  public enum UseKind {
    SHARDED,
    BROADCAST,
    SINGLE
  }

  /**
   * One table reference.
   *
   * @param table lower-case logical table
   * @param kind how it routes
   * @param slot the template slot (sharded tables) or -1
   * @param group the routing group id (sharded tables) or -1
   * @param block the query block (0: the statement's own FROM/JOIN or DML target)
   * @param dataSource the data source of a single table, else null
   */
  public record Use(
      String table, UseKind kind, int slot, int group, int block, String dataSource) {}

  /** {@code UPDATE ... SET column = value} of a sharding column. */
  public record KeyUpdate(String table, String column, ValueRef value) {}

  /**
   * An INSERT ... VALUES split into rows.
   *
   * @param table lower-case logical table
   * @param prefix template up to and including {@code VALUES }
   * @param rows one template per row, {@code (...)} including the generated key if any
   * @param suffix template after the rows (ON DUPLICATE KEY UPDATE ...), may be empty
   * @param rowValues per row: value of each column in {@code columns} (null if not a plain value)
   * @param columns the insert's columns, lower case, including a generated key column last
   * @param generatedKey whether the key column is generated (its value is the last parameter of
   *     each row)
   */
  public record InsertSpec(
      String table,
      SqlTemplate prefix,
      List<SqlTemplate> rows,
      SqlTemplate suffix,
      List<List<ValueRef>> rowValues,
      List<String> columns,
      boolean generatedKey) {}
}
