package dev.ferry.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class ThreadCpuTest {
  @Test
  void poolThreadsFoldTogetherButC1AndC2StayApart() {
    assertEquals("grpc-default-worker-ELG-N-N", ThreadCpu.fold("grpc-default-worker-ELG-1-12"));
    assertEquals("C1 CompilerThreN", ThreadCpu.fold("C1 CompilerThre0"));
    assertEquals("C2 CompilerThreN", ThreadCpu.fold("C2 CompilerThre3"));
    assertEquals("GC Thread#N", ThreadCpu.fold("GC Thread#1"));
  }
}
