package io.shardkit.tx.tcc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardkit.context.ConfigurationException;
import io.shardkit.tx.TccAction;
import io.shardkit.tx.TccBranch;
import io.shardkit.tx.TccOptions;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Options and action definitions: pure, no database. */
class TccOptionsTest {

  @Test
  void jsonRoundTripKeepsEveryValue() {
    TccOptions expected =
        TccOptions.builder()
            .defaultTimeout(Duration.ofSeconds(9))
            .phaseTimeout(Duration.ofSeconds(3))
            .completionTimeout(Duration.ofSeconds(20))
            .retryInitialDelay(Duration.ofMillis(10))
            .retryMaxDelay(Duration.ofSeconds(4))
            .logDataSource("ds_3")
            .tablePrefix("my_tcc")
            .recoveryInterval(Duration.ofSeconds(7))
            .recoveryGrace(Duration.ofSeconds(1))
            .recoveryLease(Duration.ofSeconds(40))
            .recoveryBatchSize(17)
            .fenceRetention(Duration.ofDays(2))
            .logRetention(Duration.ofDays(3))
            .cleanupInterval(Duration.ofMinutes(5))
            .instanceId("app-7")
            .build();

    TccOptions actual = TccOptions.fromJson(expected.toJson());

    assertThat(actual.toJson()).isEqualTo(expected.toJson());
    assertThat(actual.fenceTable()).isEqualTo("my_tcc_fence");
    assertThat(actual.txTable()).isEqualTo("my_tcc_tx");
  }

  @Test
  void invalidValuesAreRejectedNamingTheField() {
    assertThatThrownBy(() -> TccOptions.fromJson(new JsonObject().put("phaseTimeoutMs", 0)))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageStartingWith("phaseTimeoutMs");
    assertThatThrownBy(() -> TccOptions.fromJson(new JsonObject().put("retries", 3)))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("unknown TCC option");
    assertThatThrownBy(() -> TccOptions.builder().tablePrefix("bad-name").build())
        .isInstanceOf(ConfigurationException.class)
        .hasMessageStartingWith("tablePrefix");
    assertThatThrownBy(
            () ->
                TccOptions.builder()
                    .phaseTimeout(Duration.ofSeconds(10))
                    .completionTimeout(Duration.ofSeconds(5))
                    .build())
        .isInstanceOf(ConfigurationException.class)
        .hasMessageStartingWith("phaseTimeout");
    assertThatThrownBy(
            () ->
                TccOptions.builder()
                    .phaseTimeout(Duration.ofSeconds(5))
                    .recoveryLease(Duration.ofSeconds(5))
                    .build())
        .isInstanceOf(ConfigurationException.class)
        .hasMessageStartingWith("recoveryLease");
  }

  @Test
  void actionsNeedANamePlacementAndThreePhases() {
    assertThatThrownBy(() -> TccAction.builder("has space", Bank.CODEC))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("has space");
    assertThatThrownBy(
            () ->
                TccAction.builder("x", Bank.CODEC)
                    .onTry((c, a) -> null)
                    .onConfirm((c, a) -> null)
                    .onCancel((c, a) -> null)
                    .build())
        .isInstanceOf(ConfigurationException.class)
        .hasMessageStartingWith("actions.x.placement");
    assertThatThrownBy(
            () ->
                TccAction.builder("x", Bank.CODEC)
                    .dataSource("ds_0")
                    .onTry((c, a) -> null)
                    .onCancel((c, a) -> null)
                    .build())
        .isInstanceOf(ConfigurationException.class)
        .hasMessageStartingWith("actions.x.confirm");
    assertThat(TccAction.remote("svc.debit", Bank.CODEC).isLocal()).isFalse();
    assertThat(new Bank().debit.dataSourceFor(new Bank.Move(6, 1), TccTestSupport.rules(4)))
        .isEqualTo("ds_2");
  }

  @Test
  void branchesRejectIdsThatCouldNotBeStoredOrSentSafely() {
    assertThatThrownBy(() -> new TccBranch("g'; DROP", "1", "debit", new JsonObject()))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageStartingWith("globalId");
    assertThatThrownBy(() -> new TccBranch("g1", "", "debit", new JsonObject()))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageStartingWith("branchId");
  }
}
