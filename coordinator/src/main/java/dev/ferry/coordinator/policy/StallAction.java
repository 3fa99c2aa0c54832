package dev.ferry.coordinator.policy;

/** What to do when pre-copy stops converging (the operator's {@code --on-stall}). */
public enum StallAction {
  /** QEMU auto-converge: slow the process 20 %, then 10 % more each stalled round, at most 99 %. */
  THROTTLE,
  /** Freeze anyway and accept a downtime above the limit. */
  FREEZE,
  /** Give up; the process stays where it is. */
  ABORT
}
