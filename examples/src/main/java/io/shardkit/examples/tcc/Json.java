package io.shardkit.examples.tcc;

import io.vertx.core.buffer.Buffer;
import io.vertx.grpc.common.GrpcMessageDecoder;
import io.vertx.grpc.common.GrpcMessageEncoder;
import io.vertx.grpc.common.ServiceMethod;
import io.vertx.grpc.common.ServiceName;

/** The example's gRPC methods: JSON messages as raw bytes, so no protoc is needed. */
final class Json {

  private Json() {}

  static ServiceMethod<Buffer, Buffer> server(ServiceName service, String method) {
    return ServiceMethod.server(
        service, method, GrpcMessageEncoder.IDENTITY, GrpcMessageDecoder.IDENTITY);
  }

  static ServiceMethod<Buffer, Buffer> client(ServiceName service, String method) {
    return ServiceMethod.client(
        service, method, GrpcMessageEncoder.IDENTITY, GrpcMessageDecoder.IDENTITY);
  }
}
