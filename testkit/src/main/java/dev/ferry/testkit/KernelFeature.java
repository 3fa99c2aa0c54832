package dev.ferry.testkit;

/** A kernel/host capability that lab-only tests need. */
public enum KernelFeature {
    SOFT_DIRTY("soft-dirty PTEs (CONFIG_MEM_SOFT_DIRTY)"),
    CRIU("CRIU checkpoint/restore (criu check)"),
    NETWORK_NAMESPACES("network namespaces joined by veth pairs (iproute2 ip, veth, CAP_NET_ADMIN)");

    private final String description;

    KernelFeature(String description) {
        this.description = description;
    }

    /** What a person reads in a skip or failure message. */
    public String description() {
        return description;
    }
}
