package io.shardkit.router.impl.route;

import java.util.Arrays;

/**
 * One execution target of a routed statement: a data source and, for each table slot of the plan,
 * the actual table name ({@code null} for slots rendered as written) and data node index.
 */
public record RouteUnit(String dataSource, String[] actualTables, int[] nodeIndexes) {

  @Override
  public boolean equals(Object o) {
    return o instanceof RouteUnit u
        && u.dataSource.equals(dataSource)
        && Arrays.equals(u.actualTables, actualTables);
  }

  @Override
  public int hashCode() {
    return dataSource.hashCode() * 31 + Arrays.hashCode(actualTables);
  }

  @Override
  public String toString() {
    return dataSource + Arrays.toString(actualTables);
  }
}
