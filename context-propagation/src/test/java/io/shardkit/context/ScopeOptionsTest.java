package io.shardkit.context;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.json.JsonObject;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class ScopeOptionsTest {

  @Test
  void defaultsHaveTheDefaultTimeoutAndInheritEverythingElse() {
    ScopeOptions actual = ScopeOptions.defaults();

    assertThat(actual.timeout()).isEqualTo(ScopeOptions.DEFAULT_TIMEOUT);
    assertThat(actual.globalId()).isEmpty();
    assertThat(actual.branchId()).isEmpty();
    assertThat(actual.routingHint()).isEmpty();
  }

  @Test
  void zeroNegativeMissingAndHugeTimeoutsAreRejectedNamingTheField() {
    assertThatThrownBy(() -> ScopeOptions.ofTimeout(Duration.ZERO))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("timeout")
        .hasMessageContaining("PT0S");
    assertThatThrownBy(() -> ScopeOptions.ofTimeout(Duration.ofMillis(-1)))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("PT-0.001S");
    assertThatThrownBy(() -> ScopeOptions.ofTimeout(null))
        .isInstanceOf(ConfigurationException.class)
        .satisfies(e -> assertThat(((ConfigurationException) e).field()).isEqualTo("timeout"));
    assertThatThrownBy(() -> ScopeOptions.ofTimeout(Duration.ofHours(25)))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("PT25H");
  }

  @Test
  void idsMustBeUsableAsXaGtrid() {
    assertThatThrownBy(() -> ScopeOptions.builder().globalId("it's"))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("globalId")
        .hasMessageContaining("it's");
    assertThatThrownBy(() -> ScopeOptions.builder().globalId("x".repeat(65)))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("65");
    assertThatThrownBy(() -> ScopeOptions.builder().branchId(""))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("branchId");
    assertThat(ScopeOptions.builder().globalId("x".repeat(64)).build().globalId())
        .contains("x".repeat(64));
  }

  @Test
  void jsonRoundTrips() {
    ScopeOptions expected =
        ScopeOptions.builder()
            .timeout(Duration.ofMillis(1500))
            .globalId("order-42")
            .branchId("ds_1")
            .build();

    ScopeOptions actual = ScopeOptions.fromJson(expected.toJson());

    assertThat(actual).isEqualTo(expected);
    assertThat(expected.toJson().getLong("timeoutMs")).isEqualTo(1500L);
  }

  @Test
  void jsonRejectsUnknownFieldsAndBadTimeouts() {
    assertThatThrownBy(() -> ScopeOptions.fromJson(new JsonObject().put("timeout", 5)))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("timeout: unknown scope option");
    assertThatThrownBy(() -> ScopeOptions.fromJson(new JsonObject().put("timeoutMs", "5s")))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("timeoutMs")
        .hasMessageContaining("5s");
    assertThatThrownBy(() -> ScopeOptions.fromJson(new JsonObject().put("timeoutMs", 0)))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("timeoutMs");
    assertThat(ScopeOptions.fromJson(new JsonObject())).isEqualTo(ScopeOptions.defaults());
  }

  @Test
  void newGlobalIdGeneratesADistinctValidId() {
    String first = ScopeOptions.builder().newGlobalId().build().globalId().orElseThrow();
    String second = ScopeOptions.builder().newGlobalId().build().globalId().orElseThrow();

    assertThat(first).isNotEqualTo(second);
    assertThat(TxContext.isValidId(first)).isTrue();
  }
}
