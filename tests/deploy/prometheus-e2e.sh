#!/usr/bin/env bash
# Metrics end to end with the real Prometheus: starts the published service on loopback test ports,
# starts Debian's prometheus on loopback scraping its /metrics every second, drives standard,
# depthwise-separable and spatially-separable convolutions over REST, then asks Prometheus' HTTP
# API for histogram_quantile over conv_compute_duration_seconds_bucket by conv_kind and checks the
# counts against the calls made (e2e_metrics.py). Every process it starts is stopped on exit.
#   tests/deploy/prometheus-e2e.sh
# Env: CONVSERVICE_PUBLISH_DIR (reuse a publish output), CONV_E2E_REST_PORT (18180),
#      CONV_E2E_GRPC_PORT (18181), CONV_E2E_PROM_PORT (19090).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

REST_PORT="$(pick_port "${CONV_E2E_REST_PORT:-18180}")"
GRPC_PORT="$(pick_port "${CONV_E2E_GRPC_PORT:-18181}")"
PROM_PORT="$(pick_port "${CONV_E2E_PROM_PORT:-19090}")"
SERVICE="http://127.0.0.1:${REST_PORT}"
PROM="http://127.0.0.1:${PROM_PORT}"
JOB=convservice
WORK="$(mktemp -d /tmp/convservice-prom-e2e.XXXXXX)"
SERVICE_PID=""
PROM_PID=""
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

cleanup() {
    local rc=$?
    for pid in "$PROM_PID" "$SERVICE_PID"; do
        if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid" 2>/dev/null || true
            for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
            kill -KILL "$pid" 2>/dev/null || true
        fi
    done
    if (( rc != 0 )); then
        for f in service.log prometheus.log; do
            [[ -f "$WORK/$f" ]] && { log "last lines of $f:"; tail -n 30 "$WORK/$f" >&2 || true; }
        done
    fi
    rm -rf "$WORK" "$WORK.publish.log"
}
trap cleanup EXIT

ensure_tool curl curl
ensure_tool python3 python3
ensure_tool prometheus prometheus

if [[ -n "${CONVSERVICE_PUBLISH_DIR:-}" ]]; then
    APP="$CONVSERVICE_PUBLISH_DIR"
else
    APP="$WORK/app"
    publish_service "$APP"
fi
start_service "$APP" "$REST_PORT" "$GRPC_PORT" "$WORK/service.log"
wait_http "$SERVICE/readyz" 200 60 "$SERVICE_PID"
log "service ready on $SERVICE"

cat >"$WORK/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: ${JOB}
    metrics_path: /metrics
    static_configs:
      - targets: ["127.0.0.1:${REST_PORT}"]
YAML
promtool check config "$WORK/prometheus.yml" >/dev/null || fail "generated prometheus.yml is invalid"
prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/tsdb" \
    --web.listen-address="127.0.0.1:${PROM_PORT}" --log.level=warn >"$WORK/prometheus.log" 2>&1 &
PROM_PID=$!
wait_http "$PROM/-/ready" 200 60 "$PROM_PID"
log "prometheus ready on $PROM"

STATE="$WORK/calls.json"
timeout 120 python3 "$HERE/e2e_metrics.py" drive "$SERVICE" 1 "$STATE"
timeout 60 python3 "$HERE/e2e_metrics.py" wait "$PROM" "$JOB" "$STATE" 30
timeout 120 python3 "$HERE/e2e_metrics.py" drive "$SERVICE" 2 "$STATE"
timeout 60 python3 "$HERE/e2e_metrics.py" wait "$PROM" "$JOB" "$STATE" 30
timeout 120 python3 "$HERE/e2e_metrics.py" assert "$PROM" "$JOB" "$STATE" "$DEPLOY_REPO_ROOT/deploy/grafana/dashboards/convservice.json" \
    | tee "$WORK/assert.log"
checks="$(grep -c '^ok: ' "$WORK/assert.log")"
echo "prometheus-e2e: $checks passed, 0 failed"
