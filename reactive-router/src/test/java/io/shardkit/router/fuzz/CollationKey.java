package io.shardkit.router.fuzz;

/**
 * The key of a string under a collation: two strings are equal under the collation exactly when
 * their keys are equal. {@link CollationKeys} asks the reference database.
 */
@FunctionalInterface
interface CollationKey {

  String key(String collation, String value);
}
