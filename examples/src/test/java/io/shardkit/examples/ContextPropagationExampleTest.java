package io.shardkit.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardkit.context.junit.LeakGuardExtension;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Runs the example so it cannot rot: the same id at every hop, never more time. */
@ExtendWith(LeakGuardExtension.class)
class ContextPropagationExampleTest {

  @Test
  void theIdCrossesTheEventBusAndGrpcWithShrinkingTime() throws Exception {
    Vertx vertx = Vertx.vertx();
    try {
      JsonArray trail =
          ContextPropagationExample.run(vertx)
              .toCompletionStage()
              .toCompletableFuture()
              .get(30, TimeUnit.SECONDS);

      assertThat(trail).hasSize(4);
      String expectedGid = trail.getJsonObject(0).getString("gid");
      long previous = Long.MAX_VALUE;
      for (int i = 0; i < trail.size(); i++) {
        JsonObject hop = trail.getJsonObject(i);
        assertThat(hop.getString("hop"))
            .isEqualTo(new String[] {"orders", "inventory", "payments", "audit"}[i]);
        assertThat(hop.getString("gid")).isEqualTo(expectedGid);
        assertThat(hop.getLong("timeLeftMs")).isLessThanOrEqualTo(previous);
        previous = hop.getLong("timeLeftMs");
      }
      assertThat(trail.getJsonObject(0).getLong("timeLeftMs")).isLessThanOrEqualTo(10_000);
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }
}
