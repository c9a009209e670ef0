#!/usr/bin/env bash
# First-call latency of a fresh ConvService process, per algorithm family: for each family and round a new
# process is started on two free loopback ports, /readyz is polled until it answers 200 (start-to-ready),
# then the same small REST call (and, with h2load installed, the std3x3 one over gRPC) is sent twice; the script
# records the compute time the service logged and the client's time of both calls, and prints the median over rounds.
# usage: tests/ConvService.Benchmarks/first-call.sh [ROUNDS (default 3)] [APP_DIR (default the Release build output)] [-- extra service args]
#   e.g. first-call.sh 3 /tmp/publish -- --ConvService:WarmUpAtStart=false
# The service runs as `dotnet APP_DIR/ConvService.Api.dll` (what `dotnet run -c Release` runs after its build
# check), so start-to-ready does not include the SDK's build check. Numbers are noisy on a shared machine.
set -euo pipefail
rounds="${1:-3}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
app="${2:-$root/src/ConvService.Api/bin/Release/net10.0}"
extra=()
if [[ $# -ge 3 && "$3" == "--" ]]; then extra=("${@:4}"); fi
work="$(mktemp -d -t convservice-firstcall.XXXXXX)"
# shellcheck source=tests/stress/free-port.sh
source "$root/tests/stress/free-port.sh"
pid=""
cleanup() { if [[ -n "$pid" ]]; then kill "$pid" 2>/dev/null || true; fi; rm -rf "$work"; }
trap cleanup EXIT

if [[ -z "${2:-}" ]]; then
  dotnet build -c Release "$root/src/ConvService.Api/ConvService.Api.csproj" --nologo -v q >/dev/null
fi

# One small request per family (random weights where a rank-1 kernel would change the algorithm).
python3 - "$work" <<'PY'
import json, math, random, shutil, struct, sys
out = sys.argv[1]
rng = random.Random(7)
def rnd(n): return [round(rng.uniform(-1, 1), 4) for _ in range(n)]
def tensor(shape): return {"shape": shape, "data": rnd(math.prod(shape))}
g5 = [1, 4, 6, 4, 1]
bodies = {
  "std3x3":  ("convolve", {"input": tensor([1, 8, 16, 16]), "weight": tensor([16, 8, 3, 3]), "options": {"pads": [1, 1, 1, 1]}}),
  "pw1x1":   ("convolve", {"input": tensor([1, 16, 16, 16]), "weight": tensor([32, 16, 1, 1])}),
  "dw3x3":   ("convolve", {"input": tensor([1, 8, 16, 16]), "weight": tensor([8, 1, 3, 3]), "options": {"pads": [1, 1, 1, 1], "groups": 8}}),
  "dw5x5":   ("convolve", {"input": tensor([1, 8, 16, 16]), "weight": tensor([8, 1, 5, 5]), "options": {"pads": [2, 2, 2, 2], "groups": 8}}),
  "dwsep":   ("separable-convolve", {"input": tensor([1, 8, 16, 16]), "depthwiseSeparable": {
                 "depthwiseWeight": tensor([8, 1, 3, 3]), "pointwiseWeight": tensor([16, 8, 1, 1])}, "options": {"pads": [1, 1, 1, 1]}}),
  "gauss2d": ("convolve", {"input": tensor([1, 1, 32, 32]), "weight": {"shape": [1, 1, 5, 5], "data": [a * b / 256 for a in g5 for b in g5]},
                 "options": {"pads": [2, 2, 2, 2]}}),
  "spatial": ("separable-convolve", {"input": tensor([1, 32, 32]), "spatiallySeparable": {"column": g5, "row": g5},
                 "options": {"paddingMode": "PADDING_MODE_SAME"}}),
}
with open(f"{out}/families", "w") as f:
    for name, (path, body) in bodies.items():
        json.dump(body, open(f"{out}/{name}.json", "w"))
        f.write(f"{name} {path}\n")
    # The std3x3 call over gRPC (raw_data), as a length-prefixed message for h2load (nghttp2's client).
    def varint(n):
        out = b""
        while True:
            if n < 0x80: return out + bytes([n])
            out += bytes([(n & 0x7f) | 0x80]); n >>= 7
    def field(number, payload): return varint((number << 3) | 2) + varint(len(payload)) + payload
    def raw(t): return field(1, b"".join(varint(d) for d in t["shape"])) + field(3, struct.pack(f"<{len(t['data'])}f", *t["data"]))
    std = bodies["std3x3"][1]
    message = field(1, raw(std["input"])) + field(2, raw(std["weight"])) + field(4, field(3, b"".join(varint(p) for p in std["options"]["pads"])))
    open(f"{out}/grpc-std3x3.grpc", "wb").write(b"\0" + struct.pack(">I", len(message)) + message)
    if shutil.which("h2load"):
        f.write("grpc-std3x3 grpc\n")
PY

now_ms() { date +%s%3N; }
: >"$work/rows"
for round in $(seq 1 "$rounds"); do
  while read -r family path; do
    ready=""
    # A port found free may be taken before the service binds it (other services run here): then try new ones.
    for _ in 1 2 3; do
      rest="$(free_port)"; grpc="$(free_port)"
      [[ "$rest" != "$grpc" ]] || continue
      started=$(now_ms)
      dotnet "$app/ConvService.Api.dll" --Kestrel:Endpoints:Rest:Url="http://127.0.0.1:$rest" \
        --Kestrel:Endpoints:Grpc:Url="http://127.0.0.1:$grpc" ${extra[@]+"${extra[@]}"} >"$work/service.log" 2>&1 &
      pid=$!
      for _ in $(seq 1 1500); do
        if curl -fs -o /dev/null "http://127.0.0.1:$rest/readyz" 2>/dev/null; then ready=$(( $(now_ms) - started )); break; fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.01
      done
      [[ -z "$ready" ]] || break
      kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; pid=""
    done
    [[ -n "$ready" ]] || { echo "service did not become ready" >&2; cat "$work/service.log" >&2; exit 1; }
    line="$family $ready"
    for call in 1 2; do
      if [[ "$path" == grpc ]]; then
        # h2load on a new connection each time; its "time for request" is the client's time; compute comes from the log.
        client_ms=$(h2load -n 1 -c 1 -H 'content-type: application/grpc' -H 'te: trailers' -d "$work/$family.grpc" \
          "http://127.0.0.1:$grpc/conv.v1.Convolution/Convolve" 2>/dev/null | awk '/time for request/ { v = $4; u = v;
            sub(/^[0-9.]+/, "", u); sub(/[a-z]+$/, "", v); printf "%.3f", (u == "us" ? v / 1000 : u == "s" ? v * 1000 : v) }')
        sleep 0.2 # the log is written from a background thread
        compute=$(grep -o 'computed [0-9.]* ms' "$work/service.log" | sed -n "${call}p" | awk '{print $2}')
        algorithm=$(grep -o 'computed [0-9.]* ms [a-z0-9+-]*' "$work/service.log" | sed -n "${call}p" | awk '{print $4}')
        line="$line $compute $client_ms $algorithm"
      else
        curl_s=$(curl -s -o "$work/response.json" -w '%{time_total}' -H 'content-type: application/json' \
          --data-binary "@$work/$family.json" "http://127.0.0.1:$rest/v1/$path")
        compute=$(jq -r '.execution.computeMs' "$work/response.json")
        algorithm=$(jq -r '.execution.algorithm' "$work/response.json")
        line="$line $compute $(awk -v s="$curl_s" 'BEGIN { printf "%.3f", s * 1000 }') $algorithm"
      fi
    done
    sleep 0.2 # the log is written from a background thread
    warm=$(grep -o 'Warm-up ran .* in [0-9.]* ms;' "$work/service.log" | grep -o '[0-9.]* ms;$' | head -1 | awk '{print $1}' || true)
    # The interceptor's "OK in X ms": the first call's time inside gRPC's pipeline (the rest of curl's is Kestrel, routing, transcoding).
    server=$(grep -o 'OK in [0-9.]* ms' "$work/service.log" | head -1 | awk '{print $3}' || true)
    echo "$line ${warm:--} ${server:--}" >>"$work/rows"
    kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
  done <"$work/families"
done

echo "first call of a fresh process, median of $rounds processes per family; $(date -u '+%Y-%m-%d %H:%M') UTC; app $app ${extra[*]:-}"
python3 - "$work/rows" <<'PY'
import statistics as st, sys
rows = {}
for l in open(sys.argv[1]):
    f = l.split()
    rows.setdefault(f[0], []).append(f)
print(f"{'family':<11} {'ready ms':>8} {'1st compute':>11} {'1st server':>10} {'1st curl':>9} {'2nd compute':>11} {'2nd curl':>9}  algorithm (warm-up ms)")
def med(rs, i): return st.median(float(r[i]) for r in rs)
for name, rs in rows.items():
    warm = [r[8] for r in rs if r[8] != "-"]
    server = f"{st.median(float(r[9]) for r in rs if r[9] != '-'):10.2f}" if any(r[9] != "-" for r in rs) else f"{'-':>10}"
    print(f"{name:<11} {med(rs, 1):8.0f} {med(rs, 2):11.3f} {server} {med(rs, 3):9.2f} {med(rs, 5):11.3f} {med(rs, 6):9.2f}  {rs[0][4]}"
          + (f" ({st.median(float(w) for w in warm):.0f})" if warm else ""))
print("compute = execution.computeMs of the response (the value the service logs); server = the call's logged \"OK in X ms\"")
print("(gRPC pipeline incl. compute); curl = curl's time_total (grpc-std3x3: h2load's time for the request, a new")
print("connection each); ready = process start to /readyz 200; ms")
PY
