package io.shardkit.tx.impl.tcc;

import io.shardkit.tx.TccParticipant;
import io.vertx.core.Vertx;
import io.vertx.core.net.Address;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.server.GrpcServer;
import java.time.Duration;
import java.util.Objects;

/** What {@code io.shardkit.tx.grpc.TccGrpc} creates: the gRPC service and client of TCC phases. */
public final class TccGrpcSupport {

  private TccGrpcSupport() {}

  public static void bind(GrpcServer server, TccParticipant participant) {
    GrpcParticipantService.bind(
        Objects.requireNonNull(server, "server"),
        Objects.requireNonNull(participant, "participant"));
  }

  public static TccParticipant participant(
      Vertx vertx, GrpcClient client, Address server, Duration timeoutOutsideScope) {
    return new GrpcParticipantClient(
        Objects.requireNonNull(vertx, "vertx"),
        Objects.requireNonNull(client, "client"),
        Objects.requireNonNull(server, "server"),
        Objects.requireNonNull(timeoutOutsideScope, "timeoutOutsideScope"));
  }
}
