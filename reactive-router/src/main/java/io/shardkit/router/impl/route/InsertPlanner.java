package io.shardkit.router.impl.route;

import io.shardkit.router.ShardingRules;
import io.shardkit.router.TableRule;
import io.shardkit.router.UnsupportedSqlException;
import io.shardkit.router.impl.parse.AstScan;
import io.shardkit.router.impl.parse.ValueRef;
import java.util.ArrayList;
import java.util.List;
import net.sf.jsqlparser.expression.Expression;
import net.sf.jsqlparser.expression.operators.relational.ExpressionList;
import net.sf.jsqlparser.schema.Column;
import net.sf.jsqlparser.statement.insert.Insert;
import net.sf.jsqlparser.statement.select.Values;
import net.sf.jsqlparser.statement.update.UpdateSet;

/**
 * Plans {@code INSERT ... VALUES} and {@code INSERT ... SET}: the column list, the value of each
 * sharding column per row, the key generated for an omitted key column, and templates so that rows
 * can be regrouped per data node at execution time.
 */
final class InsertPlanner {

  private InsertPlanner() {}

  static Plan plan(String sql, Insert insert, ShardingRules rules) {
    AstScan scan = AstScan.of(insert);
    StatementContext ctx = new StatementContext(rules, scan);
    Plan.Use use = ctx.add(insert.getTable(), 0);
    String table = use.table();
    if (insert.getSelect() != null
        && !(insert.getSelect() instanceof Values)
        && insert.getValues() == null) {
      throw new UnsupportedSqlException(
          List.of(table), "INSERT ... SELECT is not supported by the router");
    }
    for (var t : scan.tables()) {
      if (t != insert.getTable()) {
        ctx.add(t, 1);
      }
    }
    if (ctx.uses.size() > 1) {
      throw new UnsupportedSqlException(
          List.copyOf(ctx.tables), "INSERT reading other tables is not supported by the router");
    }
    TableRule rule = rules.tableRule(table).orElse(null);
    List<String> columns = new ArrayList<>();
    List<List<Expression>> rows = new ArrayList<>();
    if (insert.getSetUpdateSets() != null && !insert.getSetUpdateSets().isEmpty()) {
      List<Expression> row = new ArrayList<>();
      for (UpdateSet set : insert.getSetUpdateSets()) {
        for (int i = 0; i < set.getColumns().size(); i++) {
          columns.add(Conditions.name(set.getColumns().get(i)));
          row.add(set.getValues().get(i));
        }
      }
      rows.add(row);
    } else {
      if (insert.getColumns() != null) {
        for (Column c : insert.getColumns()) {
          columns.add(Conditions.name(c));
        }
      }
      Values values = insert.getValues();
      if (values == null) {
        throw new UnsupportedSqlException(
            List.of(table), "INSERT without VALUES is not supported by the router");
      }
      ExpressionList<?> list = values.getExpressions();
      boolean multiRow = list.stream().allMatch(e -> e instanceof ExpressionList<?>);
      if (multiRow) {
        for (Expression e : list) {
          rows.add(new ArrayList<>((ExpressionList<?>) e));
        }
      } else {
        rows.add(new ArrayList<>(list));
      }
    }
    if (columns.isEmpty() && rule != null) {
      if (rule.columns().isEmpty()) {
        throw new UnsupportedSqlException(
            List.of(table),
            "INSERT into sharded table "
                + table
                + " without a column list: list the columns, or declare the table's"
                + " \"columns\" in its rule so the router knows which value is the sharding key");
      }
      columns.addAll(rule.columns());
    }
    for (List<Expression> row : rows) {
      if (!columns.isEmpty() && row.size() != columns.size()) {
        throw new UnsupportedSqlException(
            List.of(table),
            "INSERT row has "
                + row.size()
                + " values for "
                + columns.size()
                + " columns "
                + columns);
      }
    }
    if (rule != null && insert.getDuplicateUpdateSets() != null) {
      for (UpdateSet set : insert.getDuplicateUpdateSets()) {
        for (Column c : set.getColumns()) {
          if (rule.isShardingColumn(Conditions.name(c))) {
            throw new UnsupportedSqlException(
                List.of(table),
                "ON DUPLICATE KEY UPDATE of sharding column "
                    + Conditions.name(c)
                    + " could move the row to another data node");
          }
        }
      }
    }
    boolean generate =
        rule != null && rule.keyColumn() != null && !columns.contains(rule.keyColumn());
    if (rule != null) {
      for (String column : shardingColumns(rule)) {
        if (!columns.contains(column) && !(generate && column.equals(rule.keyColumn()))) {
          throw new UnsupportedSqlException(
              List.of(table),
              "INSERT into " + table + " gives no value for sharding column " + column);
        }
      }
    }
    ctx.renameToMarkers();
    int paramCount = scan.parameters().size();
    String tableText = insert.getTable().toString();
    StringBuilder prefix = new StringBuilder("INSERT ");
    if (insert.isModifierIgnore()) {
      prefix.append("IGNORE ");
    }
    prefix.append("INTO ").append(tableText);
    if (!columns.isEmpty()) {
      List<String> names = new ArrayList<>();
      if (insert.getColumns() != null && !insert.getColumns().isEmpty()) {
        insert.getColumns().forEach(c -> names.add(c.getColumnName()));
      } else if (insert.getSetUpdateSets() != null && !insert.getSetUpdateSets().isEmpty()) {
        insert
            .getSetUpdateSets()
            .forEach(s -> s.getColumns().forEach(c -> names.add(c.getColumnName())));
      } else {
        names.addAll(columns);
      }
      if (generate) {
        names.add(rule.keyColumn());
      }
      prefix.append(" (").append(String.join(", ", names)).append(")");
    }
    prefix.append(" VALUES ");
    List<SqlTemplate> rowTemplates = new ArrayList<>();
    List<List<ValueRef>> rowValues = new ArrayList<>();
    for (int r = 0; r < rows.size(); r++) {
      List<Expression> row = rows.get(r);
      List<String> texts = new ArrayList<>();
      List<ValueRef> values = new ArrayList<>();
      for (Expression e : row) {
        texts.add(e.toString());
        // NULL is a value too: the row goes to the table's first node (see Router.insertUnits)
        values.add(
            e instanceof net.sf.jsqlparser.expression.NullValue
                ? ValueRef.literal(null, "NULL")
                : Conditions.value(e));
      }
      if (generate) {
        texts.add("?" + (paramCount + r + 1));
        values.add(ValueRef.param(paramCount + r));
      }
      rowTemplates.add(SqlTemplate.compile("(" + String.join(", ", texts) + ")"));
      rowValues.add(values);
    }
    String suffix = "";
    if (insert.getDuplicateUpdateSets() != null && !insert.getDuplicateUpdateSets().isEmpty()) {
      List<String> sets = new ArrayList<>();
      for (UpdateSet set : insert.getDuplicateUpdateSets()) {
        sets.add(set.toString());
      }
      suffix = " ON DUPLICATE KEY UPDATE " + String.join(", ", sets);
    }
    List<String> allColumns = new ArrayList<>(columns);
    if (generate) {
      allColumns.add(rule.keyColumn());
    }
    if (rule != null) {
      for (String column : shardingColumns(rule)) {
        int index = allColumns.indexOf(column);
        for (int r = 0; r < rowValues.size(); r++) {
          if (rowValues.get(r).get(index) == null) {
            throw new UnsupportedSqlException(
                List.of(table),
                "INSERT into "
                    + table
                    + ": the value of sharding column "
                    + column
                    + " in row "
                    + (r + 1)
                    + " must be a literal or a ? parameter");
          }
        }
      }
    }
    Plan.InsertSpec spec =
        new Plan.InsertSpec(
            table,
            SqlTemplate.compile(prefix.toString()),
            rowTemplates,
            SqlTemplate.compile(suffix),
            rowValues,
            allColumns,
            generate);
    return new InsertPlan(sql, ctx.tableScope(), spec);
  }

  static List<String> shardingColumns(TableRule rule) {
    List<String> out = new ArrayList<>();
    rule.databaseStrategy().ifPresent(s -> out.addAll(s.columns()));
    rule.tableStrategy()
        .ifPresent(s -> s.columns().stream().filter(c -> !out.contains(c)).forEach(out::add));
    return out;
  }
}
