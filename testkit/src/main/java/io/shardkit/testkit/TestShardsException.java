package io.shardkit.testkit;

import io.shardkit.context.ShardkitException;

/** No shard could be provided or controlled; the message says why and what to install. */
public class TestShardsException extends ShardkitException {

  private static final long serialVersionUID = 1L;

  public TestShardsException(String message) {
    super(message);
  }

  public TestShardsException(String message, Throwable cause) {
    super(message, cause);
  }
}
