package io.shardkit.examples.snippets;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardkit.context.ScopeOptions;
import io.shardkit.context.TxScope;
import io.shardkit.context.junit.LeakGuardExtension;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** context-propagation/README.md, "In tests", compiled and run (see ReadmeSnippetsTest). */
@ExtendWith({VertxExtension.class, LeakGuardExtension.class})
class LeakGuardSnippetTest {

  @Test
  void aScopeThatEndsLeavesNothingOpen(Vertx vertx, VertxTestContext test) {
    TxScope.run(
            vertx,
            ScopeOptions.ofTimeout(Duration.ofSeconds(2)),
            () -> Future.succeededFuture("placed"))
        .onComplete(
            test.succeeding(
                actual -> test.verify(() -> assertThat(actual).isEqualTo("placed")).completeNow()));
  }
}
