package io.shardkit.context;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class TxContextTest {

  @Test
  void generatedIdsAreShortAsciiAndUnique() {
    int expectedCount = 200_000;
    Set<String> ids = new HashSet<>();
    for (int i = 0; i < expectedCount; i++) {
      String id = TxContext.newGlobalId();
      ids.add(id);
      assertThat(id.getBytes(StandardCharsets.US_ASCII)).hasSizeLessThanOrEqualTo(64);
    }

    assertThat(ids).hasSize(expectedCount);
    assertThat(ids).allMatch(TxContext::isValidId);
    assertThat(ids.iterator().next()).hasSize(26).matches("[0-9A-Z]+");
  }

  @Test
  void generatedIdsSortByCreationTime() throws Exception {
    String earlier = TxContext.newGlobalId();
    Thread.sleep(5);
    String later = TxContext.newGlobalId();

    assertThat(earlier.substring(0, 10)).isLessThan(later.substring(0, 10));
  }

  @Test
  void withMethodsCopyAndValidate() {
    Deadline deadline = Deadline.in(Duration.ofSeconds(1));
    TxContext original = TxContext.of("gid-1", deadline);

    TxContext actual =
        original
            .withBranchId("ds_0")
            .withRoutingHint(RoutingHint.forceDataSource("ds_0"))
            .withGlobalId("gid-2");

    assertThat(original.branchId()).isEmpty();
    assertThat(actual.globalId()).isEqualTo("gid-2");
    assertThat(actual.branchId()).contains("ds_0");
    assertThat(actual.deadline()).isSameAs(deadline);
    assertThat(actual.routingHint().flatMap(RoutingHint::dataSource)).contains("ds_0");
    assertThat(actual.withBranchId(null).branchId()).isEmpty();
    assertThat(actual.spanContext().isValid()).isFalse();
    assertThatThrownBy(() -> original.withBranchId("a b"))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("branchId");
    assertThatThrownBy(() -> TxContext.of("", deadline))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("globalId");
  }

  @Test
  void routingHintKeepsValuesPerTableInOrder() {
    RoutingHint hint =
        RoutingHint.builder()
            .dataSource("ds_1")
            .databaseValues("t_order", 10L, 11L)
            .tableValues("t_order", 3)
            .tableValues("t_order", 4)
            .databaseValues("t_user", List.of("u1"))
            .build();

    assertThat(hint.dataSource()).contains("ds_1");
    assertThat(hint.databaseValues("t_order")).containsExactly(10L, 11L);
    assertThat(hint.tableValues("t_order")).containsExactly(3, 4);
    assertThat(hint.databaseValues("t_user")).containsExactly("u1");
    assertThat(hint.tableValues("t_missing")).isEmpty();
    assertThat(hint.tables()).containsExactly("t_order", "t_user");
    assertThat(hint.toBuilder().build()).isEqualTo(hint);
    assertThat(RoutingHint.empty().isEmpty()).isTrue();
    assertThatThrownBy(() -> hint.databaseValues("t_order").add(1))
        .isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void routingHintRejectsNullValuesAndBlankNames() {
    assertThatThrownBy(() -> RoutingHint.builder().databaseValues("t_order", 1, null))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("routingHint.databaseValues.t_order");
    assertThatThrownBy(() -> RoutingHint.builder().tableValues(" ", 1))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("routingHint.tableValues");
    assertThatThrownBy(() -> RoutingHint.forceDataSource(""))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("routingHint.dataSource");
  }

  @Test
  void timeoutExceptionMessageNamesIdElapsedAndTimeout() {
    ShardkitTimeoutException actual =
        new ShardkitTimeoutException(
            "gid-7", Duration.ofMillis(101), Duration.ofMillis(100), "committing", null);

    assertThat(actual)
        .hasMessage(
            "global transaction gid-7: deadline exceeded after 101 ms (timeout 100 ms) while"
                + " committing");
    assertThat(actual.globalId()).isEqualTo("gid-7");
    assertThat(actual.elapsed()).isEqualTo(Duration.ofMillis(101));
    assertThat(actual.timeout()).isEqualTo(Duration.ofMillis(100));
  }
}
