package io.shardkit.context.impl;

import static io.shardkit.context.PropagationHeaders.BRANCH_ID;
import static io.shardkit.context.PropagationHeaders.GLOBAL_ID;
import static io.shardkit.context.PropagationHeaders.GRPC_TIMEOUT;

import io.opentelemetry.api.OpenTelemetry;
import io.shardkit.context.Deadline;
import io.shardkit.context.ScopeOptions;
import io.shardkit.context.ShardkitTimeoutException;
import io.shardkit.context.TxContext;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.net.Address;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.client.GrpcClientRequest;
import io.vertx.grpc.client.InvalidStatusException;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.common.ServiceMethod;
import io.vertx.grpc.server.GrpcServerRequest;
import io.vertx.grpc.server.GrpcServerResponse;
import io.vertx.grpc.server.StatusException;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * The gRPC half of propagation. Vert.x gRPC 5.0 has no interceptor API, so this wraps the server's
 * request handler and the client's request instead.
 *
 * <p>Server: the context in {@code shardkit-gid}, {@code shardkit-branch}, {@code grpc-timeout} and
 * the trace headers is installed on the request's duplicated context before the handler runs. The
 * {@code grpc-timeout} is parsed here, to the nanosecond: Vert.x rounds it down to whole
 * milliseconds and reads a sub-millisecond budget as "no timeout".
 *
 * <p>Client: the request gets the metadata of the current context and a {@code grpc-timeout} of the
 * remaining time; an expired context fails before anything is sent; and the call is cancelled
 * locally when the deadline fires, whether or not the server honours the timeout.
 */
public final class GrpcSupport {

  private static final System.Logger LOG = System.getLogger(GrpcSupport.class.getName());

  private final Tracing tracing;

  private GrpcSupport(OpenTelemetry openTelemetry) {
    this.tracing = new Tracing(openTelemetry);
  }

  /**
   * @param openTelemetry whose propagator carries the trace context; null for the global one
   */
  public static GrpcSupport create(OpenTelemetry openTelemetry) {
    return new GrpcSupport(openTelemetry);
  }

  /** Wraps a request handler: installs the caller's context, then calls {@code handler}. */
  public <Req, Resp> Handler<GrpcServerRequest<Req, Resp>> server(
      Handler<GrpcServerRequest<Req, Resp>> handler) {
    return request -> {
      TxContext tx = decode(request.headers());
      Context context = Vertx.currentContext();
      if (tx == null || context == null || !ContextBridge.adopt(context, new Frame.Adopted(tx))) {
        handler.handle(request);
        return;
      }
      io.opentelemetry.context.Scope otel = Tracing.makeCurrent(tx.traceContext());
      try {
        handler.handle(request);
      } finally {
        if (otel != null) {
          otel.close();
        }
      }
    };
  }

  /**
   * Wraps a unary handler: reads the request message and runs {@code handler} inside a scope under
   * the caller's context (or a new one with the caller's {@code grpc-timeout}), then ends the
   * response with the result, or with {@code DEADLINE_EXCEEDED} when the scope times out.
   */
  public <Req, Resp> Handler<GrpcServerRequest<Req, Resp>> unary(
      Function<Req, Future<Resp>> handler) {
    return server(
        request -> {
          Context context = Vertx.currentContext();
          ScopeOptions options = ScopeOptions.defaults();
          if (ContextBridge.frame(context) == null) {
            String timeout = request.headers().get(GRPC_TIMEOUT);
            Deadline deadline = timeout == null ? null : parseGrpcTimeout(timeout);
            if (deadline != null && !deadline.isExpired()) {
              options = ScopeOptions.ofTimeout(deadline.remaining());
            }
          }
          // bound() hands the request message over on the scope's context (request.last()
          // completes on the request's) and bounds the read by the deadline.
          ScopeImpl.open(
                  context.owner(),
                  options,
                  () -> BoundImpl.bound(request.last(), null).compose(handler))
              .onComplete(
                  outcome -> {
                    GrpcServerResponse<Req, Resp> response = request.response();
                    if (outcome.succeeded()) {
                      response.end(outcome.result());
                    } else {
                      endWithError(response, outcome.cause());
                    }
                  });
        });
  }

  private static void endWithError(GrpcServerResponse<?, ?> response, Throwable failure) {
    GrpcStatus status;
    String message;
    if (failure instanceof StatusException statusException) {
      status = statusException.status();
      message = statusException.message();
    } else if (failure instanceof ShardkitTimeoutException) {
      status = GrpcStatus.DEADLINE_EXCEEDED;
      message = failure.getMessage();
    } else {
      status = GrpcStatus.UNKNOWN;
      message = String.valueOf(failure.getMessage());
    }
    try {
      response.status(status);
      if (message != null) {
        response.statusMessage(message);
      }
      response.end();
    } catch (RuntimeException alreadyEnded) {
      // The server already ended the call (its own deadline, a reset by the client).
      LOG.log(System.Logger.Level.DEBUG, "gRPC response already ended", alreadyEnded);
    }
  }

  /** A client request carrying the current context, cancelled at its deadline. */
  public <Req, Resp> Future<GrpcClientRequest<Req, Resp>> request(
      GrpcClient client, Address server, ServiceMethod<Resp, Req> method) {
    Frame frame = ContextBridge.currentFrame();
    if (frame == null) {
      return client.request(server, method);
    }
    String operation = "calling " + method.fullMethodName();
    if (frame.tx.deadline().isExpired()) {
      return Future.failedFuture(frame.timeout(operation, null));
    }
    return client
        .request(server, method)
        .recover(failure -> Future.failedFuture(timeoutOr(frame, operation, failure)))
        .compose(
            request -> {
              Deadline deadline = frame.tx.deadline();
              long remaining = deadline.remainingNanos();
              if (remaining <= 0) {
                request.cancel();
                return Future.failedFuture(frame.timeout(operation, null));
              }
              MultiMap headers = request.headers();
              headers.set(GLOBAL_ID, frame.tx.globalId());
              frame.tx.branchId().ifPresent(branch -> headers.set(BRANCH_ID, branch));
              tracing.inject(frame.tx.traceContext(), headers);
              request.timeout(remaining, TimeUnit.NANOSECONDS);
              // Ends with the call; the cancel runs only if the deadline comes first.
              BoundImpl.bound(
                  request.response().compose(response -> response.end()), request::cancel);
              return Future.succeededFuture(request);
            });
  }

  /** A unary call carrying the current context; a timeout fails with the typed error. */
  public <Req, Resp> Future<Resp> call(
      GrpcClient client, Address server, ServiceMethod<Resp, Req> method, Req message) {
    Frame frame = ContextBridge.currentFrame();
    Future<Resp> response =
        request(client, server, method)
            .compose(request -> request.send(message))
            .compose(clientResponse -> clientResponse.last());
    if (frame == null) {
      return response;
    }
    String operation = "calling " + method.fullMethodName();
    return response.recover(failure -> Future.failedFuture(timeoutOr(frame, operation, failure)));
  }

  private static Throwable timeoutOr(Frame frame, String operation, Throwable failure) {
    if (failure instanceof ShardkitTimeoutException) {
      return failure;
    }
    boolean remoteDeadline =
        failure instanceof InvalidStatusException status
            && status.actualStatus() == GrpcStatus.DEADLINE_EXCEEDED;
    if (remoteDeadline || frame.tx.deadline().isExpired()) {
      return frame.timeout(operation, failure);
    }
    return failure;
  }

  private TxContext decode(MultiMap headers) {
    String globalId = headers.get(GLOBAL_ID);
    if (globalId == null) {
      return null;
    }
    if (!TxContext.isValidId(globalId)) {
      LOG.log(
          System.Logger.Level.WARNING,
          "ignoring gRPC context with malformed " + GLOBAL_ID + " '" + globalId + "'");
      return null;
    }
    String branchId = headers.get(BRANCH_ID);
    if (branchId != null && !TxContext.isValidId(branchId)) {
      branchId = null;
    }
    String timeout = headers.get(GRPC_TIMEOUT);
    Deadline deadline =
        timeout == null ? Deadline.in(ScopeOptions.DEFAULT_TIMEOUT) : parseGrpcTimeout(timeout);
    if (deadline == null) {
      LOG.log(
          System.Logger.Level.WARNING,
          "ignoring gRPC context of "
              + globalId
              + " with malformed grpc-timeout '"
              + timeout
              + "'");
      return null;
    }
    return TxContext.of(globalId, branchId, deadline, null, tracing.extract(headers));
  }

  private static Deadline parseGrpcTimeout(String value) {
    try {
      return Deadline.fromGrpcTimeout(value);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }
}
