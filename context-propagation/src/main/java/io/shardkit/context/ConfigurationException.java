package io.shardkit.context;

/**
 * Invalid configuration, rejected when it is built, never silently replaced by a default. The
 * message names the field (as a path such as {@code tables.t_order.databaseStrategy.column}) and
 * the offending value.
 */
public class ConfigurationException extends ShardkitException {

  private static final long serialVersionUID = 1L;

  private final String field;

  public ConfigurationException(String field, String message) {
    super(field + ": " + message);
    this.field = field;
  }

  public ConfigurationException(String field, String message, Throwable cause) {
    super(field + ": " + message, cause);
    this.field = field;
  }

  /** The path of the configuration field that was rejected. */
  public String field() {
    return field;
  }
}
