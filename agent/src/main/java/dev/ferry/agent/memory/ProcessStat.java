package dev.ferry.agent.memory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The fields of /proc/PID/stat (or /proc/PID/task/TID/stat) Ferry uses. The command name may
 * contain spaces and parentheses, so fields are counted from the last ')'.
 */
public record ProcessStat(int pid, String command, char state, int parentPid, long flags) {
  /** PF_KTHREAD in the flags field: a kernel thread, no user memory. */
  public static final long PF_KTHREAD = 0x00200000L;

  public boolean kernelThread() {
    return (flags & PF_KTHREAD) != 0;
  }

  /** 'T' (stopped by a signal) or 't' (tracing stop). */
  public boolean stopped() {
    return state == 'T' || state == 't';
  }

  public boolean zombie() {
    return state == 'Z' || state == 'X';
  }

  /** Reads a stat file; throws NoSuchFileException when the task is gone. */
  public static ProcessStat read(Path statFile) throws IOException {
    return parse(new String(Files.readAllBytes(statFile), StandardCharsets.ISO_8859_1));
  }

  public static ProcessStat of(int pid) throws IOException {
    return read(Path.of("/proc", Integer.toString(pid), "stat"));
  }

  /** Parses a stat line; pure. */
  public static ProcessStat parse(String line) {
    int open = line.indexOf('(');
    int close = line.lastIndexOf(')');
    int pid = Integer.parseInt(line.substring(0, open).trim());
    String command = line.substring(open + 1, close);
    String[] f = line.substring(close + 2).trim().split(" ");
    // f[0]=state(3) f[1]=ppid(4) f[2]=pgrp f[3]=session f[4]=tty f[5]=tpgid f[6]=flags(9)
    return new ProcessStat(pid, command, f[0].charAt(0), Integer.parseInt(f[1]), Long.parseUnsignedLong(f[6]));
  }
}
