package dev.ferry.agent.tracking;

import java.time.Duration;

/** What one round's copy phase did. Pages are 4 KiB. */
public record CopyFigures(long dirtyPages, long zeroPages, long bytesRead, long totalPages, Duration copyTime) {}
