package io.shardkit.tx.impl.tcc;

import io.vertx.core.buffer.Buffer;
import io.vertx.grpc.common.GrpcMessageDecoder;
import io.vertx.grpc.common.GrpcMessageEncoder;
import io.vertx.grpc.common.ServiceMethod;
import io.vertx.grpc.common.ServiceName;

/**
 * The participant protocol on the wire: service {@code shardkit.tcc.Participant}, unary methods
 * {@code Try}, {@code Confirm}, {@code Cancel}; messages are JSON objects carried as raw bytes (no
 * protoc). Request: {@code {"gid", "branch", "action", "args"}}; the deadline and ids also travel
 * in metadata through {@code GrpcPropagation}. Response: {@code {"outcome": "APPLIED" | "DUPLICATE"
 * | "EMPTY_ROLLBACK"}} or {@code {"error": "refused" | "failed", "message"}}, so the caller gets
 * the participant's message (a non-OK gRPC status carries none to a Vert.x client); only the
 * deadline ends a call with a status ({@code DEADLINE_EXCEEDED}).
 */
final class GrpcWire {

  static final ServiceName SERVICE = ServiceName.create("shardkit.tcc.Participant");
  static final String TRY = "Try";
  static final String CONFIRM = "Confirm";
  static final String CANCEL = "Cancel";

  private GrpcWire() {}

  static ServiceMethod<Buffer, Buffer> server(String method) {
    return ServiceMethod.server(
        SERVICE, method, GrpcMessageEncoder.IDENTITY, GrpcMessageDecoder.IDENTITY);
  }

  static ServiceMethod<Buffer, Buffer> client(String method) {
    return ServiceMethod.client(
        SERVICE, method, GrpcMessageEncoder.IDENTITY, GrpcMessageDecoder.IDENTITY);
  }
}
