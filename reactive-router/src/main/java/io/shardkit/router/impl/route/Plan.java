package io.shardkit.router.impl.route;

import io.shardkit.router.impl.merge.MergeSpec;
import java.util.List;

/**
 * The cached, immutable result of parsing and analysing one SQL text: what the router needs to
 * route an execution (tables, conditions) and what the rewriter and merger need (templates, merge
 * spec). Independent of parameter values.
 *
 * @param kind the statement kind
 * @param sql the SQL text as given
 * @param tables every logical table used, lower case (for messages and previews)
 * @param slots the sharded logical table of each template slot
 * @param uses every table reference and how it routes
 * @param groups the routing group (binding group) of each group id: its lower-case tables
 * @param blockConds per query block: its sharding conditions (block 0 is the statement's own)
 * @param inItems per IN slot: the list items
 * @param inLeaves per IN slot: the condition leaf
 * @param single the template for one route unit (the SQL as written, tables renamed)
 * @param multi the template for several units (derived columns, widened LIMIT), or null when the
 *     statement cannot run on several units
 * @param multiRefusal why the statement cannot run on several units, or null
 * @param merge how several units' rows are merged (SELECT), or null
 * @param limit [offset or null, count] of a top-level LIMIT with plain values, or null
 * @param limitWidened whether the multi template renders a widened LIMIT (else it has none)
 * @param write whether the statement changes data or schema
 * @param dmlLimit UPDATE/DELETE with LIMIT
 * @param keyUpdates UPDATE SET of sharding columns
 * @param insert the INSERT split, or null
 * @param union for {@code UNION [ALL]} of plain branches: how to run each branch as its own
 *     statement and combine them when the whole statement does not route to one unit, else null
 */
public record Plan(
    Kind kind,
    String sql,
    List<String> tables,
    List<String> slots,
    List<Use> uses,
    List<List<String>> groups,
    List<Cond> blockConds,
    List<List<ValueRef>> inItems,
    List<Cond.Leaf> inLeaves,
    SqlTemplate single,
    SqlTemplate multi,
    String multiRefusal,
    MergeSpec merge,
    ValueRef[] limit,
    boolean limitWidened,
    boolean write,
    boolean dmlLimit,
    List<KeyUpdate> keyUpdates,
    InsertSpec insert,
    Union union) {

  public Plan(
      Kind kind,
      String sql,
      List<String> tables,
      List<String> slots,
      List<Use> uses,
      List<List<String>> groups,
      List<Cond> blockConds,
      List<List<ValueRef>> inItems,
      List<Cond.Leaf> inLeaves,
      SqlTemplate single,
      SqlTemplate multi,
      String multiRefusal,
      MergeSpec merge,
      ValueRef[] limit,
      boolean limitWidened,
      boolean write,
      boolean dmlLimit,
      List<KeyUpdate> keyUpdates,
      InsertSpec insert) {
    this(
        kind,
        sql,
        tables,
        slots,
        uses,
        groups,
        blockConds,
        inItems,
        inLeaves,
        single,
        multi,
        multiRefusal,
        merge,
        limit,
        limitWidened,
        write,
        dmlLimit,
        keyUpdates,
        insert,
        null);
  }

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
