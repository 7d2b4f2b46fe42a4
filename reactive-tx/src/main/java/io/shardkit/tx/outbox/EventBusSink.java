package io.shardkit.tx.outbox;

import io.shardkit.tx.outbox.spi.OutboxSink;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Publishes outbox messages on the Vert.x event bus: the destination is the address, the payload a
 * {@link Buffer}, the headers message headers. The message is sent as a request: it counts as
 * published when the consumer replies (any reply; a failure reply or no consumer is a failed
 * publication, retried on a later poll). Consumers turn what they receive back into an {@link
 * OutboxMessage} with {@link #message(Message)} and apply it through an {@link Inbox}.
 */
public final class EventBusSink implements OutboxSink {

  private final Vertx vertx;
  private final Duration replyTimeout;

  private EventBusSink(Vertx vertx, Duration replyTimeout) {
    this.vertx = vertx;
    this.replyTimeout = replyTimeout;
  }

  /** A sink on {@code vertx}'s event bus waiting at most {@code replyTimeout} for a reply. */
  public static EventBusSink create(Vertx vertx, Duration replyTimeout) {
    return new EventBusSink(vertx, replyTimeout);
  }

  /** A sink on {@code vertx}'s event bus waiting at most 2 s for a reply. */
  public static EventBusSink create(Vertx vertx) {
    return create(vertx, Duration.ofSeconds(2));
  }

  @Override
  public Future<Void> publish(OutboxMessage message) {
    DeliveryOptions delivery = new DeliveryOptions().setSendTimeout(replyTimeout.toMillis());
    message.headers().forEach(delivery::addHeader);
    return vertx.eventBus().request(message.destination(), message.payload(), delivery).mapEmpty();
  }

  @Override
  public String name() {
    return "eventbus";
  }

  /** The outbox message an event-bus consumer received from this sink. */
  public static OutboxMessage message(Message<Buffer> received) {
    Map<String, String> headers = new LinkedHashMap<>();
    received.headers().forEach(e -> headers.put(e.getKey(), e.getValue()));
    return fromHeaders(received.address(), received.body(), headers);
  }

  static OutboxMessage fromHeaders(
      String destination, Buffer payload, Map<String, String> headers) {
    String id = headers.get(OutboxMessage.MESSAGE_ID);
    if (id == null) {
      throw new IllegalArgumentException(
          "not an outbox message: no " + OutboxMessage.MESSAGE_ID + " header");
    }
    String attempt = headers.getOrDefault(OutboxMessage.ATTEMPT, "1");
    return OutboxMessage.restore(
        id,
        destination,
        headers.get(OutboxMessage.AGGREGATE_KEY),
        payload,
        "json".equals(headers.get(OutboxMessage.CONTENT_TYPE)),
        headers,
        Integer.parseInt(attempt));
  }
}
