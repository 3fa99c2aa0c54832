package dev.ferry.agent.tracking;

import java.util.ArrayList;
import java.util.List;

/** Set arithmetic on sorted, non-overlapping address range lists; pure. */
final class Ranges {
  private Ranges() {}

  /** The parts of {@code a} not covered by {@code b}. Both sorted ascending, non-overlapping. */
  static List<AddressRange> subtract(List<AddressRange> a, List<AddressRange> b) {
    List<AddressRange> out = new ArrayList<>();
    int j = 0;
    for (AddressRange r : a) {
      long cur = r.start();
      while (j < b.size() && Long.compareUnsigned(b.get(j).end(), cur) <= 0) {
        j++;
      }
      int k = j;
      while (k < b.size() && Long.compareUnsigned(b.get(k).start(), r.end()) < 0) {
        AddressRange cut = b.get(k);
        if (Long.compareUnsigned(cut.start(), cur) > 0) {
          out.add(new AddressRange(cur, cut.start()));
        }
        if (Long.compareUnsigned(cut.end(), cur) > 0) {
          cur = cut.end();
        }
        if (Long.compareUnsigned(cur, r.end()) >= 0) {
          break;
        }
        k++;
      }
      if (Long.compareUnsigned(cur, r.end()) < 0) {
        out.add(new AddressRange(cur, r.end()));
      }
    }
    return out;
  }
}
