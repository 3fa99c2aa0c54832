package dev.ferry.bench;

import com.sun.management.GarbageCollectionNotificationInfo;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import javax.management.ListenerNotFoundException;
import javax.management.Notification;
import javax.management.NotificationEmitter;
import javax.management.NotificationListener;
import javax.management.openmbean.CompositeData;

/**
 * The peak heap use of this JVM since {@link #start}: the heap is fullest just before a
 * collection, and every collection reports its before-figures, so listening to them finds the
 * peak exactly, without a polling thread (a 5 ms sampler cost CPU the benchmark counts, and could
 * miss the peak). {@link #sampleNow} covers the use since the last collection.
 */
final class HeapPeak implements AutoCloseable {
  private final AtomicLong peak = new AtomicLong();
  private final List<NotificationEmitter> emitters = new ArrayList<>();
  private final NotificationListener listener = this::onNotification;

  static HeapPeak start() {
    HeapPeak h = new HeapPeak();
    for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
      if (gc instanceof NotificationEmitter e) {
        e.addNotificationListener(h.listener, null, null);
        h.emitters.add(e);
      }
    }
    h.sampleNow();
    return h;
  }

  private void onNotification(Notification n, Object handback) {
    if (!n.getType().equals(GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION)) {
      return;
    }
    GarbageCollectionNotificationInfo info = GarbageCollectionNotificationInfo.from((CompositeData) n.getUserData());
    long used = 0;
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      MemoryUsage before = pool.getType() == MemoryType.HEAP ? info.getGcInfo().getMemoryUsageBeforeGc().get(pool.getName()) : null;
      if (before != null) {
        used += before.getUsed();
      }
    }
    peak.accumulateAndGet(used, Math::max);
  }

  /** Counts the heap in use now. */
  void sampleNow() {
    peak.accumulateAndGet(ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed(), Math::max);
  }

  long peakBytes() {
    sampleNow();
    return peak.get();
  }

  @Override
  public void close() {
    for (NotificationEmitter e : emitters) {
      try {
        e.removeNotificationListener(listener);
      } catch (ListenerNotFoundException ignored) {
        // never added
      }
    }
  }
}
