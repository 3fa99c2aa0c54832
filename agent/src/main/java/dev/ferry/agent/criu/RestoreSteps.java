package dev.ferry.agent.criu;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Where a step of the destination's switch-over went, in wall time on the thread that does it,
 * step by step (for the operator: the bench's phases line, the agent's restore log). Also the
 * CPU time that thread got over the steps and the JVM's as a whole: a thread getting much less
 * CPU than wall time was waiting (for criu) or starved (background work, daemons, JIT on a
 * 2-vCPU emulated VM).
 *
 * @param steps in order, back to back
 * @param threadCpu CPU time of the thread over the steps; negative when not measurable
 * @param jvmCpu CPU time of the whole JVM over the steps; negative when not measurable
 */
public record RestoreSteps(List<Step> steps, Duration threadCpu, Duration jvmCpu) {
  public static final RestoreSteps NONE = new RestoreSteps(List.of(), Duration.ofNanos(-1), Duration.ofNanos(-1));

  public RestoreSteps {
    steps = List.copyOf(steps);
  }

  /** One step: its name, its wall time, and (when it has them) its own steps. */
  public record Step(String name, Duration time, RestoreSteps inner) {}

  /** The wall time of the step {@code name}, or zero when there is none. */
  public Duration time(String name) {
    return steps.stream().filter(s -> s.name().equals(name)).map(Step::time).findFirst().orElse(Duration.ZERO);
  }

  /** The sum of all steps. */
  public Duration total() {
    Duration t = Duration.ZERO;
    for (Step s : steps) {
      t = t.plus(s.time());
    }
    return t;
  }

  /** E.g. {@code prepare 3, build 120 [images 40, plan 5], criu 300 ms; cpu thread 200, jvm 410 ms}. */
  public String describe() {
    StringBuilder b = new StringBuilder();
    appendSteps(b);
    b.append(" ms");
    if (!threadCpu.isNegative() || !jvmCpu.isNegative()) {
      b.append("; cpu");
      if (!threadCpu.isNegative()) {
        b.append(" thread ").append(threadCpu.toMillis());
      }
      if (!jvmCpu.isNegative()) {
        b.append(!threadCpu.isNegative() ? "," : "").append(" jvm ").append(jvmCpu.toMillis());
      }
      b.append(" ms");
    }
    return b.toString();
  }

  private void appendSteps(StringBuilder b) {
    for (int i = 0; i < steps.size(); i++) {
      Step s = steps.get(i);
      b.append(i == 0 ? "" : ", ").append(s.name()).append(' ').append(String.format(Locale.ROOT, "%d", s.time().toMillis()));
      if (!s.inner().steps().isEmpty()) {
        b.append(" [");
        s.inner().appendSteps(b);
        b.append(']');
      }
    }
  }

  /** Starts timing steps on the calling thread (confined to it). */
  public static Clock start() {
    return new Clock();
  }

  /** Times consecutive steps: each {@link #lap} ends the step begun at the previous one. */
  public static final class Clock {
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
    private final List<Step> steps = new ArrayList<>();
    private final long threadCpu0 = threadCpu();
    private final long jvmCpu0 = jvmCpu();
    private long last = System.nanoTime();

    private Clock() {}

    /** Ends the current step as {@code name}. */
    public void lap(String name) {
      lap(name, NONE);
    }

    /** Ends the current step as {@code name}, with its own breakdown. */
    public void lap(String name, RestoreSteps inner) {
      long now = System.nanoTime();
      steps.add(new Step(name, Duration.ofNanos(now - last), inner));
      last = now;
    }

    /** The steps so far, with the CPU times since {@link #start}. */
    public RestoreSteps done() {
      long t = threadCpu();
      long j = jvmCpu();
      return new RestoreSteps(steps, Duration.ofNanos(t < 0 || threadCpu0 < 0 ? -1 : t - threadCpu0),
          Duration.ofNanos(j < 0 || jvmCpu0 < 0 ? -1 : j - jvmCpu0));
    }

    private static long threadCpu() {
      try {
        return THREADS.isCurrentThreadCpuTimeSupported() ? THREADS.getCurrentThreadCpuTime() : -1;
      } catch (UnsupportedOperationException e) {
        return -1;
      }
    }

    private static long jvmCpu() {
      return ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os
          ? os.getProcessCpuTime() : -1;
    }
  }
}
