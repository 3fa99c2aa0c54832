package dev.ferry.testkit;

import java.lang.reflect.AnnotatedElement;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.platform.commons.support.AnnotationSupport;

/**
 * Behind {@link RequiresSoftDirty}, {@link RequiresCriu} and {@link RequiresNetworkNamespaces}. On the host a missing feature
 * disables the test with a message naming it; in the lab ({@link LabEnvironment#isLab()}) the
 * condition lets the test through and the before-callbacks fail it, so a lab test is never
 * silently skipped. Probe results are cached in the root extension store (one probe per run).
 */
public final class KernelFeatureExtension implements ExecutionCondition, BeforeAllCallback, BeforeEachCallback {
    private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(KernelFeatureExtension.class);
    static final String WHERE = "runs in the lab, deploy/lab/run-in-vm (deploy/lab/run-lab-tests)";

    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        List<FeatureCheck> missing = missing(context);
        if (missing.isEmpty()) {
            return ConditionEvaluationResult.enabled("kernel features present");
        }
        if (LabEnvironment.isLab()) {
            return ConditionEvaluationResult.enabled("in the lab: a missing feature fails the test");
        }
        return ConditionEvaluationResult.disabled(message(missing) + ": " + WHERE);
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        failInLab(context);
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        failInLab(context);
    }

    private void failInLab(ExtensionContext context) {
        List<FeatureCheck> missing = missing(context);
        if (!missing.isEmpty() && LabEnvironment.isLab()) {
            throw new AssertionError("LAB MISCONFIGURED (FERRY_LAB=1): " + message(missing));
        }
    }

    private static String message(List<FeatureCheck> missing) {
        return String.join("; ", missing.stream().map(FeatureCheck::message).toList());
    }

    private List<FeatureCheck> missing(ExtensionContext context) {
        List<FeatureCheck> missing = new ArrayList<>();
        for (KernelFeature f : required(context)) {
            FeatureCheck check = context.getRoot().getStore(NS)
                    .getOrComputeIfAbsent(f, KernelFeatures::probe, FeatureCheck.class);
            if (!check.available()) {
                missing.add(check);
            }
        }
        return missing;
    }

    private static Set<KernelFeature> required(ExtensionContext context) {
        Set<KernelFeature> req = EnumSet.noneOf(KernelFeature.class);
        for (ExtensionContext c = context; c != null; c = c.getParent().orElse(null)) {
            c.getElement().ifPresent(e -> addFrom(e, req));
        }
        return req;
    }

    private static void addFrom(AnnotatedElement e, Set<KernelFeature> req) {
        if (AnnotationSupport.isAnnotated(e, RequiresSoftDirty.class)) {
            req.add(KernelFeature.SOFT_DIRTY);
        }
        if (AnnotationSupport.isAnnotated(e, RequiresCriu.class)) {
            req.add(KernelFeature.CRIU);
        }
        if (AnnotationSupport.isAnnotated(e, RequiresNetworkNamespaces.class)) {
            req.add(KernelFeature.NETWORK_NAMESPACES);
        }
    }
}
