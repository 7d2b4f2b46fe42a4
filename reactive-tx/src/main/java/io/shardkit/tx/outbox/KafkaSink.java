package io.shardkit.tx.outbox;

import io.shardkit.tx.outbox.spi.OutboxSink;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.kafka.client.consumer.KafkaConsumerRecord;
import io.vertx.kafka.client.producer.KafkaHeader;
import io.vertx.kafka.client.producer.KafkaProducer;
import io.vertx.kafka.client.producer.KafkaProducerRecord;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Publishes outbox messages to Kafka through vertx-kafka-client (an optional dependency: add {@code
 * io.vertx:vertx-kafka-client} to use it): the destination is the topic, the aggregate key the
 * record key (so one aggregate's messages share a partition and keep their order), the payload the
 * value, the headers record headers. A message counts as published when the broker acknowledged it
 * ({@code acks=all}, idempotent producer, so a retried send inside the producer does not duplicate
 * or reorder). Consumers turn a record back into an {@link OutboxMessage} with {@link
 * #message(KafkaConsumerRecord)}.
 */
public final class KafkaSink implements OutboxSink {

  private final KafkaProducer<String, Buffer> producer;

  private KafkaSink(KafkaProducer<String, Buffer> producer) {
    this.producer = producer;
  }

  /**
   * A sink with its own producer; {@code config} is the producer's configuration ({@code
   * bootstrap.servers} at least) over these defaults: string keys, {@code Buffer} values, {@code
   * acks=all}, {@code enable.idempotence=true}.
   */
  public static KafkaSink create(Vertx vertx, Map<String, String> config) {
    Map<String, String> all = new LinkedHashMap<>();
    all.put("key.serializer", "org.apache.kafka.common.serialization.StringSerializer");
    all.put("value.serializer", "io.vertx.kafka.client.serialization.BufferSerializer");
    all.put("acks", "all");
    all.put("enable.idempotence", "true");
    all.put("max.in.flight.requests.per.connection", "5");
    all.putAll(config);
    return new KafkaSink(KafkaProducer.create(vertx, all));
  }

  /** A sink on a producer the application made (its settings are the application's). */
  public static KafkaSink of(KafkaProducer<String, Buffer> producer) {
    return new KafkaSink(producer);
  }

  @Override
  public Future<Void> publish(OutboxMessage message) {
    KafkaProducerRecord<String, Buffer> record =
        KafkaProducerRecord.create(
            message.destination(), message.aggregateKeyText(), message.payload());
    message.headers().forEach((k, v) -> record.addHeader(KafkaHeader.header(k, v)));
    return producer.send(record).mapEmpty();
  }

  @Override
  public String name() {
    return "kafka";
  }

  @Override
  public Future<Void> close() {
    return producer.close();
  }

  /** The outbox message a Kafka consumer received from this sink. */
  public static OutboxMessage message(KafkaConsumerRecord<String, Buffer> record) {
    Map<String, String> headers = new LinkedHashMap<>();
    record
        .headers()
        .forEach(
            h -> headers.put(h.key(), new String(h.value().getBytes(), StandardCharsets.UTF_8)));
    return EventBusSink.fromHeaders(record.topic(), record.value(), headers);
  }
}
