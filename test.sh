#!/bin/bash
# The whole test suite (what .ci/run calls): host tests with Maven, then the lab tests (tag
# "lab": soft-dirty, CRIU) inside the lab VM, in one VM boot. Fails on any failure, and when no lab
# test ran. FERRY_SYSTEMD_CHECK=1 adds the package and the services under systemd as PID 1 in a
# second boot (deploy/lab/run-systemd-check): not in CI yet, its migration between the service
# agents still fails in the VM (the source agent's JVM dies of SIGILL in lz4-java's native code
# under the emulated CPU; see deploy/systemd/README.md) and it takes 20-30 minutes under emulation.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")"
T0=$(date +%s)
# one Maven run: build, host tests, and each module's test classpath for the lab runner
mvn -B verify dependency:build-classpath -Dmdep.outputFile=target/lab-classpath.txt -Dmdep.includeScope=test
T1=$(date +%s)
echo "test.sh: host build and tests took $((T1 - T0)) s"
deploy/lab/run-lab-tests --no-build
T2=$(date +%s)
echo "test.sh: lab tests took $((T2 - T1)) s"
if [ "${FERRY_SYSTEMD_CHECK:-0}" = 1 ]; then
  # the package and the services under systemd as PID 1 (a second VM boot): deploy/lab/systemd-check
  deploy/lab/run-systemd-check --no-build
  echo "test.sh: systemd lab check took $(( $(date +%s) - T2 )) s"
else
  echo "test.sh: systemd lab check not run (FERRY_SYSTEMD_CHECK=1 runs it: deploy/lab/run-systemd-check)"
fi
echo "test.sh: all tests took $(( $(date +%s) - T0 )) s"
