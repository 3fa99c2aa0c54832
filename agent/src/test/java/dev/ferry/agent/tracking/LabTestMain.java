package dev.ferry.agent.tracking;

import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import java.io.PrintWriter;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.TagFilter;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;
import org.junit.platform.launcher.listeners.TestExecutionSummary;

/**
 * Runs the engine's lab tests from prebuilt classes where Maven is not available (inside the
 * lab VM): {@code java -cp test-classes:classes:deps dev.ferry.agent.tracking.LabTestMain
 * [test classes...]}. Prints JUnit's summary and "N passed, N failed"; exits 1 on a failure or
 * when no test ran.
 */
public final class LabTestMain {
  private LabTestMain() {}

  public static void main(String[] args) throws Exception {
    LauncherDiscoveryRequestBuilder request = LauncherDiscoveryRequestBuilder.request();
    String[] classes = args.length > 0 ? args : new String[] {SoftDirtyTrackerLabTest.class.getName()};
    for (String c : classes) {
      request.selectors(selectClass(Class.forName(c)));
    }
    request.filters(TagFilter.includeTags(System.getProperty("ferry.lab.tags", "lab")));
    LauncherDiscoveryRequest built = request.build();
    Launcher launcher = LauncherFactory.create();
    SummaryGeneratingListener summary = new SummaryGeneratingListener();
    launcher.execute(built, summary);
    TestExecutionSummary s = summary.getSummary();
    PrintWriter out = new PrintWriter(System.out, true);
    s.printTo(out);
    s.printFailuresTo(out, 30);
    long failed = s.getTotalFailureCount();
    long passed = s.getTestsSucceededCount();
    out.printf("%d passed, %d failed, %d skipped%n", passed, failed, s.getTestsSkippedCount() + s.getTestsAbortedCount());
    System.exit(failed == 0 && passed > 0 ? 0 : 1);
  }
}
