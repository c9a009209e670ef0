#!/usr/bin/env bash
# Static checks of the deployment files, no engine or cluster needed: docker-compose config, nginx -t,
# promtool check config, shellcheck of these scripts, the dashboard's JSON and PromQL (promtool check
# rules), kustomize render,
# and consistency.py (ports, paths and metric names agree across Dockerfile, compose, nginx,
# collector, Prometheus, Grafana, Kubernetes, the host's code and README.md).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$DEPLOY_REPO_ROOT"

WORK="$(mktemp -d /tmp/convservice-validate.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT

ensure_tool docker-compose docker-compose
ensure_tool promtool prometheus
ensure_tool nginx nginx
ensure_tool kubectl kubernetes-client
ensure_tool shellcheck shellcheck
# PyYAML for Debian's python3 (docker-compose depends on it; pyenv's python3 may lack it).
PY=/usr/bin/python3
if ! "$PY" -c 'import yaml' 2>/dev/null; then
    DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y --no-install-recommends python3-yaml >/dev/null || fail "apt-get install python3-yaml"
fi

timeout 60 docker-compose -f deploy/docker-compose.yml config -q || fail "docker-compose config"
passed "docker-compose -f deploy/docker-compose.yml config"

mkdir -p "$WORK/nginx/logs"
timeout 30 nginx -t -q -p "$WORK/nginx" -c "$DEPLOY_REPO_ROOT/deploy/nginx/nginx.conf" || fail "nginx -t deploy/nginx/nginx.conf"
passed "nginx -t deploy/nginx/nginx.conf"

timeout 30 promtool check config deploy/prometheus/prometheus.yml >/dev/null || fail "promtool check config"
passed "promtool check config deploy/prometheus/prometheus.yml"

timeout 60 shellcheck -x -P tests/deploy tests/deploy/*.sh || fail "shellcheck tests/deploy"
passed "shellcheck tests/deploy/*.sh"

"$PY" -m json.tool deploy/grafana/dashboards/convservice.json >/dev/null || fail "dashboard JSON does not parse"
passed "dashboard JSON parses"

timeout 60 kubectl kustomize deploy/k8s >"$WORK/k8s.yaml" || fail "kubectl kustomize deploy/k8s"
passed "kubectl kustomize deploy/k8s ($(grep -c '^kind:' "$WORK/k8s.yaml") objects)"

consistency_rc=0
"$PY" tests/deploy/consistency.py "$DEPLOY_REPO_ROOT" "$WORK/k8s.yaml" "$WORK/dashboard-rules.yml" || consistency_rc=$?

[[ -s "$WORK/dashboard-rules.yml" ]] || fail "consistency.py wrote no dashboard queries"
timeout 30 promtool check rules "$WORK/dashboard-rules.yml" >/dev/null || fail "a dashboard query is not valid PromQL"
passed "every dashboard query is valid PromQL (promtool check rules)"

(( consistency_rc == 0 )) || fail "consistency checks (see FAIL lines above; README.md is the lead's)"
passed "consistency checks"

echo "validate: $PASSED passed, 0 failed"
