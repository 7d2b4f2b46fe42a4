package io.shardkit.router.spi;

import io.vertx.core.Future;
import io.vertx.sqlclient.SqlClient;

/**
 * Gives the client a routed statement runs on for a data source: the transaction module hands out
 * the connection it pinned (and ran {@code XA START} on) for that data source. The router asks once
 * per route unit; several units on one data source ask for the same data source several times and
 * their statements then run one after the other on what is returned.
 *
 * <p>The router never closes what it gets: the provider owns it.
 */
@FunctionalInterface
public interface ShardConnectionProvider {

  /** The client for a data source; a failed future fails the statement before it runs there. */
  Future<SqlClient> clientFor(String dataSource);
}
