package io.shardkit.tx.impl.tcc;

import io.shardkit.context.GrpcPropagation;
import io.shardkit.context.ScopeOptions;
import io.shardkit.context.ShardkitException;
import io.shardkit.context.TxScope;
import io.shardkit.tx.TccBranch;
import io.shardkit.tx.TccParticipant;
import io.shardkit.tx.TccPhaseOutcome;
import io.shardkit.tx.TccTryRefusedException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.Address;
import io.vertx.grpc.client.GrpcClient;
import java.time.Duration;

/**
 * Calls a remote participant over gRPC. Each call runs in a scope carrying the branch id (nested in
 * the caller's, so it gets what is left of the caller's deadline, or {@code timeoutOutsideScope}
 * when there is no caller scope); {@code GrpcPropagation} sends the ids and the remaining time.
 */
final class GrpcParticipantClient implements TccParticipant {

  private final Vertx vertx;
  private final GrpcClient client;
  private final Address server;
  private final Duration timeoutOutsideScope;
  private final GrpcPropagation grpc = GrpcPropagation.create();

  GrpcParticipantClient(
      Vertx vertx, GrpcClient client, Address server, Duration timeoutOutsideScope) {
    this.vertx = vertx;
    this.client = client;
    this.server = server;
    this.timeoutOutsideScope = timeoutOutsideScope;
  }

  @Override
  public Future<TccPhaseOutcome> tryBranch(TccBranch branch) {
    return call(GrpcWire.TRY, branch);
  }

  @Override
  public Future<TccPhaseOutcome> confirm(TccBranch branch) {
    return call(GrpcWire.CONFIRM, branch);
  }

  @Override
  public Future<TccPhaseOutcome> cancel(TccBranch branch) {
    return call(GrpcWire.CANCEL, branch);
  }

  private Future<TccPhaseOutcome> call(String method, TccBranch branch) {
    Buffer request =
        new JsonObject()
            .put("gid", branch.globalId())
            .put("branch", branch.branchId())
            .put("action", branch.action())
            .put("args", branch.args())
            .toBuffer();
    ScopeOptions scope =
        ScopeOptions.builder()
            .globalId(branch.globalId())
            .branchId(branch.branchId())
            .timeout(TxScope.current().isPresent() ? ScopeOptions.MAX_TIMEOUT : timeoutOutsideScope)
            .build();
    return TxScope.run(
        vertx,
        scope,
        () ->
            grpc.call(client, server, GrpcWire.client(method), request)
                .compose(response -> outcome(method, branch, response.toJsonObject())));
  }

  private Future<TccPhaseOutcome> outcome(String method, TccBranch branch, JsonObject response) {
    String outcome = response.getString("outcome");
    if (outcome != null) {
      try {
        return Future.succeededFuture(TccPhaseOutcome.valueOf(outcome));
      } catch (IllegalArgumentException e) {
        return Future.failedFuture(
            new ShardkitException("participant at " + server + " answered outcome " + outcome));
      }
    }
    String where = "participant at " + server;
    if ("refused".equals(response.getString("error"))) {
      return Future.failedFuture(
          new TccTryRefusedException(branch.globalId(), branch.branchId(), branch.action(), where));
    }
    return Future.failedFuture(
        new ShardkitException(
            "transaction "
                + branch.globalId()
                + ": "
                + method.toLowerCase(java.util.Locale.ROOT)
                + " of branch "
                + branch.branchId()
                + " ("
                + branch.action()
                + ") failed at "
                + where
                + ": "
                + response.getString("message")));
  }
}
