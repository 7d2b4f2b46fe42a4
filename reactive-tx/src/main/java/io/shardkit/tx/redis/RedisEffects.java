package io.shardkit.tx.redis;

import io.shardkit.tx.outbox.Outbox;
import io.shardkit.tx.outbox.OutboxMessage;
import io.shardkit.tx.outbox.spi.OutboxSink;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.SqlClient;
import java.util.ArrayList;
import java.util.List;

/**
 * Redis side effects that are never lost: recorded in the transaction's own outbox (same local or
 * XA transaction, or a TCC phase's / saga step's connection), so they exist exactly when it
 * commits, and run by an {@link io.shardkit.tx.outbox.OutboxRelay} with {@link #sink} after the
 * commit, retried while Redis is down or slow until it answers.
 *
 * <pre>{@code
 * RedisEffects effects = RedisEffects.create(outbox);
 * pool.withTransaction(conn -> debit(conn, id, amount)
 *     .compose(version -> effects.afterCommit(conn, id, evict("cache", "balance:" + id, version))));
 * outbox.relay(effects.sink(redisSources)).start();
 * }</pre>
 *
 * <p>Once every effect has run, no cache entry contradicts the committed data: deletions and the
 * versioned evictions and refreshes are idempotent and ordered per aggregate key by the relay;
 * notifications are delivered at least once.
 */
public final class RedisEffects {

  /** The outbox destination prefix of Redis effects: {@code redis:<source>}. */
  public static final String DESTINATION_PREFIX = "redis:";

  private final Outbox outbox;
  private final RedisSources sources;

  private RedisEffects(Outbox outbox, RedisSources sources) {
    this.outbox = outbox;
    this.sources = sources;
  }

  /** Effects recorded in {@code outbox}; source names are checked by the sink only. */
  public static RedisEffects create(Outbox outbox) {
    return new RedisEffects(java.util.Objects.requireNonNull(outbox, "outbox"), null);
  }

  /**
   * Effects recorded in {@code outbox}, their source names checked against {@code sources} when
   * recorded: an unknown one fails {@link #afterCommit} (and so the transaction, unless the caller
   * recovers) with a {@link RedisStepConfigurationException} instead of leaving a message no sink
   * can run.
   */
  public static RedisEffects create(Outbox outbox, RedisSources sources) {
    return new RedisEffects(
        java.util.Objects.requireNonNull(outbox, "outbox"),
        java.util.Objects.requireNonNull(sources, "sources"));
  }

  /**
   * Records {@code effects} in the transaction of {@code tx}, to run after it commits: one outbox
   * row (on the shard of {@code aggregateKey}) carrying them all, run in order.
   *
   * @param tx the transaction's connection (never a pool: the effect would not be tied to it)
   * @param aggregateKey the outbox's aggregate key (e.g. the row's id), which places the row and
   *     orders the effects of one aggregate
   * @return the outbox message id
   */
  public Future<String> afterCommit(SqlClient tx, Object aggregateKey, RedisEffect... effects) {
    if (effects.length == 0) {
      return Future.failedFuture(new IllegalArgumentException("no effect given"));
    }
    String source = effects[0].source();
    JsonArray all = new JsonArray();
    for (RedisEffect effect : effects) {
      if (!effect.source().equals(source)) {
        return Future.failedFuture(
            new RedisStepConfigurationException(
                null,
                effect.source(),
                "effects recorded together run on one Redis source; got "
                    + source
                    + " and "
                    + effect.source()));
      }
      if (sources != null) {
        try {
          sources.source(null, effect.source());
        } catch (RuntimeException unknown) {
          return Future.failedFuture(unknown);
        }
      }
      all.add(effect.toJson());
    }
    return outbox.add(
        tx,
        OutboxMessage.json(
            DESTINATION_PREFIX + source, aggregateKey, new JsonObject().put("effects", all)));
  }

  /**
   * Records {@code effects} in the local transaction of a TCC phase or saga step (its routed {@code
   * client()}; the aggregate key must route to the phase's own shard). In a TCC confirm the effects
   * run exactly when the transaction committed; in a saga action they run once the step committed,
   * also if the saga is compensated later (so record idempotent, versioned effects, and the
   * compensation's own).
   */
  public Future<String> afterCommit(
      io.shardkit.tx.TccPhaseContext phase, Object aggregateKey, RedisEffect... effects) {
    return afterCommit(phase.client(), aggregateKey, effects);
  }

  /** A sink running the Redis effects; any other message fails (it stays in the outbox). */
  public OutboxSink sink(RedisSources sources) {
    return sink(sources, null);
  }

  /**
   * A sink running the Redis effects and handing every other message to {@code others} (one relay
   * serves one outbox: this lets Redis effects share it with other destinations).
   */
  public OutboxSink sink(RedisSources sources, OutboxSink others) {
    return new EffectSink(sources, others);
  }

  /** Runs Redis effects. */
  static final class EffectSink implements OutboxSink {
    private final RedisSources sources;
    private final OutboxSink others;

    EffectSink(RedisSources sources, OutboxSink others) {
      this.sources = sources;
      this.others = others;
    }

    @Override
    public Future<Void> publish(OutboxMessage message) {
      if (!message.destination().startsWith(DESTINATION_PREFIX)) {
        if (others != null) {
          return others.publish(message);
        }
        return Future.failedFuture(
            new IllegalStateException(
                "outbox message "
                    + message.id()
                    + " for "
                    + message.destination()
                    + " is not a Redis effect and this sink has no other sink"));
      }
      List<RedisEffect> effects = new ArrayList<>();
      try {
        message
            .payloadAsJson()
            .getJsonArray("effects")
            .forEach(e -> effects.add(RedisEffect.fromJson((JsonObject) e)));
      } catch (RuntimeException e) {
        return Future.failedFuture(e);
      }
      Future<Void> chain = Future.succeededFuture();
      for (RedisEffect effect : effects) {
        chain = chain.compose(v -> run(effect, message));
      }
      return chain;
    }

    private Future<Void> run(RedisEffect effect, OutboxMessage message) {
      RedisSources.Source source;
      try {
        source = sources.source(null, effect.source());
      } catch (RuntimeException e) {
        return Future.failedFuture(e);
      }
      String kind = "effect";
      String summary = effect.kind().name().toLowerCase(java.util.Locale.ROOT);
      Future<?> ran =
          switch (effect.kind()) {
            case DELETE -> {
              io.vertx.redis.client.Request del =
                  io.vertx.redis.client.Request.cmd(io.vertx.redis.client.Command.DEL);
              effect.keys().forEach(del::arg);
              yield sources.send(source, del, kind, summary);
            }
            case EVICT_VERSION ->
                VersionedCache.script(
                    sources,
                    source,
                    VersionedCache.EVICT_SHA,
                    VersionedCache.EVICT,
                    effect.keys(),
                    effect.args(),
                    kind,
                    summary);
            case REFRESH ->
                VersionedCache.script(
                    sources,
                    source,
                    VersionedCache.PUT_SHA,
                    VersionedCache.PUT,
                    effect.keys(),
                    List.of(effect.args().get(0), effect.args().get(1), "0"),
                    kind,
                    summary);
            case PUBLISH ->
                sources.send(
                    source,
                    io.vertx.redis.client.Request.cmd(io.vertx.redis.client.Command.PUBLISH)
                        .arg(effect.keys().get(0))
                        .arg(effect.args().get(0)),
                    kind,
                    summary);
          };
      return ran.transform(
          ar -> {
            sources.count(
                "shardkit.redis.effects",
                effect.source(),
                summary,
                ar.succeeded() ? "done" : "failed");
            return ar.succeeded()
                ? Future.<Void>succeededFuture()
                : Future.failedFuture(ar.cause());
          });
    }

    @Override
    public String name() {
      return "redis";
    }
  }
}
