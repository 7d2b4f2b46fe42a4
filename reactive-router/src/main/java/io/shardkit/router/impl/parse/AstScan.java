package io.shardkit.router.impl.parse;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import net.sf.jsqlparser.expression.JdbcParameter;
import net.sf.jsqlparser.schema.Column;
import net.sf.jsqlparser.schema.Table;
import net.sf.jsqlparser.statement.Statement;
import net.sf.jsqlparser.statement.select.AllTableColumns;
import net.sf.jsqlparser.statement.select.FromItem;
import net.sf.jsqlparser.statement.select.Join;
import net.sf.jsqlparser.statement.select.ParenthesedFromItem;
import net.sf.jsqlparser.statement.select.PlainSelect;
import net.sf.jsqlparser.statement.select.WithItem;
import net.sf.jsqlparser.util.TablesNamesFinder;

/**
 * Walks a whole statement once (subqueries, derived tables, CTEs included) and records every table
 * reference, column, {@code t.*} and query block, so the planner can rename tables and qualifiers
 * and find which block each table belongs to.
 */
public final class AstScan extends TablesNamesFinder<Void> {

  private final List<Table> tables = new ArrayList<>();
  private final List<Column> columns = new ArrayList<>();
  private final List<AllTableColumns> allTableColumns = new ArrayList<>();
  private final List<PlainSelect> selects = new ArrayList<>();
  private final Set<String> cteNames = new HashSet<>();
  private final List<JdbcParameter> parameters = new ArrayList<>();

  private AstScan() {}

  /** Scans a statement. */
  public static AstScan of(Statement statement) {
    AstScan scan = new AstScan();
    scan.init(true);
    statement.accept(scan, null);
    return scan;
  }

  @Override
  public <S> Void visit(Table table, S context) {
    tables.add(table);
    return super.visit(table, context);
  }

  @Override
  public <S> Void visit(Column column, S context) {
    columns.add(column);
    return null;
  }

  @Override
  public <S> Void visit(JdbcParameter parameter, S context) {
    parameters.add(parameter);
    return null;
  }

  @Override
  public <S> Void visit(AllTableColumns all, S context) {
    allTableColumns.add(all);
    return null;
  }

  @Override
  public <S> Void visit(PlainSelect select, S context) {
    selects.add(select);
    return super.visit(select, context);
  }

  @Override
  public <S> Void visit(WithItem<?> item, S context) {
    if (item.getAlias() != null) {
      cteNames.add(unquote(item.getAlias().getName()).toLowerCase(Locale.ROOT));
    }
    return super.visit(item, context);
  }

  /** Every table reference, in visiting order (FROM items, DML targets; not column qualifiers). */
  public List<Table> tables() {
    return tables;
  }

  /** Every {@code ?} parameter. */
  public List<JdbcParameter> parameters() {
    return parameters;
  }

  public List<Column> columns() {
    return columns;
  }

  public List<AllTableColumns> allTableColumns() {
    return allTableColumns;
  }

  /** Every query block; the statement's own block (if a SELECT) first. */
  public List<PlainSelect> selects() {
    return selects;
  }

  /** Lower-case names of common table expressions (not real tables). */
  public Set<String> cteNames() {
    return cteNames;
  }

  /** For each table reference that is a FROM/JOIN item of a query block: that block. */
  public Map<Table, PlainSelect> blockOfTables() {
    Map<Table, PlainSelect> result = new IdentityHashMap<>();
    for (PlainSelect select : selects) {
      collectDirect(select.getFromItem(), select.getJoins(), select, result);
    }
    return result;
  }

  /** The tables directly in a FROM item and its joins (through parenthesised joins). */
  public static void collectDirect(
      FromItem from, List<Join> joins, PlainSelect block, Map<Table, PlainSelect> out) {
    addDirect(from, block, out);
    if (joins != null) {
      for (Join join : joins) {
        addDirect(join.getFromItem(), block, out);
      }
    }
  }

  private static void addDirect(FromItem item, PlainSelect block, Map<Table, PlainSelect> out) {
    if (item instanceof Table t) {
      out.put(t, block);
    } else if (item instanceof ParenthesedFromItem p) {
      collectDirect(p.getFromItem(), p.getJoins(), block, out);
    }
  }

  /** An identifier without MySQL backquotes or double quotes. */
  public static String unquote(String name) {
    if (name != null
        && name.length() >= 2
        && (name.charAt(0) == '`' && name.charAt(name.length() - 1) == '`'
            || name.charAt(0) == '"' && name.charAt(name.length() - 1) == '"')) {
      return name.substring(1, name.length() - 1);
    }
    return name;
  }
}
