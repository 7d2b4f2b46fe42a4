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

  /** Whether the integer column is UNSIGNED. */
  public boolean unsigned() {
    return columnType.contains("unsigned");
  }
}
