# Shared helpers for the deploy checks (sourced, not run). Loopback only; every wait is bounded.
# shellcheck shell=bash

DEPLOY_REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
fail() { log "FAIL: $*"; exit 1; }
# Each check script counts its passed checks for its closing "N passed, 0 failed" line.
PASSED=0
passed() { PASSED=$((PASSED + 1)); log "ok: $*"; }

# ensure_tool COMMAND DEBIAN_PACKAGE: installs the package when the command is missing (CI runs as root).
ensure_tool() {
    local cmd="$1" pkg="$2"
    command -v "$cmd" >/dev/null 2>&1 && return 0
    log "installing Debian package $pkg for $cmd"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y --no-install-recommends "$pkg" >/dev/null 2>&1; then
        timeout 300 apt-get update >/dev/null 2>&1 || true
        timeout 600 apt-get install -y --no-install-recommends "$pkg" >/dev/null || fail "apt-get install $pkg"
    fi
    command -v "$cmd" >/dev/null 2>&1 || fail "$pkg did not provide $cmd"
}

# http_status URL [curl args...]: prints the status code (000 when nothing answers).
http_status() {
    local url="$1"; shift
    curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$@" "$url" || true
}

# wait_http URL EXPECTED_STATUS TIMEOUT_SECONDS [PID]: polls until the status matches; fails early
# when PID (the server) has exited.
wait_http() {
    local url="$1" want="$2" timeout_s="$3" pid="${4:-}" deadline status
    deadline=$(( $(date +%s) + timeout_s ))
    while (( $(date +%s) < deadline )); do
        status="$(http_status "$url")"
        [[ "$status" == "$want" ]] && return 0
        if [[ -n "$pid" ]] && ! kill -0 "$pid" 2>/dev/null; then
            local rc=0
            wait "$pid" 2>/dev/null || rc=$?
            fail "process $pid exited with code $rc while waiting for $url"
        fi
        sleep 0.5
    done
    fail "$url did not answer $want within ${timeout_s}s (last: ${status:-none})"
}

# dockerfile_env: prints the final stage's ENV assignments (KEY=VALUE, one a line) as the image sets them.
dockerfile_env() {
    python3 - "$DEPLOY_REPO_ROOT/Dockerfile" <<'PY'
import shlex, sys
lines = open(sys.argv[1]).read().replace("\\\n", " ").splitlines()
stage_env = []
for line in lines:
    words = line.strip().split(None, 1)
    if not words:
        continue
    if words[0].upper() == "FROM":
        stage_env = []
    elif words[0].upper() == "ENV" and len(words) > 1:
        for token in shlex.split(words[1]):
            if "=" not in token:
                sys.exit("ENV without '=' is not supported: " + line)
            stage_env.append(token)
print("\n".join(stage_env))
PY
}

# dockerfile_json_instruction NAME: prints the exec-form arguments of the last NAME instruction
# (ENTRYPOINT, or HEALTHCHECK's CMD), one a line.
dockerfile_json_instruction() {
    python3 - "$DEPLOY_REPO_ROOT/Dockerfile" "$1" <<'PY'
import json, sys
lines = open(sys.argv[1]).read().replace("\\\n", " ").splitlines()
found = None
for line in lines:
    words = line.strip().split(None, 1)
    if words and words[0].upper() == sys.argv[2]:
        rest = words[1]
        if sys.argv[2] == "HEALTHCHECK":
            rest = rest[rest.index(" CMD ") + len(" CMD "):]
        found = json.loads(rest.strip())
if found is None:
    sys.exit("no exec-form %s in the Dockerfile" % sys.argv[2])
print("\n".join(found))
PY
}

# publish_service DIR: the Dockerfile's (and CI's) exact publish command.
publish_service() {
    local out="$1"
    log "dotnet publish src/ConvService.Api/ConvService.Api.csproj -c Release -o $out"
    (cd "$DEPLOY_REPO_ROOT" && timeout 900 dotnet publish src/ConvService.Api/ConvService.Api.csproj -c Release -o "$out" -nologo >"$out.publish.log" 2>&1) \
        || { tail -n 40 "$out.publish.log" >&2; fail "dotnet publish"; }
}

# start_service DIR REST_PORT GRPC_PORT LOGFILE [EXTRA KEY=VALUE...]: starts the published output
# the way the container's ENTRYPOINT does, with the Dockerfile's environment, the endpoints moved
# to the given ports (bound to 0.0.0.0 as in the container, or to CONV_BIND_HOST, e.g. 127.0.0.2
# to run several replicas on one port). Sets SERVICE_PID.
start_service() {
    local dir="$1" rest_port="$2" grpc_port="$3" logfile="$4"; shift 4
    local host="${CONV_BIND_HOST:-0.0.0.0}"
    local -a env_args entry
    mapfile -t env_args < <(dockerfile_env)
    mapfile -t entry < <(dockerfile_json_instruction ENTRYPOINT)
    (( ${#entry[@]} > 0 )) || fail "Dockerfile has no ENTRYPOINT"
    env_args+=("Kestrel__Endpoints__Rest__Url=http://${host}:${rest_port}"
               "Kestrel__Endpoints__Grpc__Url=http://${host}:${grpc_port}"
               "$@")
    log "starting '${entry[*]}' in $dir (REST $host:$rest_port, gRPC $host:$grpc_port)"
    # exec keeps the PID: signals go to the dotnet process itself, as they would in the container.
    (cd "$dir" && exec env "${env_args[@]}" "${entry[@]}" >"$logfile" 2>&1) &
    # shellcheck disable=SC2034 # read by the calling script
    SERVICE_PID=$!
}

# stop_process PID TIMEOUT_SECONDS: SIGTERM, wait, and set STOPPED_RC to the exit code (fails on
# timeout). Call it directly, not in $(...): only the shell that started PID can wait for it.
stop_process() {
    local pid="$1" timeout_s="$2" deadline
    kill -TERM "$pid" 2>/dev/null || true
    deadline=$(( $(date +%s) + timeout_s ))
    while kill -0 "$pid" 2>/dev/null; do
        if (( $(date +%s) >= deadline )); then
            kill -KILL "$pid" 2>/dev/null || true
            wait "$pid" 2>/dev/null || true
            fail "process $pid did not exit within ${timeout_s}s of SIGTERM"
        fi
        sleep 0.2
    done
    # shellcheck disable=SC2034 # read by the calling script
    STOPPED_RC=0
    # shellcheck disable=SC2034
    wait "$pid" || STOPPED_RC=$?
}

# pick_port PREFERRED [tcp|udp]: prints PREFERRED when nothing on this machine holds it (checked by
# binding 0.0.0.0), else a free ephemeral port: tests then never talk to someone else's server.
pick_port() {
    python3 - "$1" "${2:-tcp}" <<'PY'
import socket, sys
preferred, kind = int(sys.argv[1]), socket.SOCK_DGRAM if sys.argv[2] == "udp" else socket.SOCK_STREAM
for port in (preferred, 0):
    s = socket.socket(socket.AF_INET, kind)
    # As servers do (Kestrel, nginx): TIME_WAIT leftovers do not count as taken, listeners do.
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("0.0.0.0", port))
        print(s.getsockname()[1])
        break
    except OSError:
        continue
    finally:
        s.close()
PY
}
