#!/usr/bin/env bash
# Publishes the service exactly as the Dockerfile does, starts it the way the container's
# entrypoint does (same environment, but loopback test ports), then exercises it with curl
# (REST) and Node's @grpc/grpc-js (gRPC), and stops it with SIGTERM expecting exit code 0.
# Usage: tests/e2e/run-e2e.sh   (run `npm ci` in tests/e2e first)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
rest_port="${E2E_REST_PORT:-18280}"
grpc_port="${E2E_GRPC_PORT:-18281}"
work="$(mktemp -d)"
pid=""
cleanup() {
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

echo "publishing (the Dockerfile's publish step)"
dotnet publish "$root/src/ConvService.Api/ConvService.Api.csproj" -c Release -o "$work/app" --nologo -v quiet

echo "starting the published service on 127.0.0.1:$rest_port (REST) and :$grpc_port (gRPC)"
(
  # Started from outside its folder on purpose: the defaults in the appsettings.json next to the
  # binary must still apply (the tests in tests/deploy start it from inside, as the container does).
  cd "$work"
  # Same variables as the container, with loopback test ports instead of 0.0.0.0:8080/8081.
  export ASPNETCORE_ENVIRONMENT=Production DOTNET_gcServer=1 DOTNET_GCDynamicAdaptationMode=1
  export Kestrel__Endpoints__Rest__Url="http://127.0.0.1:$rest_port"
  export Kestrel__Endpoints__Grpc__Url="http://127.0.0.1:$grpc_port"
  exec dotnet app/ConvService.Api.dll >"$work/service.log" 2>&1
) &
pid=$!

# Ready, as a load balancer would wait for: /readyz turns 200 once the start-up warm-up has run.
for _ in $(seq 1 120); do
  if curl -fsS "http://127.0.0.1:$rest_port/readyz" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$pid" 2>/dev/null; then echo "service exited early:"; cat "$work/service.log"; exit 1; fi
  sleep 0.5
done
curl -fsS "http://127.0.0.1:$rest_port/readyz" >/dev/null

status=0
bash "$root/tests/e2e/rest-smoke.sh" "http://127.0.0.1:$rest_port" || status=1
(cd "$root/tests/e2e" && CONVSERVICE_GRPC="127.0.0.1:$grpc_port" node --test grpc-client.test.mjs) || status=1

echo "stopping with SIGTERM"
kill -TERM "$pid"
exit_code=0
for _ in $(seq 1 60); do
  if ! kill -0 "$pid" 2>/dev/null; then break; fi
  sleep 0.5
done
if kill -0 "$pid" 2>/dev/null; then echo "service did not stop within 30 s of SIGTERM"; status=1; else wait "$pid" || exit_code=$?; fi
if [[ "$exit_code" != 0 ]]; then echo "service exited with $exit_code after SIGTERM"; status=1; fi
if [[ "$status" != 0 ]]; then echo "--- service log (tail)"; tail -n 60 "$work/service.log"; fi
exit "$status"
