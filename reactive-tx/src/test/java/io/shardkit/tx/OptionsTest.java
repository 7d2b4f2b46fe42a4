package io.shardkit.tx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardkit.context.ConfigurationException;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Options are validated when built and round-trip through JSON. */
class OptionsTest {

  @Test
  void transactionTimeoutIsMandatoryAndPositive() {
    assertThatThrownBy(() -> TransactionOptions.ofTimeout(null))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("timeout");
    assertThatThrownBy(() -> TransactionOptions.ofTimeout(Duration.ZERO))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("PT0S");
    assertThatThrownBy(() -> TransactionOptions.ofTimeout(Duration.ofDays(2)))
        .isInstanceOf(ConfigurationException.class);
    assertThatThrownBy(() -> TransactionOptions.fromJson(new JsonObject()))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("timeoutMs");
    assertThatThrownBy(() -> TransactionOptions.fromJson(new JsonObject().put("timeout", 5)))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("unknown");
    TransactionOptions expected = TransactionOptions.ofTimeout(Duration.ofMillis(1500));
    assertThat(TransactionOptions.fromJson(expected.toJson())).isEqualTo(expected);
  }

  @Test
  void transactionsOptionsRejectBadValuesNamingTheField() {
    assertThatThrownBy(() -> TransactionsOptions.builder(" "))
        .isInstanceOf(ConfigurationException.class)
        .extracting(e -> ((ConfigurationException) e).field())
        .isEqualTo("logDataSource");
    assertThatThrownBy(() -> TransactionsOptions.builder("ds_0").tablePrefix("bad-name"))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("bad-name");
    assertThatThrownBy(
            () ->
                TransactionsOptions.builder("ds_0")
                    .tablePrefix("app")
                    .tcc(TccOptions.builder().tablePrefix("other").build())
                    .build())
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("tcc.tablePrefix")
        .hasMessageContaining("one coordinator log");
    assertThatThrownBy(
            () ->
                TransactionsOptions.builder("ds_0")
                    .tcc(TccOptions.builder().logDataSource("ds_1").build())
                    .build())
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("tcc.logDataSource");
    assertThatThrownBy(
            () -> TransactionsOptions.builder("ds_0").recoveryGrace(Duration.ofSeconds(-1)))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("recoveryGrace");
    assertThatThrownBy(() -> TransactionsOptions.builder("ds_0").recoveryInterval(Duration.ZERO))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("recoveryInterval");
    assertThatThrownBy(
            () ->
                TransactionsOptions.fromJson(
                    new JsonObject().put("logDataSource", "ds_0").put("graceMs", 5)))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("graceMs");
  }

  @Test
  void transactionsOptionsRoundTripThroughJson() {
    TransactionsOptions expected =
        TransactionsOptions.builder("ds_1")
            .tablePrefix("my")
            .recoveryGrace(Duration.ofSeconds(3))
            .recoveryInterval(Duration.ofSeconds(2))
            .rollbackTimeout(Duration.ofMillis(700))
            .logRetention(Duration.ZERO)
            .build();
    TransactionsOptions actual = TransactionsOptions.fromJson(expected.toJson());
    assertThat(actual.toJson()).isEqualTo(expected.toJson());
    assertThat(actual.logTable()).isEqualTo("my_tx");
    assertThat(actual.tcc().txTable()).as("one log for every protocol").isEqualTo("my_tx");
    assertThat(TransactionsOptions.of("ds_0").logTable()).isEqualTo("shardkit_tx");
    assertThat(TransactionsOptions.of("ds_0").recoveryGrace())
        .isEqualTo(TransactionsOptions.DEFAULT_RECOVERY_GRACE);
  }

  @Test
  void oneJsonObjectConfiguresXaAndTheTccSection() {
    JsonObject json =
        new JsonObject()
            .put("logDataSource", "ds_1")
            .put("recoveryGraceMs", 2000)
            .put(
                "tcc",
                new JsonObject()
                    .put("phaseTimeoutMs", 1500)
                    .put("tablePrefix", "app_tcc")
                    .put("instanceId", "app-1"));
    TransactionsOptions actual = TransactionsOptions.fromJson(json);
    assertThat(actual.recoveryGrace()).isEqualTo(Duration.ofSeconds(2));
    assertThat(actual.tcc().phaseTimeout()).isEqualTo(Duration.ofMillis(1500));
    assertThat(actual.tcc().tablePrefix()).isEqualTo("app_tcc");
    assertThat(actual.tcc().logDataSource())
        .as("the TCC log defaults to the manager's log data source")
        .isEqualTo("ds_1");
    assertThat(TransactionsOptions.fromJson(actual.toJson()).toJson()).isEqualTo(actual.toJson());
    assertThat(new TransactionsOptions(json).toJson())
        .as("the data-object constructor reads the same")
        .isEqualTo(actual.toJson());
    assertThat(new TccOptions(actual.tcc().toJson()).toJson()).isEqualTo(actual.tcc().toJson());
    assertThatThrownBy(
            () ->
                TransactionsOptions.fromJson(
                    new JsonObject()
                        .put("logDataSource", "ds_0")
                        .put("tcc", new JsonObject().put("phaseTimeoutMs", -1))))
        .isInstanceOf(ConfigurationException.class)
        .extracting(e -> ((ConfigurationException) e).field())
        .isEqualTo("tcc.phaseTimeoutMs");
    assertThatThrownBy(
            () ->
                TransactionsOptions.fromJson(
                    new JsonObject().put("logDataSource", "ds_0").put("tcc", "no")))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("tcc");
  }

  @Test
  void theQueueDelayTargetsAreOffByDefaultReadFromJsonAndChecked() {
    assertThat(TransactionsOptions.of("ds_0").queueDelayTarget()).isZero();
    assertThat(TccOptions.defaults().queueDelayTarget()).isZero();
    TransactionsOptions actual =
        TransactionsOptions.fromJson(
            new JsonObject()
                .put("logDataSource", "ds_0")
                .put("queueDelayTargetMs", 10)
                .put("tcc", new JsonObject().put("queueDelayTargetMs", 20)));
    assertThat(actual.queueDelayTarget()).isEqualTo(Duration.ofMillis(10));
    assertThat(actual.tcc().queueDelayTarget()).isEqualTo(Duration.ofMillis(20));
    assertThat(TransactionsOptions.fromJson(actual.toJson()).toJson()).isEqualTo(actual.toJson());
    assertThatThrownBy(
            () ->
                TransactionsOptions.fromJson(
                    new JsonObject().put("logDataSource", "ds_0").put("queueDelayTargetMs", -1)))
        .isInstanceOf(ConfigurationException.class)
        .extracting(e -> ((ConfigurationException) e).field())
        .isEqualTo("queueDelayTargetMs");
    assertThatThrownBy(
            () ->
                TransactionsOptions.fromJson(
                    new JsonObject()
                        .put("logDataSource", "ds_0")
                        .put("tcc", new JsonObject().put("queueDelayTargetMs", -5))))
        .isInstanceOf(ConfigurationException.class)
        .extracting(e -> ((ConfigurationException) e).field())
        .isEqualTo("tcc.queueDelayTargetMs");
  }
}
