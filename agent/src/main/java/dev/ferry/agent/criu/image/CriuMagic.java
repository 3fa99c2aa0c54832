package dev.ferry.agent.criu.image;

/**
 * CRIU image magics (criu/include/magic.h, images v1.1): most images start with
 * IMG_COMMON_MAGIC then their own magic; service images (stats, irmap cache) with
 * IMG_SERVICE_MAGIC; inventory.img with its own magic only; pages-N.img is raw, no header.
 */
public enum CriuMagic {
  INVENTORY(0x58313116, 0),
  PAGEMAP(0x56084025, CriuMagic.IMG_COMMON),
  MM(0x57492820, CriuMagic.IMG_COMMON),
  CORE(0x55053847, CriuMagic.IMG_COMMON),
  STATS(0x57093306, CriuMagic.IMG_SERVICE);

  static final int IMG_COMMON = 0x54564319;
  static final int IMG_SERVICE = 0x55105940;

  private final int magic;
  private final int head;

  CriuMagic(int magic, int head) {
    this.magic = magic;
    this.head = head;
  }

  public int magic() {
    return magic;
  }

  /** The leading magic (IMG_COMMON or IMG_SERVICE), 0 for none. */
  public int head() {
    return head;
  }

  static CriuMagic of(int magic) {
    for (CriuMagic m : values()) {
      if (m.magic == magic) {
        return m;
      }
    }
    return null;
  }
}
