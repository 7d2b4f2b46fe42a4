package io.shardkit.tx.outbox;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;

/**
 * One message of the transactional outbox: where it goes ({@link #destination()}: an event-bus
 * address or a Kafka topic), the aggregate it describes ({@link #aggregateKey()}: the value that
 * places the outbox row on the aggregate's shard and orders the messages of one aggregate), the
 * payload (JSON or bytes) and string headers. {@link #id()} is a UUID given when the message is
 * built; consumers deduplicate on it ({@link Inbox}).
 *
 * <p>Built by the application ({@link #json}, {@link #bytes}) and added with {@link Outbox#add};
 * read back by the relay with {@link #attempt()} (1 on the first publication, more on a redelivery)
 * and the shardkit headers filled in.
 */
public final class OutboxMessage {

  /** Header: the message id (also {@link #id()}). */
  public static final String MESSAGE_ID = "shardkit-message-id";

  /** Header: the aggregate key, as text. */
  public static final String AGGREGATE_KEY = "shardkit-aggregate-key";

  /** Header: the global id of the transaction that added the message. */
  public static final String GLOBAL_ID = "shardkit-gid";

  /** Header: the branch id of the transaction that added the message (TCC, Saga). */
  public static final String BRANCH_ID = "shardkit-branch";

  /** Header: the W3C trace context of the transaction that added the message. */
  public static final String TRACEPARENT = "traceparent";

  /** Header: {@code json} or {@code bytes}. */
  public static final String CONTENT_TYPE = "shardkit-content-type";

  /** Header: the data source whose outbox held the message (set by the relay). */
  public static final String DATA_SOURCE = "shardkit-data-source";

  /** Header: the publication attempt, 1 for the first (set by the relay). */
  public static final String ATTEMPT = "shardkit-attempt";

  private final String id;
  private final String destination;
  private final Object aggregateKey;
  private final Buffer payload;
  private final boolean json;
  private final Map<String, String> headers;
  private final int attempt;

  private OutboxMessage(
      String id,
      String destination,
      Object aggregateKey,
      Buffer payload,
      boolean json,
      Map<String, String> headers,
      int attempt) {
    this.id = id;
    this.destination = destination;
    this.aggregateKey = aggregateKey;
    this.payload = payload;
    this.json = json;
    this.headers = headers;
    this.attempt = attempt;
  }

  /** A JSON message for {@code destination} about the aggregate {@code aggregateKey}. */
  public static OutboxMessage json(String destination, Object aggregateKey, JsonObject payload) {
    Objects.requireNonNull(payload, "payload");
    return create(destination, aggregateKey, payload.toBuffer(), true);
  }

  /** A message of raw bytes for {@code destination} about the aggregate {@code aggregateKey}. */
  public static OutboxMessage bytes(String destination, Object aggregateKey, Buffer payload) {
    Objects.requireNonNull(payload, "payload");
    return create(destination, aggregateKey, payload.copy(), false);
  }

  private static OutboxMessage create(
      String destination, Object aggregateKey, Buffer payload, boolean json) {
    if (destination == null || destination.isBlank() || destination.length() > 255) {
      throw new IllegalArgumentException("an outbox message needs a destination of 1 to 255 chars");
    }
    Objects.requireNonNull(aggregateKey, "aggregateKey");
    return new OutboxMessage(
        UUID.randomUUID().toString(),
        destination,
        aggregateKey,
        payload,
        json,
        new LinkedHashMap<>(),
        0);
  }

  /** Read back from an outbox row or a sink's record. */
  static OutboxMessage restore(
      String id,
      String destination,
      Object aggregateKey,
      Buffer payload,
      boolean json,
      Map<String, String> headers,
      int attempt) {
    return new OutboxMessage(id, destination, aggregateKey, payload, json, headers, attempt);
  }

  /**
   * Adds a header (a copy: this message is not changed). Names starting with {@code shardkit-} are
   * reserved.
   */
  public OutboxMessage header(String name, String value) {
    if (name.startsWith("shardkit-")) {
      throw new IllegalArgumentException("header names starting with shardkit- are reserved");
    }
    Map<String, String> copy = new LinkedHashMap<>(headers);
    copy.put(name, Objects.requireNonNull(value, "value"));
    return new OutboxMessage(id, destination, aggregateKey, payload, json, copy, attempt);
  }

  OutboxMessage withHeaders(Map<String, String> all) {
    return new OutboxMessage(id, destination, aggregateKey, payload, json, all, attempt);
  }

  /** The message id (a UUID), the key of deduplication. */
  public String id() {
    return id;
  }

  /** The event-bus address or Kafka topic. */
  public String destination() {
    return destination;
  }

  /** The aggregate key as added (after a relay read: as the outbox column holds it). */
  public Object aggregateKey() {
    return aggregateKey;
  }

  /** The aggregate key as text: the Kafka record key, the unit of ordering. */
  public String aggregateKeyText() {
    return String.valueOf(aggregateKey);
  }

  /** The payload bytes. */
  public Buffer payload() {
    return payload;
  }

  /** Whether the payload is JSON. */
  public boolean isJson() {
    return json;
  }

  /** The payload as JSON. */
  public JsonObject payloadAsJson() {
    return new JsonObject(payload);
  }

  /** The headers: the application's and, once written, shardkit's. */
  public Map<String, String> headers() {
    return Collections.unmodifiableMap(headers);
  }

  /** The global id of the transaction that added it, or null. */
  public String globalId() {
    return headers.get(GLOBAL_ID);
  }

  /** The publication attempt (1 the first time, more on a redelivery; 0 before any). */
  public int attempt() {
    return attempt;
  }

  @Override
  public String toString() {
    return "OutboxMessage{"
        + id
        + " to "
        + destination
        + ", key "
        + aggregateKey
        + (attempt > 0 ? ", attempt " + attempt : "")
        + "}";
  }
}
