package io.shardkit.examples.tcc;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardkit.testkit.TestShards;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

/** Runs the TCC gRPC example end to end so it cannot rot. */
class TccGrpcExampleTest {

  @Test
  void exampleEndsWithTwoConfirmedOrdersOneCancelledAndBalancesThatAgree() throws Exception {
    JsonObject actual = TccGrpcExample.run(TestShards.get(3));

    assertThat(actual.getBoolean("consistent")).as(actual.encodePrettily()).isTrue();
    assertThat(actual.getJsonObject("finalOrders").getString("1003")).isEqualTo("CANCELLED");
    assertThat(actual.getInteger("openScopes")).isZero();
  }
}
