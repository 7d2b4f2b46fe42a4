package io.shardkit.tx.impl.tcc;

import io.shardkit.context.GrpcPropagation;
import io.shardkit.context.ShardkitTimeoutException;
import io.shardkit.tx.TccBranch;
import io.shardkit.tx.TccParticipant;
import io.shardkit.tx.TccPhaseOutcome;
import io.shardkit.tx.TccTryRefusedException;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.grpc.server.GrpcServer;
import java.util.function.Function;

/** Serves a participant over gRPC (see {@link GrpcWire}). */
final class GrpcParticipantService {

  private GrpcParticipantService() {}

  static void bind(GrpcServer server, TccParticipant participant) {
    GrpcPropagation grpc = GrpcPropagation.create();
    server.callHandler(GrpcWire.server(GrpcWire.TRY), grpc.unary(handler(participant::tryBranch)));
    server.callHandler(
        GrpcWire.server(GrpcWire.CONFIRM), grpc.unary(handler(participant::confirm)));
    server.callHandler(GrpcWire.server(GrpcWire.CANCEL), grpc.unary(handler(participant::cancel)));
  }

  private static Function<Buffer, Future<Buffer>> handler(
      Function<TccBranch, Future<TccPhaseOutcome>> phase) {
    return request -> {
      Future<TccPhaseOutcome> outcome;
      try {
        JsonObject json = request.toJsonObject();
        TccBranch branch =
            new TccBranch(
                json.getString("gid"),
                json.getString("branch"),
                json.getString("action"),
                json.getJsonObject("args"));
        outcome = phase.apply(branch);
      } catch (RuntimeException e) {
        outcome = Future.failedFuture(e);
      }
      return outcome.transform(
          ar -> {
            if (ar.succeeded()) {
              return Future.succeededFuture(
                  new JsonObject().put("outcome", ar.result().name()).toBuffer());
            }
            Throwable cause = ar.cause();
            if (cause instanceof ShardkitTimeoutException) {
              // The unary wrapper answers DEADLINE_EXCEEDED.
              return Future.failedFuture(cause);
            }
            String error = cause instanceof TccTryRefusedException ? "refused" : "failed";
            return Future.succeededFuture(
                new JsonObject()
                    .put("error", error)
                    .put("message", String.valueOf(cause.getMessage()))
                    .toBuffer());
          });
    };
  }
}
