#!/usr/bin/env bash
# Proves the container recipe without a Docker engine: runs the Dockerfile's exact publish command,
# starts the output the way the image's ENTRYPOINT does with the image's environment (endpoints on
# loopback test ports), runs the image's HEALTHCHECK command against it, checks /healthz, /readyz,
# /metrics and one REST call, then stops it with SIGTERM as `docker stop` would and expects exit 0.
#   tests/deploy/publish-and-run.sh            (ports: CONV_REST_PORT=18080, CONV_GRPC_PORT=18081;
#                                               CONVSERVICE_PUBLISH_DIR reuses a publish output)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

REST_PORT="$(pick_port "${CONV_REST_PORT:-18080}")"
GRPC_PORT="$(pick_port "${CONV_GRPC_PORT:-18081}")"
BASE="http://127.0.0.1:${REST_PORT}"
WORK="$(mktemp -d /tmp/convservice-publish.XXXXXX)"
SERVICE_PID=""

cleanup() {
    local rc=$?
    if [[ -n "$SERVICE_PID" ]] && kill -0 "$SERVICE_PID" 2>/dev/null; then
        kill -KILL "$SERVICE_PID" 2>/dev/null || true
    fi
    if (( rc != 0 )) && [[ -f "$WORK/service.log" ]]; then
        log "last lines of the service log:"; tail -n 40 "$WORK/service.log" >&2 || true
    fi
    rm -rf "$WORK" "$WORK.publish.log"
}
trap cleanup EXIT

ensure_tool curl curl
ensure_tool python3 python3

# run-all.sh publishes once with the same command and passes the output in CONVSERVICE_PUBLISH_DIR.
if [[ -n "${CONVSERVICE_PUBLISH_DIR:-}" ]]; then
    APP="$CONVSERVICE_PUBLISH_DIR"
else
    APP="$WORK/app"
    publish_service "$APP"
fi
[[ -f "$APP/ConvService.Api.dll" ]] || fail "publish produced no ConvService.Api.dll"
passed "published output has ConvService.Api.dll"

start_service "$APP" "$REST_PORT" "$GRPC_PORT" "$WORK/service.log"
wait_http "$BASE/healthz" 200 60 "$SERVICE_PID"
passed "/healthz 200"

# The image's HEALTHCHECK command, verbatim but for the port.
mapfile -t healthcheck < <(dockerfile_json_instruction HEALTHCHECK)
(( ${#healthcheck[@]} > 0 )) || fail "Dockerfile has no exec-form HEALTHCHECK"
for i in "${!healthcheck[@]}"; do
    healthcheck[i]="${healthcheck[i]//127.0.0.1\/8080/127.0.0.1\/${REST_PORT}}"
done
timeout 5 "${healthcheck[@]}" || fail "the Dockerfile HEALTHCHECK command failed against the running service"
passed "Dockerfile HEALTHCHECK passes"

wait_http "$BASE/readyz" 200 30 "$SERVICE_PID"
passed "/readyz 200"
[[ "$(http_status "$BASE/metrics")" == 200 ]] || fail "/metrics did not answer 200"
passed "/metrics 200"

# 3x12x12 input, 5x5 kernel, 256 output channels: 8x8 output, 256*8*8*3*25 = 1228800 multiplications.
response="$(curl -sS --max-time 10 -H 'Content-Type: application/json' \
    -d '{"inputShape":[3,12,12],"kernelSize":[5],"outputChannels":256}' \
    -w '\n%{http_code}' "$BASE/v1/estimate-cost")" || fail "POST /v1/estimate-cost"
status="${response##*$'\n'}"
body="${response%$'\n'*}"
[[ "$status" == 200 ]] || fail "POST /v1/estimate-cost answered $status: $body"
grep -q '1228800' <<<"$body" || fail "estimate-cost response lacks the standard multiplications 1228800: $body"
passed "POST /v1/estimate-cost 200 with standard multiplications 1228800"

# The call is counted under the agreed Prometheus name (notes/METRICS.md).
metrics="$(curl -sS --max-time 5 "$BASE/metrics")" || fail "GET /metrics"
grep -Eq '^conv_requests_total\{[^}]*rpc_method="EstimateCost"' <<<"$metrics" \
    || fail "/metrics has no conv_requests_total{rpc_method=\"EstimateCost\"} after the call"
passed "/metrics counts the call in conv_requests_total"

stop_process "$SERVICE_PID" 40
SERVICE_PID=""
[[ "$STOPPED_RC" == 0 ]] || fail "service exited with $STOPPED_RC after SIGTERM"
passed "SIGTERM: exited 0"
echo "publish-and-run: $PASSED passed, 0 failed"
