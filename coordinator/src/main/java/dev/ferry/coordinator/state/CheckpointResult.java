package dev.ferry.coordinator.state;

/**
 * What the source's checkpoint reported (freeze start as wall-clock time, for the downtime).
 *
 * @param parentUsed CRIU used the pre-copied pages (false: it fell back to a full dump)
 */
public record CheckpointResult(long freezeStartedUnixMillis, long finalImagesBytes, boolean parentUsed,
    String detail) {}
