package io.shardkit.tx.impl.tcc;

import io.shardkit.router.ShardedPool;
import io.shardkit.tx.TccCoordinator;
import io.shardkit.tx.TccOptions;
import io.shardkit.tx.TccParticipant;
import io.shardkit.tx.TccParticipants;
import io.shardkit.tx.spi.TccFactory;
import io.vertx.core.Vertx;
import io.vertx.core.net.Address;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.server.GrpcServer;
import java.time.Duration;
import java.util.Objects;

/** ServiceLoader entry; public with a no-argument constructor as ServiceLoader requires. */
public final class TccFactoryImpl implements TccFactory {

  @Override
  public TccCoordinator coordinator(Vertx vertx, ShardedPool pool, TccOptions options) {
    return TccCoordinatorImpl.create(vertx, pool, options);
  }

  @Override
  public TccParticipants participants(Vertx vertx, ShardedPool pool, TccOptions options) {
    return LocalParticipants.create(vertx, pool, options);
  }

  @Override
  public void bindGrpc(GrpcServer server, TccParticipant participant) {
    GrpcParticipantService.bind(
        Objects.requireNonNull(server, "server"), Objects.requireNonNull(participant));
  }

  @Override
  public TccParticipant grpcParticipant(
      Vertx vertx, GrpcClient client, Address server, Duration timeoutOutsideScope) {
    return new GrpcParticipantClient(
        Objects.requireNonNull(vertx, "vertx"),
        Objects.requireNonNull(client, "client"),
        Objects.requireNonNull(server, "server"),
        Objects.requireNonNull(timeoutOutsideScope, "timeoutOutsideScope"));
  }
}
