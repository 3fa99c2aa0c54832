#!/bin/sh
# Runs the engine lab tests from prebuilt classes (inside the lab VM, no Maven). On the host first:
#   mvn -B -q -pl agent -am install -DskipTests
#   mvn -B -q -pl agent dependency:copy-dependencies -DincludeScope=test -DoutputDirectory=target/lab-deps
# then from the repo root: /work/shared/lab/softdirty-vm -- agent/src/test/lab/run-engine-lab-tests.sh
cd "$(dirname "$0")/../../.." || exit 2   # the agent module
uname -r
# a private copy of the jars: the shared ~/.m2 is rewritten by parallel builds
CP="target/test-classes:target/classes:target/lab-deps/*"
exec java -Dferry.lab=true -Dferry.repo.root="$(cd .. && pwd)" -cp "$CP" dev.ferry.agent.tracking.LabTestMain "$@"
