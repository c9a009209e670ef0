#!/usr/bin/env bash
# Overload, fault, fuzz and shutdown evidence for ConvService (issue 5), on loopback only.
# Publishes the host, starts it on test ports with small limits, runs the stress console's
# fuzz, load (1x, 4x, 10x the pool's capacity), h2load (the same multiples from nghttp2's C
# client, Debian package nghttp2-client), faults and shutdown runs, and ends with
# "N passed, N failed". --short (default, CI, a few minutes) or --long (by hand).
set -euo pipefail

mode=short
case "${1:-}" in
  ""|--short) mode=short ;;
  --long) mode=long ;;
  *) echo "usage: $0 [--short|--long]" >&2; exit 2 ;;
esac

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
work="$(mktemp -d -t convservice-stress.XXXXXX)"
# shellcheck source=tests/stress/free-port.sh
source "$root/tests/stress/free-port.sh"
rest_port="${STRESS_REST_PORT:-$(free_port)}"
grpc_port="${STRESS_GRPC_PORT:-$(free_port)}"
shutdown_rest_port="$(free_port)"
shutdown_grpc_port="$(free_port)"
max_concurrent=2
max_queued=4
capacity=$((max_concurrent + max_queued))
max_request_bytes=33554432
max_rss_mb="${STRESS_MAX_RSS_MB:-1024}"
service_pid=""

cleanup() {
  if [[ -n "$service_pid" ]] && kill -0 "$service_pid" 2>/dev/null; then
    kill -TERM "$service_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$service_pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$service_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

if [[ "$mode" == short ]]; then
  fuzz_cases=4000; fuzz_seconds=60; load_seconds=10; h2load_seconds=5; faults_seconds=15
else
  fuzz_cases=50000; fuzz_seconds=900; load_seconds=60; h2load_seconds=60; faults_seconds=120
fi

echo "== publish (Release) into $work"
dotnet publish "$root/src/ConvService.Api/ConvService.Api.csproj" -c Release -o "$work/service" --nologo -v q
dotnet build "$root/tests/ConvService.Stress/ConvService.Stress.csproj" -c Release --nologo -v q
stress=(dotnet "$root/tests/ConvService.Stress/bin/Release/net10.0/ConvService.Stress.dll")

echo "== start service on 127.0.0.1:$rest_port (REST) and 127.0.0.1:$grpc_port (gRPC)"
(
  cd "$work/service"
  export Kestrel__Endpoints__Rest__Url="http://127.0.0.1:$rest_port"
  export Kestrel__Endpoints__Grpc__Url="http://127.0.0.1:$grpc_port"
  export ConvService__MaxConcurrentComputations=$max_concurrent
  export ConvService__MaxQueuedComputations=$max_queued
  export ConvService__MaxMultiplications=2000000000
  export ConvService__MaxRequestBytes=$max_request_bytes
  export ConvService__DrainSeconds=10
  export Serilog__MinimumLevel__Default=Warning
  exec dotnet ConvService.Api.dll >"$work/service.log" 2>&1
) &
service_pid=$!
for _ in $(seq 1 150); do
  curl -fsS "http://127.0.0.1:$rest_port/readyz" >/dev/null 2>&1 && break
  kill -0 "$service_pid" 2>/dev/null || { echo "service exited during start-up:"; cat "$work/service.log"; exit 1; }
  sleep 0.2
done
curl -fsS "http://127.0.0.1:$rest_port/readyz" >/dev/null || { echo "service not ready after 30 s"; tail -50 "$work/service.log"; exit 1; }

passed=0
failed=0
# Runs one stress subcommand, echoes its output and adds its closing "N passed, N failed" to the totals.
run() {
  local status line
  set +e
  "${stress[@]}" "$@" 2>&1 | tee "$work/run.out"
  status=${PIPESTATUS[0]}
  set -e
  line="$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$work/run.out" | tail -1 || true)"
  if [[ -z "$line" ]]; then
    echo "(run '$1' ended with status $status and no totals)"
    failed=$((failed + 1))
    return
  fi
  passed=$((passed + $(awk '{print $1}' <<<"$line")))
  failed=$((failed + $(awk '{print $3}' <<<"$line")))
  if [[ $status -ne 0 && $(awk '{print $3}' <<<"$line") -eq 0 ]]; then failed=$((failed + 1)); fi
}

endpoints=(--grpc "http://127.0.0.1:$grpc_port" --rest "http://127.0.0.1:$rest_port" --pid "$service_pid")

echo "== fuzz"
run fuzz "${endpoints[@]}" --cases "$fuzz_cases" --seconds "$fuzz_seconds" --max-request-bytes "$max_request_bytes"
for multiple in 1 4 10; do
  echo "== load small at ${multiple}x capacity ($((multiple * capacity)) clients)"
  run load "${endpoints[@]}" --shape small --concurrency $((multiple * capacity)) --seconds "$load_seconds" --max-rss-mb "$max_rss_mb"
done
echo "== load medium at 10x capacity ($((10 * capacity)) clients)"
run load "${endpoints[@]}" --shape medium --concurrency $((10 * capacity)) --seconds "$load_seconds" --max-rss-mb "$max_rss_mb"
for multiple in 1 4 10; do
  echo "== h2load small-standard at ${multiple}x capacity ($((multiple * capacity)) connections of one stream each)"
  run h2load "${endpoints[@]}" --shape small --workload small-standard --connections $((multiple * capacity)) \
    --seconds "$h2load_seconds" --max-rss-mb "$max_rss_mb"
done
echo "== faults"
run faults "${endpoints[@]}" --seconds "$faults_seconds"

echo "== stop the service"
kill -TERM "$service_pid"
wait "$service_pid" || true
service_pid=""

echo "== shutdown (starts its own instance on 127.0.0.1:$shutdown_rest_port (REST) and 127.0.0.1:$shutdown_grpc_port (gRPC))"
run shutdown --dll "$work/service/ConvService.Api.dll" --rest-port "$shutdown_rest_port" --grpc-port "$shutdown_grpc_port" \
  --drain-seconds 10 --max-concurrent $max_concurrent --max-queued $max_queued --concurrency $((2 * capacity)) --log "$work/shutdown.log"

if [[ $failed -ne 0 && -f "$work/service.log" ]]; then
  echo "== service errors (first 60 lines)"
  grep -A12 -E '^\[[0-9:. ]+ERR\]' "$work/service.log" | grep -vE '^\s+at (Microsoft|System)\.' | head -60 || true
fi

echo "== stress ($mode) totals"
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
