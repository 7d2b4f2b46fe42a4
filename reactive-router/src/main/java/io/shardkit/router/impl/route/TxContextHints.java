package io.shardkit.router.impl.route;

import io.shardkit.context.TxContext;
import io.shardkit.context.TxScope;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Reads the routing hint of the statement's transaction context ({@code TxScope.current()}, a
 * Vert.x {@code ContextLocal} on the caller's duplicated context; never a ThreadLocal) and turns it
 * into the router's form (lower-case table names).
 */
public final class TxContextHints implements HintSource {

  /** The one instance. */
  public static final TxContextHints INSTANCE = new TxContextHints();

  private TxContextHints() {}

  @Override
  public RoutingHint current() {
    Optional<TxContext> context = TxScope.current();
    if (context.isEmpty()) {
      return RoutingHint.NONE;
    }
    Optional<io.shardkit.context.RoutingHint> hint = context.get().routingHint();
    if (hint.isEmpty() || hint.get().isEmpty()) {
      return RoutingHint.NONE;
    }
    io.shardkit.context.RoutingHint h = hint.get();
    Map<String, List<Object>> databaseValues = new HashMap<>();
    Map<String, List<Object>> tableValues = new HashMap<>();
    for (String table : h.tables()) {
      String key = table.toLowerCase(Locale.ROOT);
      if (!h.databaseValues(table).isEmpty()) {
        databaseValues.put(key, new ArrayList<>(h.databaseValues(table)));
      }
      if (!h.tableValues(table).isEmpty()) {
        tableValues.put(key, new ArrayList<>(h.tableValues(table)));
      }
    }
    return new RoutingHint(
        h.dataSource().orElse(null), Map.copyOf(databaseValues), Map.copyOf(tableValues));
  }

  /**
   * Whether the scope's routing hint sends reads to the primary ({@code RoutingHint.primary()}):
   * read your writes when the data source has read replicas.
   */
  public static boolean primaryOnly() {
    Optional<TxContext> context = TxScope.current();
    return context.isPresent()
        && context
            .get()
            .routingHint()
            .map(io.shardkit.context.RoutingHint::primaryOnly)
            .orElse(false);
  }
}
