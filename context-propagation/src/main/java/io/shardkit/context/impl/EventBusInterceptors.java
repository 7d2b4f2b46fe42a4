package io.shardkit.context.impl;

import static io.shardkit.context.PropagationHeaders.BRANCH_ID;
import static io.shardkit.context.PropagationHeaders.GLOBAL_ID;
import static io.shardkit.context.PropagationHeaders.TIMEOUT_MILLIS;

import io.opentelemetry.api.OpenTelemetry;
import io.shardkit.context.Deadline;
import io.shardkit.context.ScopeOptions;
import io.shardkit.context.TxContext;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryContext;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import java.util.concurrent.TimeUnit;

/**
 * The event-bus half of propagation: an outbound interceptor that writes the current context to the
 * message headers (send, publish, reply) and an inbound one that restores it on the consumer's
 * per-message duplicated context.
 *
 * <p>Decisions:
 *
 * <ul>
 *   <li>The {@code shardkit-*} headers belong to the interceptor: written from the current context,
 *       and removed from a message sent outside any context. Vert.x uses the caller's {@code
 *       DeliveryOptions} header map as the message's, so a reused options object would otherwise
 *       carry a stale id into an unrelated send.
 *   <li>Replies carry the replier's context, but it is not installed on the requester's context
 *       (the requester is already in its own scope, or chose to be in none); read it with {@link
 *       #contextOf}.
 *   <li>A message whose id is malformed is delivered without context (and logged), rather than
 *       under an id that would fail later as an XA gtrid.
 * </ul>
 */
public final class EventBusInterceptors {

  private static final System.Logger LOG = System.getLogger(EventBusInterceptors.class.getName());
  private static final String REPLY_ADDRESS_PREFIX = "__vertx.reply.";

  /** Failure code a scoped handler replies with when its scope times out. */
  public static final int TIMEOUT_FAILURE_CODE = 504;

  private final EventBus eventBus;
  private final Tracing tracing;
  private final Handler<DeliveryContext<Object>> outbound = this::outbound;
  private final Handler<DeliveryContext<Object>> inbound = this::inbound;

  private EventBusInterceptors(EventBus eventBus, OpenTelemetry openTelemetry) {
    this.eventBus = eventBus;
    this.tracing = new Tracing(openTelemetry);
  }

  /**
   * Adds both interceptors to {@code vertx}'s event bus.
   *
   * @param openTelemetry whose propagator carries the trace context; null for the global one
   */
  public static EventBusInterceptors install(Vertx vertx, OpenTelemetry openTelemetry) {
    EventBusInterceptors interceptors = new EventBusInterceptors(vertx.eventBus(), openTelemetry);
    interceptors.eventBus.addOutboundInterceptor(interceptors.outbound);
    interceptors.eventBus.addInboundInterceptor(interceptors.inbound);
    return interceptors;
  }

  /** Removes both interceptors. */
  public void uninstall() {
    eventBus.removeOutboundInterceptor(outbound);
    eventBus.removeInboundInterceptor(inbound);
  }

  /**
   * A request whose reply timeout is the remaining time of the current context (the given one
   * outside any context), failing with the typed timeout error when the deadline passes first or
   * the replier's scope timed out.
   */
  public <T> Future<Message<T>> request(String address, Object body, DeliveryOptions options) {
    Frame frame = ContextBridge.currentFrame();
    if (frame == null) {
      return eventBus.request(address, body, options);
    }
    String operation = "waiting for a reply from " + address;
    long remaining = frame.tx.deadline().remainingMillis();
    if (remaining <= 0) {
      return Future.failedFuture(frame.timeout(operation, null));
    }
    DeliveryOptions bounded = new DeliveryOptions(options).setSendTimeout(remaining);
    return eventBus
        .<T>request(address, body, bounded)
        .recover(
            failure -> {
              boolean timedOut =
                  failure instanceof ReplyException reply
                      && (reply.failureType() == ReplyFailure.TIMEOUT
                          || (reply.failureType() == ReplyFailure.RECIPIENT_FAILURE
                              && reply.failureCode() == TIMEOUT_FAILURE_CODE));
              return Future.failedFuture(
                  timedOut || frame.tx.deadline().isExpired()
                      ? frame.timeout(operation, failure)
                      : failure);
            });
  }

  /** The context a message carries in its headers, or null. */
  public TxContext contextOf(Message<?> message) {
    return decode(message.headers());
  }

  private void outbound(DeliveryContext<Object> delivery) {
    Frame frame = ContextBridge.currentFrame();
    if (frame != null) {
      MultiMap headers = delivery.message().headers();
      TxContext tx = frame.tx;
      headers.set(GLOBAL_ID, tx.globalId());
      String branch = tx.branchId().orElse(null);
      if (branch != null) {
        headers.set(BRANCH_ID, branch);
      } else {
        headers.remove(BRANCH_ID);
      }
      headers.set(TIMEOUT_MILLIS, Long.toString(tx.deadline().remainingMillis()));
      tracing.inject(tx.traceContext(), headers);
    }
    delivery.next();
  }

  private void inbound(DeliveryContext<Object> delivery) {
    Message<Object> message = delivery.message();
    MultiMap headers = message.headers();
    if (headers.isEmpty()
        || !headers.contains(GLOBAL_ID)
        || message.address().startsWith(REPLY_ADDRESS_PREFIX)) {
      delivery.next();
      return;
    }
    Context context = Vertx.currentContext();
    TxContext tx = context == null ? null : decode(headers);
    if (tx == null || !ContextBridge.adopt(context, new Frame.Adopted(tx))) {
      delivery.next();
      return;
    }
    io.opentelemetry.context.Scope otel = Tracing.makeCurrent(tx.traceContext());
    try {
      delivery.next();
    } finally {
      if (otel != null) {
        otel.close();
      }
    }
  }

  private TxContext decode(MultiMap headers) {
    String globalId = headers.get(GLOBAL_ID);
    if (globalId == null) {
      return null;
    }
    if (!TxContext.isValidId(globalId)) {
      LOG.log(
          System.Logger.Level.WARNING,
          "ignoring event-bus context with malformed " + GLOBAL_ID + " '" + globalId + "'");
      return null;
    }
    String branchId = headers.get(BRANCH_ID);
    if (branchId != null && !TxContext.isValidId(branchId)) {
      branchId = null;
    }
    Deadline deadline = parseTimeout(headers.get(TIMEOUT_MILLIS));
    if (deadline == null) {
      LOG.log(
          System.Logger.Level.WARNING,
          "ignoring event-bus context of "
              + globalId
              + " with malformed "
              + TIMEOUT_MILLIS
              + " '"
              + headers.get(TIMEOUT_MILLIS)
              + "'");
      return null;
    }
    return TxContext.of(globalId, branchId, deadline, null, tracing.extract(headers));
  }

  /** The deadline a header gives; the default timeout when absent; null when malformed. */
  private static Deadline parseTimeout(String millis) {
    if (millis == null) {
      return Deadline.in(ScopeOptions.DEFAULT_TIMEOUT);
    }
    try {
      return Deadline.in(Math.max(0, Long.parseLong(millis)), TimeUnit.MILLISECONDS);
    } catch (NumberFormatException e) {
      return null;
    }
  }
}
