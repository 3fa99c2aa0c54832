#!/bin/sh
# Runs the engine lab tests from prebuilt classes (inside the lab VM, no Maven). On the host first:
#   mvn -B -q -pl agent -am install -DskipTests
#   mvn -B -q -pl agent dependency:build-classpath -Dmdep.outputFile=target/lab-classpath.txt -Dmdep.includeScope=test
# then from the repo root: /work/shared/lab/softdirty-vm -- agent/src/test/lab/run-engine-lab-tests.sh
cd "$(dirname "$0")/../../.." || exit 2   # the agent module
uname -r
CP="target/test-classes:target/classes:$(cat target/lab-classpath.txt)"
exec java -Dferry.lab=true -Dferry.repo.root="$(cd .. && pwd)" -cp "$CP" dev.ferry.agent.tracking.LabTestMain "$@"
