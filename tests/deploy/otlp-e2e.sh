#!/usr/bin/env bash
# OTLP export as the compose stack configures it (OTEL_EXPORTER_OTLP_ENDPOINT, protocol grpc,
# service name convservice), received by a stand-in for the collector's OTLP receiver
# (otlp_sink.py): after standard and separable calls, the metrics carry the agreed instruments and
# the resource's service.name/service.instance.id, and the traces carry ASP.NET Core request spans
# and the compute span with conv.kind and conv.multiplications.
#   tests/deploy/otlp-e2e.sh          (env: CONVSERVICE_PUBLISH_DIR to reuse a publish output)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REST_PORT="$(pick_port 18480)"
GRPC_PORT="$(pick_port 18481)"
OTLP_PORT="$(pick_port 14317)"
WORK="$(mktemp -d /tmp/convservice-otlp-e2e.XXXXXX)"
PIDS=()

cleanup() {
    local rc=$?
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
        kill -KILL "$pid" 2>/dev/null || true
    done
    if (( rc != 0 )); then
        for f in "$WORK"/*.log; do
            [[ -f "$f" ]] && { log "last lines of $(basename "$f"):"; tail -n 20 "$f" >&2 || true; }
        done
    fi
    rm -rf "$WORK" "$WORK.publish.log"
}
trap cleanup EXIT

PY=/usr/bin/python3
if ! "$PY" -c 'import grpc' 2>/dev/null; then
    DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y --no-install-recommends python3-grpcio >/dev/null \
        || fail "apt-get install python3-grpcio"
fi

"$PY" "$HERE/otlp_sink.py" "$OTLP_PORT" "$WORK/otlp" 300 >"$WORK/sink.log" 2>&1 &
PIDS+=("$!")

if [[ -n "${CONVSERVICE_PUBLISH_DIR:-}" ]]; then
    APP="$CONVSERVICE_PUBLISH_DIR"
else
    APP="$WORK/app"
    publish_service "$APP"
fi
# The compose file's OTLP settings, with the endpoint on the sink and quick export for the test.
start_service "$APP" "$REST_PORT" "$GRPC_PORT" "$WORK/service.log" \
    OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:${OTLP_PORT}" \
    OTEL_EXPORTER_OTLP_PROTOCOL=grpc \
    OTEL_SERVICE_NAME=convservice \
    OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE=cumulative \
    OTEL_METRIC_EXPORT_INTERVAL=1000 \
    OTEL_BSP_SCHEDULE_DELAY=200
PIDS+=("$SERVICE_PID")
wait_http "http://127.0.0.1:${REST_PORT}/readyz" 200 60 "$SERVICE_PID"

timeout 120 python3 "$HERE/e2e_metrics.py" drive "http://127.0.0.1:${REST_PORT}" 1 "$WORK/calls.json"

# Payloads are protobuf; names, attribute keys and string values appear in them as UTF-8 bytes.
has_all() { # SIGNAL NEEDLE...: some payload of SIGNAL contains every needle
    "$PY" - "$WORK/otlp" "$@" <<'PY'
import sys
from pathlib import Path
folder, signal_name, needles = Path(sys.argv[1]), sys.argv[2], [n.encode() for n in sys.argv[3:]]
payloads = [p.read_bytes() for p in sorted(folder.glob(f"*-{signal_name}.bin"))] if folder.exists() else []
sys.exit(0 if any(all(n in p for n in needles) for p in payloads) else 1)
PY
}
wait_for() { # DESCRIPTION SIGNAL NEEDLE...
    local what="$1"; shift
    local deadline=$(( $(date +%s) + 30 ))
    until has_all "$@"; do
        (( $(date +%s) < deadline )) || fail "no OTLP $1 export with: ${*:2} (within 30 s)"
        sleep 0.5
    done
    passed "$what"
}

wait_for "OTLP metrics carry the agreed instruments" metrics \
    conv.compute.duration conv.multiplications conv.requests conv.queue.wait conv.computations.inflight
wait_for "OTLP metrics carry conv.kind values standard and both separable kinds" metrics \
    conv.kind standard depthwise_separable spatially_separable
wait_for "OTLP resource names service.name=convservice and a service.instance.id" metrics \
    service.name convservice service.instance.id
wait_for "OTLP traces carry the compute span with conv.kind and conv.multiplications" traces \
    conv.compute conv.kind conv.multiplications
wait_for "OTLP traces carry ASP.NET Core request spans" traces \
    Microsoft.AspNetCore /v1/convolve
echo "otlp-e2e: $PASSED passed, 0 failed"
