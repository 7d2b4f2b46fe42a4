package io.shardkit.router.impl.schema;

import java.util.Locale;

/**
 * What the server says about one column of a logical table ({@code information_schema.COLUMNS}).
 *
 * @param name the column name, lower case
 * @param dataType {@code DATA_TYPE}, lower case ({@code int}, {@code varchar}, {@code enum}, ...)
 * @param columnType {@code COLUMN_TYPE}, lower case ({@code bigint(20) unsigned}, {@code
 *     enum('a','b')}, ...)
 * @param collation {@code COLLATION_NAME}, or null for non-string columns
 */
public record ColumnInfo(String name, String dataType, String columnType, String collation) {

  /** How the server compares and converts values of a column. */
  public enum Kind {
    INTEGER,
    DECIMAL,
    FLOAT,
    STRING,
    BINARY,
    DATE,
    DATETIME,
    TIME,
    YEAR,
    ENUM,
    SET,
    JSON,
    BIT,
    OTHER
  }

  public ColumnInfo {
    name = name.toLowerCase(Locale.ROOT);
    dataType = dataType.toLowerCase(Locale.ROOT);
    columnType = columnType == null ? dataType : columnType.toLowerCase(Locale.ROOT);
  }

  /** The column's kind. */
  public Kind kind() {
    return switch (dataType) {
      case "tinyint", "smallint", "mediumint", "int", "integer", "bigint" -> Kind.INTEGER;
      case "decimal", "numeric" -> Kind.DECIMAL;
      case "float", "double", "real" -> Kind.FLOAT;
      case "char", "varchar", "tinytext", "text", "mediumtext", "longtext" -> Kind.STRING;
      case "binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob" -> Kind.BINARY;
      case "date" -> Kind.DATE;
      case "datetime", "timestamp" -> Kind.DATETIME;
      case "time" -> Kind.TIME;
      case "year" -> Kind.YEAR;
      case "enum" -> Kind.ENUM;
      case "set" -> Kind.SET;
      case "json" -> Kind.JSON;
      case "bit" -> Kind.BIT;
      default -> Kind.OTHER;
    };
  }

  /** Whether the server compares the column's values as numbers or temporal values (not text). */
  public boolean comparesAsNonText() {
    return switch (kind()) {
      case INTEGER, DECIMAL, FLOAT, DATE, DATETIME, TIME, YEAR, BIT -> true;
      default -> false;
    };
  }

  /** Whether the column is MariaDB's UUID type. */
  public boolean isUuid() {
    return dataType.equals("uuid");
  }

  /**
   * The binary type whose value orders as the server orders this column's values, for types whose
   * text does not ({@code ::1} before {@code 2001:db8::1}, which its text orders after): {@code
   * BINARY(16)} for INET6, {@code BINARY(4)} for INET4; null for other types.
   */
  public String binaryOrder() {
    return switch (dataType) {
      case "inet6" -> "BINARY(16)";
      case "inet4" -> "BINARY(4)";
      default -> null;
    };
  }

  /**
   * Whether neither the column's values nor a key the server can return order as the server orders
   * them: MariaDB's UUID (ordered by its own segment rules, which differ between versions), spatial
   * types, MySQL's JSON, and types the router does not know. Equal values still have equal text, so
   * grouping and DISTINCT work; ordering across data nodes is refused.
   */
  public boolean orderUnknown() {
    return (kind() == Kind.OTHER || kind() == Kind.JSON) && binaryOrder() == null;
  }

  /** Whether the integer column is UNSIGNED. */
  public boolean unsigned() {
    return columnType.contains("unsigned");
  }
}
