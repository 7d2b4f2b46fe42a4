package io.shardkit.router.fuzz;

/** A column of a generated table. */
record FuzzColumn(String name, ColumnType type) {

  String ddl() {
    return "`" + name + "` " + type.definition();
  }
}
