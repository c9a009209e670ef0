#!/usr/bin/env bash
# End-to-end gRPC latency of ConvService measured with h2load (nghttp2's C client), next to the compute time the
# service logs for the same calls: the server's own overhead without the .NET client's share.
# Starts the Release build on two free loopback ports, sends each shape's request (grpc-frame) one call at a
# time, pairs every call's e2e time with its "computed X ms" log field, prints medians.
# usage: tests/ConvService.Benchmarks/service-h2load.sh [SHAPES (default S1,S5)] [CALLS per round (default 200)] [ROUNDS (default 3)]
set -euo pipefail
shapes="${1:-S1,S5}"; calls="${2:-200}"; rounds="${3:-3}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
work="$(mktemp -d -t convservice-h2load.XXXXXX)"
command -v h2load >/dev/null || { echo "h2load not found: apt-get install nghttp2-client" >&2; exit 2; }
# shellcheck source=tests/stress/free-port.sh
source "$root/tests/stress/free-port.sh"
rest_port="$(free_port)"; grpc_port="$(free_port)"; pid=""
cleanup() { [[ -n "$pid" ]] && kill "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

dotnet build -c Release "$root/src/ConvService.Api/ConvService.Api.csproj" --nologo -v q >/dev/null
dotnet build -c Release "$root/tests/ConvService.Benchmarks/ConvService.Benchmarks.csproj" --nologo -v q >/dev/null
bench=(dotnet "$root/tests/ConvService.Benchmarks/bin/Release/net10.0/ConvService.Benchmarks.dll")
Kestrel__Endpoints__Rest__Url="http://127.0.0.1:$rest_port" Kestrel__Endpoints__Grpc__Url="http://127.0.0.1:$grpc_port" \
  dotnet "$root/src/ConvService.Api/bin/Release/net10.0/ConvService.Api.dll" >"$work/service.log" 2>&1 &
pid=$!
for _ in $(seq 1 150); do curl -fsS "http://127.0.0.1:$rest_port/readyz" >/dev/null 2>&1 && break; sleep 0.2; done

echo "h2load against ConvService (Release) on 127.0.0.1:$grpc_port, one call at a time; $(date -u '+%Y-%m-%d %H:%M') UTC"
printf '%-6s %7s %10s %12s %14s %12s\n' shape calls "e2e ms" "compute ms" "overhead ms" "overhead %"
for shape in ${shapes//,/ }; do
  path="$("${bench[@]}" grpc-frame --shape "$shape" --out "$work/$shape.grpc")"
  h2load -n 50 -c 1 -m 1 -H 'content-type: application/grpc' -H 'te: trailers' -d "$work/$shape.grpc" "http://127.0.0.1:$grpc_port$path" >/dev/null 2>&1
  : >"$work/pairs"
  for _ in $(seq 1 "$rounds"); do
    sleep 0.5
    lines=$(wc -l <"$work/service.log")
    rm -f "$work/h2.log"
    h2load -n "$calls" -c 1 -m 1 -H 'content-type: application/grpc' -H 'te: trailers' -d "$work/$shape.grpc" \
      --log-file="$work/h2.log" "http://127.0.0.1:$grpc_port$path" >/dev/null 2>&1
    sleep 0.5 # the log is written from a background thread
    paste <(awk '{print $3 / 1000}' "$work/h2.log") \
      <(tail -n +"$((lines + 1))" "$work/service.log" | grep -o 'computed [0-9.]* ms' | awk '{print $2}') >>"$work/pairs"
  done
  python3 - "$shape" "$work/pairs" <<'PY'
import statistics as st, sys
rows = [tuple(map(float, l.split())) for l in open(sys.argv[2]) if len(l.split()) == 2]
e2e = st.median(r[0] for r in rows); compute = st.median(r[1] for r in rows); over = st.median(r[0] - r[1] for r in rows)
print(f"{sys.argv[1]:<6} {len(rows):7d} {e2e:10.3f} {compute:12.3f} {over:14.3f} {100 * over / compute:11.0f}%")
PY
done
echo "overhead = median over calls of (h2load's time for the call - the compute_ms the service logged for it)"
