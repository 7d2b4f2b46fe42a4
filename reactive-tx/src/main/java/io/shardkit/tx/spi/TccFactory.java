package io.shardkit.tx.spi;

import io.shardkit.router.ShardedPool;
import io.shardkit.tx.TccCoordinator;
import io.shardkit.tx.TccOptions;
import io.shardkit.tx.TccParticipant;
import io.shardkit.tx.TccParticipants;
import io.vertx.core.Vertx;
import io.vertx.core.net.Address;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.server.GrpcServer;
import java.time.Duration;
import java.util.ServiceLoader;

/**
 * Creates the TCC implementation objects. shardkit ships the only implementation (found through
 * {@link ServiceLoader}); this seam keeps the API packages free of implementation imports.
 */
public interface TccFactory {

  TccCoordinator coordinator(Vertx vertx, ShardedPool pool, TccOptions options);

  TccParticipants participants(Vertx vertx, ShardedPool pool, TccOptions options);

  /** Serves {@code participant} on {@code server} (see {@code io.shardkit.tx.grpc.TccGrpc}). */
  void bindGrpc(GrpcServer server, TccParticipant participant);

  /** A participant that calls a remote {@code TccGrpc} service. */
  TccParticipant grpcParticipant(
      Vertx vertx, GrpcClient client, Address server, Duration timeoutOutsideScope);

  /** The implementation on the class path. */
  static TccFactory load() {
    return ServiceLoader.load(TccFactory.class, TccFactory.class.getClassLoader())
        .findFirst()
        .orElseThrow(() -> new IllegalStateException("no TccFactory on the class path"));
  }
}
