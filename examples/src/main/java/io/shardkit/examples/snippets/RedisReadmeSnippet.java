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
import io.vertx.redis.client.RedisOptions;
import java.util.List;

/** reactive-tx/README.md, "Redis as a participant": its block, compiled (ReadmeSnippetsTest). */
final class RedisReadmeSnippet {

  /** A stock reservation: the Redis step's argument. */
  record Reserve(String sku, long quantity) {}

  Vertx vertx;
  Transactions transactions;
  TransactionOptions options;

  TccCodec<Reserve> CODEC;

  Reserve r;
  SagaStep<ReadmeSnippets.Move, Void> placeOrder;
  ReadmeSnippets.Move o;

  void readme() {
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
    transactions.tcc(
        options,
        tx -> tx.enlist(reserve.tccAction(), r)); // confirm: .confirm(lua), default nothing
  }
}
