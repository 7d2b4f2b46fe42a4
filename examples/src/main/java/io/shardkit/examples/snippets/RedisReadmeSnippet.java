package io.shardkit.examples.snippets;

import io.shardkit.tx.SagaStep;
import io.shardkit.tx.TccCodec;
import io.shardkit.tx.TransactionOptions;
import io.shardkit.tx.Transactions;
import io.shardkit.tx.redis.RedisParticipant;
import io.shardkit.tx.redis.RedisSources;
import io.shardkit.tx.redis.RedisStep;
import io.shardkit.tx.redis.RedisTxOptions;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.RedisOptions;
import java.util.List;

/**
 * reactive-tx/README.md, "Redis as a participant": its first block, compiled (see {@code
 * ReadmeSnippetsTest}). A class of its own because the block's lambdas name their parameter {@code
 * r}, as the reservation it runs with is named: that one is a field here.
 */
final class RedisReadmeSnippet {

  /** A reservation of {@code quantity} units of {@code sku}. */
  record Reserve(String sku, long quantity) {}

  /** An order, the argument of the saga's other step. */
  record Order(long id, String sku, long quantity) {}

  static final TccCodec<Reserve> CODEC =
      TccCodec.of(
          r -> new JsonObject().put("sku", r.sku()).put("quantity", r.quantity()),
          json -> new Reserve(json.getString("sku"), json.getLong("quantity")));

  private final Transactions transactions;
  private final TransactionOptions options;
  private final SagaStep<Order, Void> placeOrder;
  private final Reserve r;
  private final Order o;

  RedisReadmeSnippet(
      Transactions transactions,
      TransactionOptions options,
      SagaStep<Order, Void> placeOrder,
      Reserve r,
      Order o) {
    this.transactions = transactions;
    this.options = options;
    this.placeOrder = placeOrder;
    this.r = r;
    this.o = o;
  }

  void redisReadme(Vertx vertx) {
    RedisSources redis =
        RedisSources.builder(vertx, RedisTxOptions.defaults())
            .source("stock", new RedisOptions().setConnectionString("redis://10.0.0.5:6379/0"))
            .build();
    RedisStep<Reserve> reserve =
        RedisStep.builder("stock.reserve", CODEC)
            .source("stock")
            .keys(r -> List.of("stock:" + r.sku()))
            .args(r -> List.of(Long.toString(r.quantity())))
            .action(
                "local left = tonumber(redis.call('GET', KEYS[1]) or '0')\n"
                    + "if left < tonumber(ARGV[1]) then return redis.error_reply('out of stock') end\n"
                    + "redis.call('DECRBY', KEYS[1], ARGV[1])")
            .compensation("redis.call('INCRBY', KEYS[1], ARGV[1])")
            .build();
    RedisParticipant.create(redis).register(reserve).installOn(transactions);
    transactions.saga(
        options, saga -> saga.step(reserve.sagaStep(), r).compose(v -> saga.step(placeOrder, o)));
    transactions.tcc(options, tx -> tx.enlist(reserve.tccAction(), r));
  }
}
