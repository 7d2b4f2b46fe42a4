package io.shardkit.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.security.SecureRandom;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class KafkaClusterIdTest {

  /**
   * Draws whose first byte is 0xF8 encode to an id starting with '-', which kafka-storage rejects.
   */
  @Test
  void anIdThatWouldReadAsAnOptionIsDrawnAgain() {
    int[] draws = {0};
    SecureRandom random =
        new SecureRandom() {
          @Override
          public void nextBytes(byte[] bytes) {
            Arrays.fill(bytes, draws[0]++ < 2 ? (byte) 0xF8 : (byte) 0x11);
          }
        };
    String id = KafkaBroker.clusterId(random);
    assertEquals(3, draws[0]);
    assertFalse(id.startsWith("-"), id);
    assertEquals(22, id.length());
  }
}
