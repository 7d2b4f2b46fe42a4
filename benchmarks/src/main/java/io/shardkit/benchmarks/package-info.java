/** JMH benchmarks of shardkit and the one-command benchmark runner. */
package io.shardkit.benchmarks;
