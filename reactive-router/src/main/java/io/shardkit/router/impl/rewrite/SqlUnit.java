package io.shardkit.router.impl.rewrite;

import io.vertx.sqlclient.Tuple;

/**
 * One statement to run on one data source: the rewritten SQL and its parameters (null when the
 * caller used a text query).
 */
public record SqlUnit(String dataSource, String sql, Tuple params) {}
