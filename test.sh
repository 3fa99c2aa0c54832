#!/bin/bash
# The whole test suite (what .ci/run calls): host tests with Maven, then the lab tests (tag
# "lab": soft-dirty, CRIU) inside the lab VM in one VM boot, then the Debian package and the
# services under systemd as PID 1 in a second boot (deploy/lab/run-systemd-check: units, READY,
# watchdog, restarts, and a real CRIU migration between two agents run as services). Fails on any
# failure, and when no lab test ran. FERRY_SYSTEMD_CHECK=0 leaves the systemd check out.
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
if [ "${FERRY_SYSTEMD_CHECK:-1}" != 0 ]; then
  # the package and the services under systemd as PID 1 (a second VM boot): deploy/lab/systemd-check
  deploy/lab/run-systemd-check --no-build
  echo "test.sh: systemd lab check took $(( $(date +%s) - T2 )) s"
else
  echo "test.sh: systemd lab check left out (FERRY_SYSTEMD_CHECK=0)"
fi
echo "test.sh: all tests took $(( $(date +%s) - T0 )) s"
