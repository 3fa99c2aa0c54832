package dev.ferry.coordinator.zk;

/** A znode value with the version to compare-and-set against. */
public record Versioned<T>(T value, int version) {}
