#!/usr/bin/env bash
# All deployment checks, for .ci/run: publishes once with the Dockerfile's exact command, then runs
# validate.sh, dockerfile-build.sh, and publish-and-run.sh, prometheus-e2e.sh, otlp-e2e.sh and
# lb-e2e.sh against that output. Each script
# is bounded (timeout) and a failing one does not stop the others; exits 1 if any failed.
#   bash tests/deploy/run-all.sh
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

WORK="$(mktemp -d /tmp/convservice-deploy.XXXXXX)"
trap 'rm -rf "$WORK" "$WORK/app.publish.log"' EXIT
publish_service "$WORK/app"
export CONVSERVICE_PUBLISH_DIR="$WORK/app"

passed=0
failed=0
failures=()
for script in validate.sh dockerfile-build.sh publish-and-run.sh prometheus-e2e.sh otlp-e2e.sh lb-e2e.sh; do
    log "=== $script"
    if timeout 900 bash "$HERE/$script"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        failures+=("$script")
    fi
done
(( failed == 0 )) || log "failed: ${failures[*]}"
echo "deploy: $passed passed, $failed failed"
(( failed == 0 ))
