package io.shardkit.tx.grpc;

import io.shardkit.tx.TccOptions;
import io.shardkit.tx.TccParticipant;
import io.shardkit.tx.impl.tcc.TccGrpcSupport;
import io.vertx.core.Vertx;
import io.vertx.core.net.Address;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.server.GrpcServer;

/**
 * TCC participants over Vert.x gRPC (no protoc: JSON messages as raw bytes on service {@code
 * shardkit.tcc.Participant}, methods {@code Try}, {@code Confirm}, {@code Cancel}).
 *
 * <p>A service that runs actions for other services' transactions serves its {@link
 * io.shardkit.tx.TccParticipants} with {@link #bind}; each call runs in a scope with the caller's
 * global id, branch id and remaining time (from metadata, through {@code
 * io.shardkit.context.GrpcPropagation}), and each phase is fenced on the service's own shards. The
 * service should create its gRPC server with {@code GrpcPropagation.serverOptions()} and call
 * {@code cleanFence()} on its participants now and then (the coordinator's recovery only cleans the
 * coordinator's own shards).
 *
 * <p>A coordinator reaches such a service through {@link #participant}, registered under each
 * action name the service runs ({@link io.shardkit.tx.Transactions#registerParticipant}).
 */
public final class TccGrpc {

  private TccGrpc() {}

  /** Serves {@code participant}'s three phases on {@code server}. */
  public static void bind(GrpcServer server, TccParticipant participant) {
    TccGrpcSupport.bind(server, participant);
  }

  /**
   * A participant that calls the service at {@code server}. Calls carry the current scope's ids and
   * remaining time; outside any scope they get {@link TccOptions#DEFAULT_PHASE_TIMEOUT}.
   *
   * @param client a client created with {@code GrpcPropagation.clientOptions()}; not closed here
   */
  public static TccParticipant participant(Vertx vertx, GrpcClient client, Address server) {
    return TccGrpcSupport.participant(vertx, client, server, TccOptions.DEFAULT_PHASE_TIMEOUT);
  }
}
