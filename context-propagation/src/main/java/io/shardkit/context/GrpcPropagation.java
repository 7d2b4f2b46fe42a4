package io.shardkit.context;

import io.opentelemetry.api.OpenTelemetry;
import io.shardkit.context.impl.GrpcSupport;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.net.Address;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.client.GrpcClientOptions;
import io.vertx.grpc.client.GrpcClientRequest;
import io.vertx.grpc.common.ServiceMethod;
import io.vertx.grpc.server.GrpcServerOptions;
import io.vertx.grpc.server.GrpcServerRequest;
import java.util.Objects;
import java.util.function.Function;

/**
 * Carries the {@link TxContext} over Vert.x gRPC calls, in metadata: {@link
 * PropagationHeaders#GLOBAL_ID}, {@link PropagationHeaders#BRANCH_ID}, the standard {@code
 * grpc-timeout} (the remaining time) and the W3C trace context. Vert.x gRPC 5.0 has no interceptor
 * API, so the server side wraps request handlers and the client side creates the requests.
 *
 * <p>Server side: {@link #server} installs the caller's context on the request's context before
 * calling the handler ({@link TxScope#current()} then returns it); {@link #unary} also runs a unary
 * handler inside a scope and ends the call with {@code DEADLINE_EXCEEDED} at the deadline, even if
 * the handler's future never completes. Run the server with {@link #serverOptions()} (deadline
 * propagation on).
 *
 * <p>Client side: {@link #request} and {@link #call} send the current context, set the call's
 * timeout to the remaining time, refuse to send when no time is left, and cancel the call when the
 * deadline passes. Outside any context they behave like the plain client.
 *
 * <p>grpc-java style services ({@code vertx-grpcio-server}) are not covered: their interceptors run
 * on gRPC's own context, not on a Vert.x duplicated context.
 */
public final class GrpcPropagation {

  private final GrpcSupport support;

  private GrpcPropagation(GrpcSupport support) {
    this.support = support;
  }

  /**
   * Propagation with {@code GlobalOpenTelemetry}'s propagator for the trace context, consulted only
   * when there is a trace to propagate.
   */
  public static GrpcPropagation create() {
    return new GrpcPropagation(GrpcSupport.create(null));
  }

  /** Propagation with {@code openTelemetry}'s propagator for the trace context. */
  public static GrpcPropagation create(OpenTelemetry openTelemetry) {
    return new GrpcPropagation(GrpcSupport.create(Objects.requireNonNull(openTelemetry)));
  }

  /**
   * Server options with deadline propagation on and the deadline scheduled automatically, so the
   * server itself also ends a call with {@code DEADLINE_EXCEEDED} at its {@code grpc-timeout}.
   */
  public static GrpcServerOptions serverOptions() {
    return new GrpcServerOptions()
        .setDeadlinePropagation(true)
        .setScheduleDeadlineAutomatically(true);
  }

  /** Client options that cancel a call at its timeout. */
  public static GrpcClientOptions clientOptions() {
    return new GrpcClientOptions().setScheduleDeadlineAutomatically(true);
  }

  /**
   * Wraps a request handler: when the call carries a context, it is installed on the request's
   * context (no scope owns it; open one with {@link TxScope#run} to pin resources), then {@code
   * handler} runs. Works for every call shape (unary and streaming).
   */
  public <Req, Resp> Handler<GrpcServerRequest<Req, Resp>> server(
      Handler<GrpcServerRequest<Req, Resp>> handler) {
    return support.server(Objects.requireNonNull(handler, "handler"));
  }

  /**
   * A unary call handler: reads the request message and runs {@code handler} in a scope nested in
   * the caller's context (or, when the call carries none, a new transaction bounded by the call's
   * {@code grpc-timeout}, else by {@link ScopeOptions#DEFAULT_TIMEOUT}). Ends the call with the
   * result; with {@code DEADLINE_EXCEEDED} at the deadline; with the status of an {@code
   * io.vertx.grpc.server.StatusException}; else with {@code UNKNOWN}.
   */
  public <Req, Resp> Handler<GrpcServerRequest<Req, Resp>> unary(
      Function<Req, Future<Resp>> handler) {
    return support.unary(Objects.requireNonNull(handler, "handler"));
  }

  /**
   * Creates a request carrying the current context with a {@code grpc-timeout} of the remaining
   * time, cancelled when the deadline passes before the response ends.
   *
   * @return the request, or a failed future with {@link ShardkitTimeoutException} if no time is
   *     left
   */
  public <Req, Resp> Future<GrpcClientRequest<Req, Resp>> request(
      GrpcClient client, Address server, ServiceMethod<Resp, Req> method) {
    return support.request(client, server, method);
  }

  /**
   * Makes a unary call carrying the current context.
   *
   * @return the response message; fails with {@link ShardkitTimeoutException} when the deadline
   *     passes first or the server answers {@code DEADLINE_EXCEEDED}
   */
  public <Req, Resp> Future<Resp> call(
      GrpcClient client, Address server, ServiceMethod<Resp, Req> method, Req message) {
    return support.call(client, server, method, message);
  }
}
