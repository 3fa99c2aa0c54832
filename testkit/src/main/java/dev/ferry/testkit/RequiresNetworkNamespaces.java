package dev.ferry.testkit;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The test makes network namespaces joined by veth pairs ({@link LabNetwork}): iproute2's
 * {@code ip}, the veth driver and CAP_NET_ADMIN. Tags it {@code lab}: it runs inside the lab VM
 * ({@code deploy/lab/run-lab-tests}). On a host without the feature it is skipped with a message
 * naming what is missing; inside the lab ({@code FERRY_LAB=1}) a missing feature FAILS it.
 * Detected by probing ({@link KernelFeatures#probeNetworkNamespaces()}), once per test run.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.TYPE, ElementType.METHOD})
@Tag("lab")
@ExtendWith(KernelFeatureExtension.class)
public @interface RequiresNetworkNamespaces {
}
