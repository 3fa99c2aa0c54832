package dev.ferry.agent.memory;

import java.nio.ByteBuffer;

/**
 * Reads another process's memory with process_vm_readv into one page-aligned direct buffer, many
 * remote ranges (iovecs) per system call.
 *
 * <p>Confined to one thread: the buffer and iovec arrays are reused call after call.
 */
public final class RemoteMemory {
  /** IOV_MAX on Linux. */
  public static final int MAX_IOVECS = 1024;

  private final ByteBuffer data;
  private final long dataAddress;
  private final ByteBuffer localIov;
  private final long localIovAddress;
  private final ByteBuffer remoteIov;
  private final long remoteIovAddress;

  /** @param bufferBytes size of the data buffer, a multiple of the page size */
  public RemoteMemory(int bufferBytes) {
    if (bufferBytes <= 0 || bufferBytes % PageSize.BYTES != 0) {
      throw new IllegalArgumentException("buffer must be a positive multiple of 4096 bytes: " + bufferBytes);
    }
    this.data = AlignedBuffers.allocate(bufferBytes);
    this.dataAddress = AlignedBuffers.address(data);
    this.localIov = AlignedBuffers.allocate(16);
    this.localIovAddress = AlignedBuffers.address(localIov);
    this.remoteIov = AlignedBuffers.allocate(16 * MAX_IOVECS);
    this.remoteIovAddress = AlignedBuffers.address(remoteIov);
  }

  /** The data buffer (page aligned, native order); callers use absolute gets only. */
  public ByteBuffer buffer() {
    return data;
  }

  public int capacityPages() {
    return data.capacity() / PageSize.BYTES;
  }

  /** Sets remote iovec {@code index} to [address, address + length). */
  public void remote(int index, long address, long length) {
    remoteIov.putLong(index * 16, address);
    remoteIov.putLong(index * 16 + 8, length);
  }

  /**
   * Reads the first {@code iovecs} remote ranges, back to back, into the buffer from offset 0.
   *
   * @return bytes read (a short count when a remote page could not be read), or {@code -errno}
   */
  public long read(int pid, int iovecs, long totalBytes) {
    if (totalBytes > data.capacity()) {
      throw new IllegalArgumentException("read of " + totalBytes + " bytes exceeds the buffer");
    }
    localIov.putLong(0, dataAddress);
    localIov.putLong(8, totalBytes);
    long n = LinuxLibc.process_vm_readv(pid, localIovAddress, 1, remoteIovAddress, iovecs, 0);
    return n >= 0 ? n : -LinuxLibc.errno();
  }
}
