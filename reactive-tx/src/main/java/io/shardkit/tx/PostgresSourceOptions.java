package io.shardkit.tx;

import io.shardkit.context.ConfigurationException;
import io.shardkit.router.CircuitBreakerOptions;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.PoolOptions;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;

/**
 * A named PostgreSQL data source that global XA transactions may enlist next to the pool's MySQL
 * shards ({@link TransactionsOptions.Builder#postgres}). It is a single, unsharded participant: the
 * work reaches it by name ({@link Transactions#postgres(String)}) and runs its own SQL on it; the
 * router does not route or rewrite statements for it.
 *
 * <p>The server must allow prepared transactions: {@code max_prepared_transactions} at least the
 * number of transactions that may be prepared at once (PostgreSQL's default, 0, is refused by
 * {@link Transactions#warmUp()} and at the first enlistment, naming the setting and the source).
 */
public final class PostgresSourceOptions {

  private static final Set<String> ISOLATION_LEVELS =
      Set.of("READ COMMITTED", "REPEATABLE READ", "SERIALIZABLE");

  private final PgConnectOptions connectOptions;
  private PoolOptions poolOptions = new PoolOptions().setMaxSize(8);
  private String isolationLevel;
  private CircuitBreakerOptions circuitBreaker = CircuitBreakerOptions.defaults();

  public PostgresSourceOptions(PgConnectOptions connectOptions) {
    this.connectOptions = new PgConnectOptions(Objects.requireNonNull(connectOptions, "connect"));
  }

  /** The pool of this source's connections (default: max size 8). */
  public PostgresSourceOptions poolOptions(PoolOptions poolOptions) {
    this.poolOptions = new PoolOptions(Objects.requireNonNull(poolOptions, "poolOptions"));
    return this;
  }

  /**
   * The isolation level of this source's branches: {@code READ COMMITTED}, {@code REPEATABLE READ}
   * or {@code SERIALIZABLE}; null (the default) keeps the server's default.
   */
  public PostgresSourceOptions isolationLevel(String level) {
    if (level != null && !ISOLATION_LEVELS.contains(level.toUpperCase(Locale.ROOT))) {
      throw new ConfigurationException(
          "isolationLevel", "must be one of " + ISOLATION_LEVELS + ", got '" + level + "'");
    }
    this.isolationLevel = level == null ? null : level.toUpperCase(Locale.ROOT);
    return this;
  }

  /** When this source's circuit breaker opens (default: {@link CircuitBreakerOptions#defaults}). */
  public PostgresSourceOptions circuitBreaker(CircuitBreakerOptions options) {
    this.circuitBreaker = Objects.requireNonNull(options, "circuitBreaker");
    return this;
  }

  public PgConnectOptions connectOptions() {
    return new PgConnectOptions(connectOptions);
  }

  public PoolOptions poolOptions() {
    return new PoolOptions(poolOptions);
  }

  public String isolationLevel() {
    return isolationLevel;
  }

  public CircuitBreakerOptions circuitBreaker() {
    return circuitBreaker;
  }

  @Override
  public String toString() {
    return "postgresql://"
        + connectOptions.getHost()
        + ":"
        + connectOptions.getPort()
        + "/"
        + connectOptions.getDatabase();
  }
}
