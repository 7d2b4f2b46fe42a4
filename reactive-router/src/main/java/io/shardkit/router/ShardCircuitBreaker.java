package io.shardkit.router;

/**
 * The circuit breaker of one data source of a {@link ShardedPool} ({@link
 * ShardedPool#circuitBreaker(String)}). It watches every statement run on the data source (through
 * the pool or on a transaction's connection) and, while open, makes new work that needs the data
 * source fail at once with {@link ShardCircuitOpenException}: routed statements, XA enlistment, TCC
 * tries. Work on other data sources is never affected. See {@link CircuitBreakerOptions} for when
 * it opens and closes.
 *
 * <p>Thread-safe; every method is non-blocking and does no I/O.
 */
public interface ShardCircuitBreaker {

  /** Breaker states. */
  enum State {
    /** Calls pass; outcomes are counted. */
    CLOSED,
    /** After the open duration: a few probe calls pass; their outcome closes or re-opens it. */
    HALF_OPEN,
    /** Calls are refused until the open duration has passed. */
    OPEN
  }

  /** The data source this breaker guards. */
  String dataSource();

  /** The current state (an open breaker whose open duration passed reports {@code HALF_OPEN}). */
  State state();

  /**
   * Fails with {@link ShardCircuitOpenException} while the breaker is open and its open duration
   * has not passed. Takes no probe slot and passes when half-open: the work's first statement on
   * the data source is then the probe. Use it to refuse work before any I/O (transactions check it
   * before enlisting a data source).
   */
  void checkAvailable();
}
