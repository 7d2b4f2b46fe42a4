package io.shardkit.context;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Routing instructions a caller attaches to a scope, read by the router instead of the SQL's own
 * sharding conditions. It replaces ShardingSphere's {@code HintManager}, which lived in a {@code
 * ThreadLocal}: here the hint is part of the {@link TxContext} on the Vert.x context, so it follows
 * the request across callbacks and never leaks into another request on the same thread.
 *
 * <p>A hint holds, all optional:
 *
 * <ul>
 *   <li>a forced data source: every statement of the scope goes to that data source;
 *   <li>per logical table, the database-sharding values: the router feeds them to the table's
 *       database strategy as if they came from the sharding column;
 *   <li>per logical table, the table-sharding values, likewise for the table strategy.
 * </ul>
 *
 * <p>This module does not interpret the hint (it does not know the router); the router documents
 * how it combines the hint with the SQL. Hints are local to the process: they are not written to
 * event-bus headers or gRPC metadata, since table names mean nothing to another service.
 *
 * <p>Immutable and thread-safe; logical table names are compared as given (case-sensitive).
 */
public final class RoutingHint {

  private static final RoutingHint EMPTY = new RoutingHint(null, Map.of(), Map.of(), false);

  private final String dataSource;
  private final boolean primary;
  private final Map<String, List<Comparable<?>>> databaseValues;
  private final Map<String, List<Comparable<?>>> tableValues;

  private RoutingHint(
      String dataSource,
      Map<String, List<Comparable<?>>> databaseValues,
      Map<String, List<Comparable<?>>> tableValues,
      boolean primary) {
    this.dataSource = dataSource;
    this.databaseValues = databaseValues;
    this.tableValues = tableValues;
    this.primary = primary;
  }

  /** A hint with nothing in it. */
  public static RoutingHint empty() {
    return EMPTY;
  }

  /** A hint that forces every statement to {@code dataSource}. */
  public static RoutingHint forceDataSource(String dataSource) {
    return builder().dataSource(dataSource).build();
  }

  /**
   * A hint that sends every read of the scope to the primary of its data source, never to a read
   * replica: for reads that must see a write just made (read your writes). ShardingSphere calls
   * this {@code HintManager.setWriteRouteOnly()}.
   */
  public static RoutingHint primary() {
    return builder().primary().build();
  }

  /** A new builder. */
  public static Builder builder() {
    return new Builder();
  }

  /** The forced data source name, if any. */
  public Optional<String> dataSource() {
    return Optional.ofNullable(dataSource);
  }

  /**
   * The database-sharding values given for {@code logicalTable}, in the order given; empty when
   * none.
   */
  public List<Comparable<?>> databaseValues(String logicalTable) {
    return databaseValues.getOrDefault(logicalTable, List.of());
  }

  /**
   * The table-sharding values given for {@code logicalTable}, in the order given; empty when none.
   */
  public List<Comparable<?>> tableValues(String logicalTable) {
    return tableValues.getOrDefault(logicalTable, List.of());
  }

  /** The logical tables that have database- or table-sharding values. */
  public Set<String> tables() {
    Set<String> tables = new java.util.LinkedHashSet<>(databaseValues.keySet());
    tables.addAll(tableValues.keySet());
    return Collections.unmodifiableSet(tables);
  }

  /** Whether reads must go to the primary of their data source (no read replica). */
  public boolean primaryOnly() {
    return primary;
  }

  /** Whether the hint holds nothing. */
  public boolean isEmpty() {
    return dataSource == null && databaseValues.isEmpty() && tableValues.isEmpty() && !primary;
  }

  /** A builder starting from this hint's content. */
  public Builder toBuilder() {
    Builder builder = new Builder();
    builder.dataSource = dataSource;
    builder.primary = primary;
    databaseValues.forEach((t, v) -> builder.databaseValues.put(t, new ArrayList<>(v)));
    tableValues.forEach((t, v) -> builder.tableValues.put(t, new ArrayList<>(v)));
    return builder;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof RoutingHint other
        && Objects.equals(dataSource, other.dataSource)
        && primary == other.primary
        && databaseValues.equals(other.databaseValues)
        && tableValues.equals(other.tableValues);
  }

  @Override
  public int hashCode() {
    return Objects.hash(dataSource, databaseValues, tableValues, primary);
  }

  @Override
  public String toString() {
    return "RoutingHint[dataSource="
        + dataSource
        + ", databaseValues="
        + databaseValues
        + ", tableValues="
        + tableValues
        + (primary ? ", primary" : "")
        + "]";
  }

  /** Builds a {@link RoutingHint}; values are added to what a table already has. */
  public static final class Builder {

    private String dataSource;
    private boolean primary;
    private final Map<String, List<Comparable<?>>> databaseValues = new LinkedHashMap<>();
    private final Map<String, List<Comparable<?>>> tableValues = new LinkedHashMap<>();

    private Builder() {}

    /**
     * Forces every statement to this data source.
     *
     * @throws ConfigurationException if the name is blank
     */
    public Builder dataSource(String dataSource) {
      if (dataSource == null || dataSource.isBlank()) {
        throw new ConfigurationException(
            "routingHint.dataSource", "must be a data source name, got '" + dataSource + "'");
      }
      this.dataSource = dataSource;
      return this;
    }

    /** Sends every read of the scope to the primary of its data source (read your writes). */
    public Builder primary() {
      this.primary = true;
      return this;
    }

    /** Adds database-sharding values for {@code logicalTable}. */
    public Builder databaseValues(String logicalTable, Comparable<?>... values) {
      return databaseValues(logicalTable, java.util.Arrays.asList(values));
    }

    /** Adds database-sharding values for {@code logicalTable}. */
    public Builder databaseValues(String logicalTable, Collection<? extends Comparable<?>> values) {
      add(databaseValues, "routingHint.databaseValues", logicalTable, values);
      return this;
    }

    /** Adds table-sharding values for {@code logicalTable}. */
    public Builder tableValues(String logicalTable, Comparable<?>... values) {
      return tableValues(logicalTable, java.util.Arrays.asList(values));
    }

    /** Adds table-sharding values for {@code logicalTable}. */
    public Builder tableValues(String logicalTable, Collection<? extends Comparable<?>> values) {
      add(tableValues, "routingHint.tableValues", logicalTable, values);
      return this;
    }

    /** An immutable hint holding what was added so far. */
    public RoutingHint build() {
      return new RoutingHint(dataSource, freeze(databaseValues), freeze(tableValues), primary);
    }

    private static void add(
        Map<String, List<Comparable<?>>> target,
        String field,
        String logicalTable,
        Collection<? extends Comparable<?>> values) {
      if (logicalTable == null || logicalTable.isBlank()) {
        throw new ConfigurationException(
            field, "needs a logical table name, got '" + logicalTable + "'");
      }
      Objects.requireNonNull(values, "values");
      for (Comparable<?> value : values) {
        if (value == null) {
          throw new ConfigurationException(
              field + "." + logicalTable, "sharding values must not be null: " + values);
        }
      }
      target.computeIfAbsent(logicalTable, t -> new ArrayList<>()).addAll(values);
    }

    private static Map<String, List<Comparable<?>>> freeze(
        Map<String, List<Comparable<?>>> source) {
      Map<String, List<Comparable<?>>> copy = new LinkedHashMap<>();
      source.forEach((table, values) -> copy.put(table, List.copyOf(values)));
      return Collections.unmodifiableMap(copy);
    }
  }
}
