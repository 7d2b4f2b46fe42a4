package io.shardkit.tx.redis;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.shardkit.context.ConfigurationException;
import io.shardkit.context.TxContext;
import io.shardkit.context.TxScope;
import io.shardkit.router.ShardCircuitBreaker;
import io.shardkit.tx.impl.SourceBreaker;
import io.shardkit.tx.impl.SourceMeters;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisOptions;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The Redis servers an application's transactions use, each under a name (like the SQL data sources
 * of a {@code ShardedPool}): the Vert.x Redis client of each, its circuit breaker, its meters and
 * its spans. Built once at start-up; {@link #close()} closes the clients it created.
 *
 * <pre>{@code
 * RedisSources redis = RedisSources.builder(vertx, RedisTxOptions.defaults())
 *     .source("stock", new RedisOptions().setConnectionString("redis://10.0.0.5:6379"))
 *     .build();
 * }</pre>
 *
 * <p>Every command a participant or a side effect sends goes through here: it is refused at once
 * while the source's breaker is open ({@code ShardCircuitOpenException} naming the source), bounded
 * by {@link RedisTxOptions#commandTimeout()} and the transaction's remaining time, timed on {@code
 * shardkit.router.shard.statements} (tags {@code shard} = the source name, {@code kind}, {@code
 * outcome}: the SQL data sources' meter), and traced as a client span ({@code db.system=redis},
 * {@code db.namespace} = the database index, {@code server.address}, {@code server.port}) under the
 * transaction's span (the scope's trace), else the current span.
 */
public final class RedisSources {

  static final AttributeKey<String> DB_SYSTEM = AttributeKey.stringKey("db.system");
  static final AttributeKey<String> DB_SYSTEM_NAME = AttributeKey.stringKey("db.system.name");
  static final AttributeKey<String> DB_NAMESPACE = AttributeKey.stringKey("db.namespace");
  static final AttributeKey<String> DB_OPERATION = AttributeKey.stringKey("db.operation.name");
  static final AttributeKey<String> DB_SUMMARY = AttributeKey.stringKey("db.query.summary");
  static final AttributeKey<String> SERVER_ADDRESS = AttributeKey.stringKey("server.address");
  static final AttributeKey<Long> SERVER_PORT = AttributeKey.longKey("server.port");
  static final AttributeKey<String> SHARD = AttributeKey.stringKey("shardkit.shard");
  static final AttributeKey<String> ERROR_TYPE = AttributeKey.stringKey("error.type");

  /** One named Redis server. */
  static final class Source {
    final String name;
    final Redis client;
    final boolean owned;
    final String host;
    final int port;
    final String database;
    final SourceBreaker breaker;

    Source(
        String name,
        Redis client,
        boolean owned,
        String host,
        int port,
        String database,
        SourceBreaker breaker) {
      this.name = name;
      this.client = client;
      this.owned = owned;
      this.host = host;
      this.port = port;
      this.database = database;
      this.breaker = breaker;
    }
  }

  private final Vertx vertx;
  private final RedisTxOptions options;
  private final Map<String, Source> sources;
  private final Tracer tracer;
  private final MeterRegistry registry;
  private final SourceMeters meters;
  private final Map<String, Counter> counters = new ConcurrentHashMap<>();

  private RedisSources(Builder builder) {
    this.vertx = builder.vertx;
    this.options = builder.options;
    this.tracer = options.openTelemetry().getTracer("io.shardkit.tx.redis");
    this.registry = options.meterRegistry();
    this.meters = new SourceMeters(registry);
    Map<String, Source> all = new LinkedHashMap<>();
    builder.clients.forEach(
        (name, spec) -> {
          SourceBreaker breaker =
              new SourceBreaker(
                  name,
                  "redis",
                  options.circuitBreaker(),
                  meters::transition,
                  () -> meters.rejected(name));
          all.put(
              name,
              new Source(
                  name, spec.client, spec.owned, spec.host, spec.port, spec.database, breaker));
        });
    this.sources = Map.copyOf(all);
  }

  /** Starts the set of sources. */
  public static Builder builder(Vertx vertx, RedisTxOptions options) {
    return new Builder(vertx, options);
  }

  /** The options. */
  public RedisTxOptions options() {
    return options;
  }

  /** The source names. */
  public Set<String> names() {
    return sources.keySet();
  }

  /**
   * The client of a source (for the application's own reads, e.g. a read-through cache).
   *
   * @throws RedisStepConfigurationException naming the unknown source and the known ones
   */
  public Redis client(String source) {
    return source(null, source).client;
  }

  /** The circuit breaker of a source. */
  public ShardCircuitBreaker circuitBreaker(String source) {
    return source(null, source).breaker;
  }

  Source source(String step, String name) {
    Source source = name == null ? null : sources.get(name);
    if (source == null) {
      throw new RedisStepConfigurationException(
          step,
          name,
          (step == null ? "" : "redis step " + step + ": ")
              + "unknown Redis source '"
              + name
              + "' (known: "
              + new ArrayList<>(sources.keySet())
              + ")");
    }
    return source;
  }

  /**
   * Sends one command to a source: breaker, timeout, meter and span around it.
   *
   * @param kind the meter's {@code kind} tag and part of the span name (e.g. {@code try})
   * @param summary what the span is named after (a step or effect name)
   */
  Future<Response> send(Source source, Request request, String kind, String summary) {
    try {
      source.breaker.acquire();
    } catch (RuntimeException refused) {
      return Future.failedFuture(refused);
    }
    long start = System.nanoTime();
    String operation = request.command().toString().toUpperCase(Locale.ROOT);
    Span span = span(source, operation, operation + " " + summary + " " + kind);
    long timeout = options.commandTimeout().toNanos();
    Optional<TxContext> tx = TxScope.current();
    if (tx.isPresent()) {
      timeout = Math.min(timeout, Math.max(1_000_000L, tx.get().deadline().remainingNanos()));
    }
    long bound = timeout;
    Future<Response> sent;
    try {
      sent =
          source
              .client
              .send(request)
              .timeout(bound, TimeUnit.NANOSECONDS)
              .recover(
                  failure ->
                      Future.failedFuture(
                          isUnavailableReply(failure)
                              ? new RedisUnavailableException(
                                  source.name,
                                  "redis source "
                                      + source.name
                                      + " is unavailable ("
                                      + operation
                                      + " for "
                                      + summary
                                      + " "
                                      + kind
                                      + "): "
                                      + failure.getMessage())
                              : failure instanceof java.util.concurrent.TimeoutException
                                  ? new RedisTimeoutException(
                                      source.name,
                                      "redis source "
                                          + source.name
                                          + ": "
                                          + operation
                                          + " ("
                                          + summary
                                          + " "
                                          + kind
                                          + ") got no answer within "
                                          + Duration.ofNanos(bound).toMillis()
                                          + " ms (it may still run: fenced phases and idempotent"
                                          + " effects are safe to retry)")
                                  : failure));
    } catch (RuntimeException e) {
      sent = Future.failedFuture(e);
    }
    return sent.andThen(
        ar -> {
          // an error reply is an answer: the server is healthy
          Throwable health = ar.succeeded() || isErrorReply(ar.cause()) ? null : ar.cause();
          source.breaker.release(health);
          String outcome = ar.succeeded() ? "ok" : health == null ? "error_reply" : "failed";
          meters
              .statements(source.name, kind, outcome)
              .record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
          if (span.isRecording()) {
            if (ar.failed()) {
              span.recordException(ar.cause());
              span.setAttribute(ERROR_TYPE, ar.cause().getClass().getName());
              span.setStatus(StatusCode.ERROR);
            }
            span.end();
          }
        });
  }

  /** Whether a failure is an error reply of the server (not a transport failure). */
  static boolean isErrorReply(Throwable failure) {
    return failure instanceof Response;
  }

  private static final List<String> UNAVAILABLE =
      List.of(
          "LOADING",
          "BUSY",
          "MASTERDOWN",
          "READONLY",
          "TRYAGAIN",
          "CLUSTERDOWN",
          "MISCONF",
          "CONNECTION_CLOSED"); // the client's own, for requests in flight on a lost connection

  /**
   * An error reply that says the server cannot serve now (nothing ran), or the client's for a
   * request whose connection was lost (it may have run): counted as unhealthy, retried.
   */
  static boolean isUnavailableReply(Throwable failure) {
    if (!isErrorReply(failure)) {
      return false;
    }
    String message = String.valueOf(failure.getMessage());
    for (String code : UNAVAILABLE) {
      if (message.startsWith(code)) {
        return true;
      }
    }
    return false;
  }

  /** A fenced script or effect ran: the outcome counter of the transaction meters' shape. */
  void count(String name, String source, String kind, String outcome) {
    counters
        .computeIfAbsent(
            name + '|' + source + '|' + kind + '|' + outcome,
            k ->
                Counter.builder(name)
                    .description("Redis phases and side effects, by outcome")
                    .tag("shard", source)
                    .tag("kind", kind)
                    .tag("outcome", outcome)
                    .register(registry))
        .increment();
  }

  private Span span(Source source, String operation, String summary) {
    // the transaction's trace first (its span parents the work of its scope), else the current one
    Optional<TxContext> tx = TxScope.current();
    Context parent = Context.current();
    if (tx.isPresent() && Span.fromContext(tx.get().traceContext()).getSpanContext().isValid()) {
      parent = tx.get().traceContext();
    }
    Span span =
        tracer.spanBuilder(summary).setParent(parent).setSpanKind(SpanKind.CLIENT).startSpan();
    if (!span.isRecording()) {
      return span;
    }
    span.setAttribute(DB_SYSTEM, "redis")
        .setAttribute(DB_SYSTEM_NAME, "redis")
        .setAttribute(DB_NAMESPACE, source.database)
        .setAttribute(DB_OPERATION, operation)
        .setAttribute(DB_SUMMARY, summary)
        .setAttribute(SHARD, source.name)
        .setAttribute(SERVER_ADDRESS, source.host)
        .setAttribute(SERVER_PORT, (long) source.port);
    tx.ifPresent(
        t -> {
          span.setAttribute(TxContext.GLOBAL_ID_ATTRIBUTE, t.globalId());
          t.branchId().ifPresent(b -> span.setAttribute(TxContext.BRANCH_ID_ATTRIBUTE, b));
        });
    return span;
  }

  Vertx vertx() {
    return vertx;
  }

  /**
   * Closes the clients this set created (not the ones handed to {@link Builder#source(String,
   * Redis, String)}).
   */
  public Future<Void> close() {
    List<Future<Void>> all = new ArrayList<>();
    for (Source s : sources.values()) {
      if (s.owned) {
        all.add(s.client.close());
      }
    }
    return Future.join(all).mapEmpty();
  }

  /** Builds {@link RedisSources}. */
  public static final class Builder {
    private record Spec(Redis client, boolean owned, String host, int port, String database) {}

    private final Vertx vertx;
    private final RedisTxOptions options;
    private final Map<String, Spec> clients = new LinkedHashMap<>();

    private Builder(Vertx vertx, RedisTxOptions options) {
      this.vertx = java.util.Objects.requireNonNull(vertx, "vertx");
      this.options = java.util.Objects.requireNonNull(options, "options");
    }

    /**
     * A source whose client this set creates (and closes) from {@code clientOptions}: a standalone
     * server, e.g. {@code new RedisOptions().setConnectionString("redis://host:6379/0")}.
     */
    public Builder source(String name, RedisOptions clientOptions) {
      String endpoint = clientOptions.getEndpoint();
      return add(name, Redis.createClient(vertx, clientOptions), true, endpoint);
    }

    /**
     * A source on a client the application owns; {@code endpoint} ({@code redis://host:port/db})
     * only names the server in spans.
     */
    public Builder source(String name, Redis client, String endpoint) {
      return add(name, java.util.Objects.requireNonNull(client, "client"), false, endpoint);
    }

    private Builder add(String name, Redis client, boolean owned, String endpoint) {
      if (name == null || !name.matches("[A-Za-z0-9._-]{1,64}")) {
        throw new ConfigurationException(
            "redis.sources", "a source name is 1 to 64 characters of [A-Za-z0-9._-], got " + name);
      }
      if (clients.containsKey(name)) {
        throw new ConfigurationException("redis.sources." + name, "already defined");
      }
      String host = "localhost";
      int port = 6379;
      String database = "0";
      if (endpoint != null) {
        try {
          URI uri = URI.create(endpoint);
          host = uri.getHost() == null ? host : uri.getHost();
          port = uri.getPort() < 0 ? port : uri.getPort();
          String path = uri.getPath();
          if (path != null && path.length() > 1) {
            database = path.substring(1);
          }
        } catch (IllegalArgumentException e) {
          throw new ConfigurationException(
              "redis.sources." + name, "not a redis:// endpoint: " + endpoint, e);
        }
      }
      clients.put(name, new Spec(client, owned, host, port, database));
      return this;
    }

    public RedisSources build() {
      if (clients.isEmpty()) {
        throw new ConfigurationException("redis.sources", "define at least one source");
      }
      return new RedisSources(this);
    }
  }

  static Request eval(Command command, String scriptOrSha, List<String> keys, List<String> args) {
    Request request = Request.cmd(command).arg(scriptOrSha).arg(keys.size());
    for (String key : keys) {
      request.arg(key);
    }
    for (String arg : args) {
      request.arg(arg);
    }
    return request;
  }
}
