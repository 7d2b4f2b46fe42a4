package io.shardkit.router.impl.execute;

import io.vertx.core.internal.VertxBootstrap;
import io.vertx.core.spi.VertxServiceProvider;
import io.vertx.core.spi.context.storage.ContextLocal;

/**
 * Holds the connection of the transaction a {@code withTransaction(CONTEXT, ...)} call started, on
 * its duplicated context, so that a nested call on that context joins it.
 *
 * <p>Why a service provider: a {@code ContextLocal} must be registered before a {@code Vertx} is
 * built; Vert.x loads every {@link VertxServiceProvider} (listed in {@code META-INF/services})
 * while bootstrapping, so loading this class registers the key in time. The public constructor is
 * for {@link java.util.ServiceLoader} only.
 */
public final class TransactionLocal implements VertxServiceProvider {

  static final ContextLocal<RoutedConnection> CONNECTION =
      ContextLocal.registerLocal(RoutedConnection.class);

  /** For {@link java.util.ServiceLoader} only. */
  public TransactionLocal() {}

  @Override
  public void init(VertxBootstrap bootstrap) {
    // Nothing to configure: loading this class registered CONNECTION.
  }
}
