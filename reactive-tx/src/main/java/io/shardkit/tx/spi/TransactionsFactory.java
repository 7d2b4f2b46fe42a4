package io.shardkit.tx.spi;

import io.shardkit.router.ShardedPool;
import io.shardkit.tx.Transactions;
import io.shardkit.tx.TransactionsOptions;
import io.vertx.core.Vertx;

/**
 * How {@link Transactions#create} finds its implementation (through {@link
 * java.util.ServiceLoader}, so the API never imports the implementation). Provided by this module;
 * not meant to be implemented by applications.
 */
public interface TransactionsFactory {

  Transactions create(Vertx vertx, ShardedPool pool, TransactionsOptions options);
}
