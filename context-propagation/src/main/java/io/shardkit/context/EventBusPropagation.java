package io.shardkit.context;

import io.opentelemetry.api.OpenTelemetry;
import io.shardkit.context.impl.EventBusInterceptors;
import io.shardkit.context.impl.Scopes;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;

/**
 * Carries the {@link TxContext} over the Vert.x event bus, in message headers only (so it works on
 * a clustered event bus too): {@link PropagationHeaders#GLOBAL_ID}, {@link
 * PropagationHeaders#BRANCH_ID}, {@link PropagationHeaders#TIMEOUT_MILLIS} (the remaining time,
 * truncated) and the W3C trace context.
 *
 * <p>{@link #install} adds two interceptors to a {@code Vertx}'s event bus:
 *
 * <ul>
 *   <li>outbound: a message sent, published or replied from inside a scope (or a restored context)
 *       carries its context. A message sent outside any context has the {@code shardkit-*} headers
 *       removed, so a reused {@code DeliveryOptions} cannot carry a stale id;
 *   <li>inbound: a consumer receiving a message with a context runs with it: {@link
 *       TxScope#current()} returns the sender's global id and branch, a deadline no later than the
 *       sender's, and the sender's span as trace parent. The requester of a reply keeps its own
 *       context (read the replier's with {@link #contextOf}).
 * </ul>
 *
 * <p>A restored context has no owning scope: nothing tells the interceptor when a plain handler is
 * done. Handlers that pin resources, or whose failure at the deadline must reach the sender, use
 * {@link #scoped}: it runs them in a scope under the restored context and replies with the outcome.
 */
public final class EventBusPropagation {

  /** Failure code of the reply when a {@link #scoped} handler runs past its deadline. */
  public static final int TIMEOUT_FAILURE_CODE = EventBusInterceptors.TIMEOUT_FAILURE_CODE;

  /** Failure code of the reply when a {@link #scoped} handler fails otherwise. */
  public static final int FAILURE_CODE = 500;

  private final EventBusInterceptors interceptors;

  private EventBusPropagation(EventBusInterceptors interceptors) {
    this.interceptors = interceptors;
  }

  /**
   * Installs the interceptors on {@code vertx}'s event bus; the trace context is written with
   * {@code GlobalOpenTelemetry}'s propagator, consulted only when there is a trace to propagate.
   * Call once per {@code Vertx}.
   */
  public static EventBusPropagation install(Vertx vertx) {
    return new EventBusPropagation(EventBusInterceptors.install(vertx, null));
  }

  /**
   * Installs the interceptors on {@code vertx}'s event bus, propagating the trace context with
   * {@code openTelemetry}'s propagator. Call once per {@code Vertx}.
   */
  public static EventBusPropagation install(Vertx vertx, OpenTelemetry openTelemetry) {
    return new EventBusPropagation(
        EventBusInterceptors.install(vertx, Objects.requireNonNull(openTelemetry)));
  }

  /** Removes the interceptors. */
  public void uninstall() {
    interceptors.uninstall();
  }

  /**
   * Sends a request whose reply timeout is the remaining time of the current context, so a missing
   * reply fails the requester at its deadline rather than after the event bus's default 30 seconds.
   * The context travels in the headers as for any send.
   *
   * @return the reply; fails with {@link ShardkitTimeoutException} when the deadline passes first
   *     or the replier's {@link #scoped} handler timed out. Outside any context: a plain request.
   */
  public <T> Future<Message<T>> request(String address, Object body) {
    return interceptors.request(address, body, new DeliveryOptions());
  }

  /**
   * Like {@link #request(String, Object)} with delivery options; their send timeout is replaced by
   * the remaining time inside a context.
   */
  public <T> Future<Message<T>> request(String address, Object body, DeliveryOptions options) {
    return interceptors.request(address, body, Objects.requireNonNull(options, "options"));
  }

  /** The context carried by {@code message}'s headers, e.g. a reply's. */
  public Optional<TxContext> contextOf(Message<?> message) {
    return Optional.ofNullable(interceptors.contextOf(message));
  }

  /** {@link #scoped(Vertx, ScopeOptions, Function)} with {@link ScopeOptions#defaults()}. */
  public static <T, R> Handler<Message<T>> scoped(
      Vertx vertx, Function<Message<T>, Future<R>> handler) {
    return scoped(vertx, ScopeOptions.defaults(), handler);
  }

  /**
   * A consumer handler that runs {@code handler} inside a scope nested in the message's context
   * (same global id, a deadline no later than the sender's; a new transaction with {@code options}'
   * timeout when the message carries none). When the message expects a reply, replies with the
   * result, or fails it with {@link #TIMEOUT_FAILURE_CODE} at the deadline (even if the handler's
   * future never completes) or {@link #FAILURE_CODE} on another failure.
   */
  public static <T, R> Handler<Message<T>> scoped(
      Vertx vertx, ScopeOptions options, Function<Message<T>, Future<R>> handler) {
    Objects.requireNonNull(vertx, "vertx");
    Objects.requireNonNull(options, "options");
    Objects.requireNonNull(handler, "handler");
    return message ->
        Scopes.run(vertx, options, () -> handler.apply(message))
            .onComplete(
                outcome -> {
                  if (message.replyAddress() == null) {
                    return;
                  }
                  if (outcome.succeeded()) {
                    message.reply(outcome.result());
                  } else {
                    Throwable failure = outcome.cause();
                    message.fail(
                        failure instanceof ShardkitTimeoutException
                            ? TIMEOUT_FAILURE_CODE
                            : FAILURE_CODE,
                        String.valueOf(failure.getMessage()));
                  }
                });
  }
}
