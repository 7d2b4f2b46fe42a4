package io.shardkit.tx.outbox.spi;

import io.shardkit.tx.outbox.OutboxMessage;
import io.vertx.core.Future;

/**
 * Where the relay publishes outbox messages: the Vert.x event bus ({@code EventBusSink}) and Kafka
 * ({@code KafkaSink}) are built in; implement this for another broker.
 *
 * <p>{@link #publish} succeeds once the message is safely handed over (the broker acknowledged it,
 * the consumer replied); only then does the relay mark the row published. It must not block the
 * calling event loop. The relay calls it for one aggregate key at a time (the next message of a key
 * only after the previous one succeeded), at most {@code maxInFlight} calls at once per data
 * source, each bounded by {@code publishTimeout}: a slow sink slows the relay down (back-pressure),
 * it never piles messages up in memory. A failure leaves the message (and the later ones of its
 * key) unpublished; they are published again on a later poll.
 */
public interface OutboxSink {

  /** Publishes one message; succeeds when it is acknowledged. */
  Future<Void> publish(OutboxMessage message);

  /** A short name for logs and metrics. */
  default String name() {
    return getClass().getSimpleName();
  }

  /** Releases what the sink holds (a producer). */
  default Future<Void> close() {
    return Future.succeededFuture();
  }
}
