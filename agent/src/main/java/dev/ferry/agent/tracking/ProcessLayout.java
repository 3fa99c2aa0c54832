package dev.ferry.agent.tracking;

import java.util.List;

/**
 * One process of the tracked tree as a round saw it: its copyable areas now, and the areas that
 * vanished since the previous round (the destination drops their pages).
 */
public record ProcessLayout(int pid, List<AddressRange> areas, List<AddressRange> removed, int thpAreas) {
  public ProcessLayout {
    areas = List.copyOf(areas);
    removed = List.copyOf(removed);
  }
}
