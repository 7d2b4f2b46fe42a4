package io.shardkit.tx.redis;

import io.shardkit.testkit.TestRedis;
import io.shardkit.tx.TccCodec;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.RedisOptions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** Vert.x with a blocked-loop check, blocking waits for the test thread, the stock step. */
final class RedisTestSupport {

  private RedisTestSupport() {}

  /** A reservation of {@code quantity} units of {@code sku}. */
  record Reserve(String sku, long quantity) {
    JsonObject toJson() {
      return new JsonObject().put("sku", sku).put("quantity", quantity);
    }

    static Reserve fromJson(JsonObject json) {
      return new Reserve(json.getString("sku"), json.getLong("quantity"));
    }
  }

  static final TccCodec<Reserve> CODEC = TccCodec.of(Reserve::toJson, Reserve::fromJson);

  /** Takes stock only when enough is left (never below zero); records reserved units. */
  static final String RESERVE =
      String.join(
          "\n",
          "local left = tonumber(redis.call('GET', KEYS[1]) or '0')",
          "local want = tonumber(ARGV[1])",
          "if left < want then return redis.error_reply('out of stock: ' .. left .. ' left') end",
          "redis.call('DECRBY', KEYS[1], want)",
          "redis.call('INCRBY', KEYS[2], want)");

  /** Gives the reserved units back. */
  static final String RELEASE =
      String.join(
          "\n", "redis.call('INCRBY', KEYS[1], ARGV[1])", "redis.call('DECRBY', KEYS[2], ARGV[1])");

  static RedisStep<Reserve> stockStep(String name, String source) {
    return RedisStep.builder(name, CODEC)
        .source(source)
        .keys(r -> List.of("stock:" + r.sku(), "reserved:" + r.sku()))
        .args(r -> List.of(Long.toString(r.quantity())))
        .action(RESERVE)
        .compensation(RELEASE)
        .build();
  }

  static Vertx vertx() {
    return Vertx.vertx(
        new VertxOptions()
            .setBlockedThreadCheckInterval(200)
            .setMaxEventLoopExecuteTime(200)
            .setMaxEventLoopExecuteTimeUnit(TimeUnit.MILLISECONDS)
            .setWarningExceptionTime(500)
            .setWarningExceptionTimeUnit(TimeUnit.MILLISECONDS));
  }

  static RedisOptions clientOptions(TestRedis redis) {
    return new RedisOptions()
        .setConnectionString(redis.uri())
        .setMaxPoolSize(8)
        .setMaxPoolWaiting(256)
        .setMaxWaitingHandlers(512);
  }

  static <T> T await(Future<T> future) throws Exception {
    try {
      return future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw new AssertionError("expected success, got " + e.getCause(), e.getCause());
    } catch (TimeoutException e) {
      throw new AssertionError("future did not complete within 30 s", e);
    }
  }

  static <T> T await(Future<T> future, Duration timeout) throws Exception {
    try {
      return future
          .toCompletionStage()
          .toCompletableFuture()
          .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      throw new AssertionError("expected success, got " + e.getCause(), e.getCause());
    }
  }

  static Throwable awaitFailure(Future<?> future) throws Exception {
    try {
      Object value = future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
      throw new AssertionError("expected a failure, got " + value);
    } catch (ExecutionException e) {
      return e.getCause();
    } catch (TimeoutException e) {
      throw new AssertionError("future did not complete within 30 s", e);
    }
  }

  static void close(Vertx vertx) throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
  }

  static long number(TestRedis redis, String key) {
    String value = redis.command("GET", key);
    return value == null ? 0 : Long.parseLong(value);
  }

  static boolean eventually(Duration timeout, java.util.function.BooleanSupplier condition)
      throws InterruptedException {
    long end = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < end) {
      if (condition.getAsBoolean()) {
        return true;
      }
      Thread.sleep(50);
    }
    return condition.getAsBoolean();
  }
}
