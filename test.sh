#!/bin/bash
# The whole test suite (what .ci/run calls): host tests with Maven, then the lab tests (tag
# "lab": soft-dirty, CRIU) inside the lab VM, in one VM boot, then the package and services under
# systemd in a second boot (deploy/lab/run-systemd-check). Fails on any failure, and when no lab
# test ran.
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
# the package and the services under systemd as PID 1 (a second VM boot): deploy/lab/systemd-check
deploy/lab/run-systemd-check --no-build
echo "test.sh: systemd lab check took $(( $(date +%s) - T2 )) s; all tests took $(( $(date +%s) - T0 )) s"
