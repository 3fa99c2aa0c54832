package dev.ferry.agent.tracking;

import java.util.List;

/**
 * What a capture found in one process: its layout for the destination, the runs to copy, the
 * vdso ranges (read through /proc/PID/mem if process_vm_readv refuses them), and how many
 * copyable pages it has now.
 */
record ProcessScan(int pid, List<AddressRange> areas, List<AddressRange> removed, PageRuns runs,
    List<AddressRange> vdso, long copyablePages) {}
