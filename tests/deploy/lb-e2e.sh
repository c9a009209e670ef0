#!/usr/bin/env bash
# The compose balancer's real nginx.conf, run here against several published replicas: checks that
# REST calls and gRPC calls on ONE HTTP/2 connection are spread over every replica, and that a
# replica added later (as `--scale` does) is used once the DNS answer changes. Docker's embedded
# DNS is stood in for by dnsmasq on loopback answering `convservice` with one address per replica
# (127.0.0.2, .3, .4); only the resolver address and the ports of the config are rewritten.
#   tests/deploy/lb-e2e.sh          (env: CONVSERVICE_PUBLISH_DIR to reuse a publish output)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPLICA_REST="$(pick_port 18380)"
REPLICA_GRPC="$(pick_port 18381)"
LB_REST="$(pick_port 28080)"
LB_GRPC="$(pick_port 28081)"
DNS_PORT="$(pick_port 15353 udp)"
WORK="$(mktemp -d /tmp/convservice-lb-e2e.XXXXXX)"
PIDS=()

cleanup() {
    local rc=$?
    for pid in "${PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
        kill -KILL "$pid" 2>/dev/null || true
    done
    if (( rc != 0 )); then
        for f in "$WORK"/*.log; do
            [[ -f "$f" ]] && { log "last lines of $(basename "$f"):"; tail -n 15 "$f" >&2 || true; }
        done
    fi
    rm -rf "$WORK" "$WORK.publish.log"
}
trap cleanup EXIT

ensure_tool curl curl
ensure_tool nginx nginx
ensure_tool dnsmasq dnsmasq-base
PY=/usr/bin/python3
if ! "$PY" -c 'import grpc' 2>/dev/null; then
    DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y --no-install-recommends python3-grpcio >/dev/null \
        || fail "apt-get install python3-grpcio"
fi

if [[ -n "${CONVSERVICE_PUBLISH_DIR:-}" ]]; then
    APP="$CONVSERVICE_PUBLISH_DIR"
else
    APP="$WORK/app"
    publish_service "$APP"
fi

start_replica() {
    local ip="$1"
    CONV_BIND_HOST="$ip" start_service "$APP" "$REPLICA_REST" "$REPLICA_GRPC" "$WORK/replica-$ip.log"
    PIDS+=("$SERVICE_PID")
    wait_http "http://$ip:$REPLICA_REST/readyz" 200 60 "$SERVICE_PID"
}
replica_count() { "$PY" "$HERE/lb_calls.py" count "http://$1:$REPLICA_REST/metrics"; }

start_replica 127.0.0.2
start_replica 127.0.0.3

# dnsmasq reads the hosts file after dropping root: it must be world-readable.
chmod 755 "$WORK"
printf '127.0.0.2 convservice\n127.0.0.3 convservice\n' >"$WORK/hosts"
chmod 644 "$WORK/hosts"
dnsmasq --keep-in-foreground --port="$DNS_PORT" --listen-address=127.0.0.1 --bind-interfaces \
    --no-resolv --no-hosts --addn-hosts="$WORK/hosts" --pid-file= --log-facility=- >"$WORK/dnsmasq.log" 2>&1 &
DNS_PID=$!
PIDS+=("$DNS_PID")

# The compose config with only the resolver, ports and pid file moved; every rewrite must apply.
mkdir -p "$WORK/nginx/logs"
CONF="$WORK/nginx/nginx.conf"
cp "$DEPLOY_REPO_ROOT/deploy/nginx/nginx.conf" "$CONF"
rewrite() {
    grep -qF -- "$1" "$CONF" || fail "deploy/nginx/nginx.conf no longer contains '$1'; update lb-e2e.sh"
    local from="$1" to="$2"
    "$PY" -c 'import sys; p=sys.argv[1]; s=open(p).read(); open(p,"w").write(s.replace(sys.argv[2], sys.argv[3]))' "$CONF" "$from" "$to"
}
rewrite "resolver 127.0.0.11 " "resolver 127.0.0.1:${DNS_PORT} "
rewrite "listen 8081 http2;" "listen 127.0.0.1:${LB_GRPC} http2;"
rewrite "listen 8080;" "listen 127.0.0.1:${LB_REST};"
rewrite "convservice:8081;" "convservice:${REPLICA_GRPC};"
rewrite "convservice:8080;" "convservice:${REPLICA_REST};"
rewrite "pid /tmp/nginx.pid;" "pid $WORK/nginx/nginx.pid;"
nginx -t -q -p "$WORK/nginx" -c "$CONF" || fail "nginx -t on the rewritten config"
nginx -p "$WORK/nginx" -c "$CONF" -g 'daemon off;' >"$WORK/nginx.log" 2>&1 &
PIDS+=("$!")
wait_http "http://127.0.0.1:${LB_REST}/lb-healthz" 200 30
passed "nginx with deploy/nginx/nginx.conf is up"

# Each replica must get a real share; 40 calls at 1/2 each: P(a replica gets < 5) is about 1e-7.
spread_check() {
    local what="$1" calls="$2" min="$3"; shift 3
    local -a before after
    local ip i=0 total=0
    for ip in "$@"; do before+=("$(replica_count "$ip")"); done
    "${CALL[@]}" "$calls"
    for ip in "$@"; do after+=("$(replica_count "$ip")"); done
    local summary=""
    for ip in "$@"; do
        local got=$(( after[i] - before[i] ))
        summary+="$ip:$got "
        total=$(( total + got ))
        (( got >= min )) || fail "$what: replica $ip served $got of $calls calls (want >= $min): $summary"
        i=$((i + 1))
    done
    (( total == calls )) || fail "$what: replicas counted $total calls, sent $calls ($summary)"
    passed "$what spread over replicas: $summary"
}

CALL=("$PY" "$HERE/lb_calls.py" rest "http://127.0.0.1:${LB_REST}")
spread_check "REST via balancer" 40 5 127.0.0.2 127.0.0.3
CALL=("$PY" "$HERE/lb_calls.py" grpc "127.0.0.1:${LB_GRPC}")
spread_check "gRPC on one connection via balancer" 40 5 127.0.0.2 127.0.0.3
# Bodies beyond nginx's memory buffers go through its temp files, which its workers must be able to write.
timeout 120 "$PY" "$HERE/lb_calls.py" large "http://127.0.0.1:${LB_REST}"
passed "a ~5 MB REST convolution passes through the balancer both ways"

# Scale out: a third replica appears in DNS; nginx re-resolves after valid=5s.
start_replica 127.0.0.4
printf '127.0.0.4 convservice\n' >>"$WORK/hosts"
kill -HUP "$DNS_PID"
sleep 6
spread_check "gRPC after adding a replica" 60 3 127.0.0.2 127.0.0.3 127.0.0.4

echo "lb-e2e: $PASSED passed, 0 failed"
