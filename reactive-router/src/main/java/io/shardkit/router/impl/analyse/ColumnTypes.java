package io.shardkit.router.impl.analyse;

import io.shardkit.router.impl.parse.AstScan;
import io.shardkit.router.impl.schema.ColumnInfo;
import io.shardkit.router.impl.schema.Schema;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import net.sf.jsqlparser.expression.Expression;
import net.sf.jsqlparser.schema.Column;
import net.sf.jsqlparser.schema.Table;
import net.sf.jsqlparser.statement.select.OrderByElement;
import net.sf.jsqlparser.statement.select.PlainSelect;
import net.sf.jsqlparser.statement.select.SelectItem;

/**
 * The schema types of the plain column references a merge compares (select items, GROUP BY and
 * ORDER BY keys of the statement's own query block, and every column of its HAVING), resolved
 * before the planner renames tables: a qualified column by its table's alias or name, an
 * unqualified one by the only table of the block that has it. Unknown columns (no metadata,
 * ambiguous) have no type.
 */
public final class ColumnTypes {

  /** No types known. */
  public static final ColumnTypes NONE = new ColumnTypes(Map.of(), Schema.EMPTY, List.of());

  private final Map<Column, ColumnInfo> types;
  private final Schema schema;
  private final List<String> tables;

  private ColumnTypes(Map<Column, ColumnInfo> types, Schema schema, List<String> tables) {
    this.types = types;
    this.schema = schema;
    this.tables = tables;
  }

  /**
   * Whether a table of the block has a column of this name (lower case): true, false, or null when
   * a table's metadata is unknown.
   */
  public Boolean isColumn(String name) {
    if (tables.isEmpty()) {
      return null;
    }
    boolean unknown = false;
    for (String table : tables) {
      if (schema.table(table).isEmpty()) {
        unknown = true;
      } else if (schema.column(table, name).isPresent()) {
        return true;
      }
    }
    return unknown ? null : false;
  }

  /** Resolves the column references of {@code block} against the tables of that block. */
  public static ColumnTypes of(Schema schema, PlainSelect block, List<Table> tables) {
    List<String> names = new ArrayList<>();
    for (Table t : tables) {
      names.add(AstScan.unquote(t.getName()).toLowerCase(Locale.ROOT));
    }
    if (schema.tables().isEmpty()) {
      return new ColumnTypes(Map.of(), schema, names);
    }
    List<Expression> expressions = new ArrayList<>();
    for (SelectItem<?> item : block.getSelectItems()) {
      expressions.add(item.getExpression());
    }
    if (block.getGroupBy() != null) {
      for (Object o : block.getGroupBy().getGroupByExpressionList()) {
        expressions.add((Expression) o);
      }
    }
    if (block.getOrderByElements() != null) {
      for (OrderByElement o : block.getOrderByElements()) {
        expressions.add(o.getExpression());
      }
    }
    Map<Column, ColumnInfo> out = new IdentityHashMap<>();
    for (Expression e : expressions) {
      Column c = e instanceof Column column ? column : singleColumnArgument(e);
      if (c != null) {
        resolve(schema, c, tables).ifPresent(info -> out.put(c, info));
      }
      for (Column argument : columnArguments(e)) {
        // COUNT(DISTINCT a, b): each element is compared by its own type
        resolve(schema, argument, tables).ifPresent(info -> out.put(argument, info));
      }
    }
    if (block.getHaving() != null) {
      // HAVING compares columns and MIN/MAX of columns with values: their types decide how
      block
          .getHaving()
          .accept(
              new net.sf.jsqlparser.expression.ExpressionVisitorAdapter<Void>() {
                @Override
                public <S> Void visit(Column c, S context) {
                  resolve(schema, c, tables).ifPresent(info -> out.put(c, info));
                  return null;
                }
              },
              null);
    }
    return new ColumnTypes(out, schema, names);
  }

  private static Optional<ColumnInfo> resolve(Schema schema, Column c, List<Table> tables) {
    String name = AstScan.unquote(c.getColumnName()).toLowerCase(Locale.ROOT);
    Table qualifier = c.getTable();
    if (qualifier != null && qualifier.getName() != null) {
      String q = AstScan.unquote(qualifier.getName()).toLowerCase(Locale.ROOT);
      for (Table t : tables) {
        String logical = AstScan.unquote(t.getName()).toLowerCase(Locale.ROOT);
        String alias =
            t.getAlias() == null
                ? logical
                : AstScan.unquote(t.getAlias().getName()).toLowerCase(Locale.ROOT);
        if (alias.equals(q)) {
          return schema.column(logical, name);
        }
      }
      return Optional.empty();
    }
    ColumnInfo found = null;
    for (Table t : tables) {
      String logical = AstScan.unquote(t.getName()).toLowerCase(Locale.ROOT);
      Optional<List<ColumnInfo>> columns = schema.table(logical);
      if (columns.isEmpty()) {
        return Optional.empty(); // a table without metadata might hold the column too
      }
      Optional<ColumnInfo> c2 = schema.column(logical, name);
      if (c2.isPresent()) {
        if (found != null) {
          return Optional.empty();
        }
        found = c2.get();
      }
    }
    return Optional.ofNullable(found);
  }

  /**
   * The type of a column reference the planner saw, or of the column under MIN/MAX (whose result
   * has the column's type), if known.
   */
  public Optional<ColumnInfo> of(Expression e) {
    Column c = e instanceof Column column ? column : minMaxArgument(e);
    return c == null ? Optional.empty() : Optional.ofNullable(types.get(c));
  }

  /** The plain column arguments of a function with several arguments. */
  private static List<Column> columnArguments(Expression e) {
    List<Column> out = new ArrayList<>();
    if (e instanceof net.sf.jsqlparser.expression.Function f
        && f.getParameters() != null
        && f.getParameters().size() > 1) {
      for (Object p : f.getParameters()) {
        if (p instanceof Column c) {
          out.add(c);
        }
      }
    }
    return out;
  }

  /** The column of a function with one column argument ({@code SUM(DISTINCT c)}), or null. */
  private static Column singleColumnArgument(Expression e) {
    if (e instanceof net.sf.jsqlparser.expression.Function f
        && f.getParameters() != null
        && f.getParameters().size() == 1
        && f.getParameters().get(0) instanceof Column c) {
      return c;
    }
    return null;
  }

  /** The column of {@code MIN(col)} / {@code MAX(col)} (not DISTINCT, not a window), or null. */
  private static Column minMaxArgument(Expression e) {
    if (e instanceof net.sf.jsqlparser.expression.Function f
        && !(e instanceof net.sf.jsqlparser.expression.AnalyticExpression)
        && f.getName() != null
        && (f.getName().equalsIgnoreCase("MIN") || f.getName().equalsIgnoreCase("MAX"))
        && f.getParameters() != null
        && f.getParameters().size() == 1
        && f.getParameters().get(0) instanceof Column c) {
      return c;
    }
    return null;
  }
}
