package io.shardkit.router.impl.algorithm;

/**
 * A built-in algorithm that hashes its values, and so receives the string values of text columns as
 * {@link CollationKey}s: the hash of the sort key is the same for every collation-equal spelling of
 * a value, where the hash of the text as written is not. Other algorithms receive the text.
 */
public interface CollationKeyed {}
