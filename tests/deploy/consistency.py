"""Structural checks of the deployment files against each other and the agreed names.

Run by validate.sh with Debian's python3 (PyYAML comes with docker-compose). Arguments: repo root,
the rendered kustomize output, and a path to write the dashboard's PromQL as a Prometheus rules
file for `promtool check rules`. Prints one line per check; exits 1 if any failed.
"""
import json
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(sys.argv[1])
K8S_RENDERED = Path(sys.argv[2])
RULES_OUT = Path(sys.argv[3])

REST_PORT, GRPC_PORT = 8080, 8081
PATHS = ("/healthz", "/readyz", "/metrics")
# notes/METRICS.md: OpenTelemetry instrument -> Prometheus names as exported.
INSTRUMENTS = {
    "conv.compute.duration": ["conv_compute_duration_seconds_bucket", "conv_compute_duration_seconds_sum",
                              "conv_compute_duration_seconds_count"],
    "conv.multiplications": ["conv_multiplications_total"],
    "conv.requests": ["conv_requests_total"],
    "conv.queue.wait": ["conv_queue_wait_seconds_bucket", "conv_queue_wait_seconds_sum",
                        "conv_queue_wait_seconds_count"],
    "conv.computations.inflight": ["conv_computations_inflight"],
    "conv.computations.queued": ["conv_computations_queued"],
}
AGREED_METRICS = {name for names in INSTRUMENTS.values() for name in names} | {"up"}

results = []


def check(name, ok, detail=""):
    results.append(ok)
    print(("ok:   " if ok else "FAIL: ") + name + ("" if ok or not detail else f" ({detail})"))


def read(rel):
    path = ROOT / rel
    return path.read_text() if path.exists() else None


# --- Dockerfile -------------------------------------------------------------------------------
dockerfile = read("Dockerfile") or ""
joined = dockerfile.replace("\\\n", " ")
expose = re.findall(r"^EXPOSE\s+(.+)$", joined, re.M)
check("Dockerfile EXPOSEs 8080 and 8081", bool(expose) and set(expose[-1].split()) >= {"8080", "8081"}, str(expose))
check("Dockerfile binds REST on 0.0.0.0:8080", "Kestrel__Endpoints__Rest__Url=http://0.0.0.0:8080" in joined)
check("Dockerfile binds gRPC on 0.0.0.0:8081", "Kestrel__Endpoints__Grpc__Url=http://0.0.0.0:8081" in joined)
check("Dockerfile HEALTHCHECK probes /healthz on 8080",
      bool(re.search(r"^HEALTHCHECK .*127\.0\.0\.1/8080.*GET /healthz ", joined, re.M)))
check("Dockerfile publishes with the agreed command",
      "dotnet publish src/ConvService.Api/ConvService.Api.csproj -c Release -o /app/publish" in joined)
check("Dockerfile runs as the non-root app user", bool(re.search(r"^USER \$APP_UID\s*$", joined, re.M)))
check("Dockerfile ENTRYPOINT is dotnet ConvService.Api.dll",
      bool(re.search(r'^ENTRYPOINT \["dotnet", "ConvService.Api.dll"\]\s*$', joined, re.M)))
dockerignore = (read(".dockerignore") or "").splitlines()
check(".dockerignore keeps src/ and protos/ and drops bin/obj",
      {"!src/", "!protos/", "**/bin/", "**/obj/"} <= set(line.strip() for line in dockerignore))

# --- appsettings.json (the host's defaults), when present ---------------------------------------
appsettings = read("src/ConvService.Api/appsettings.json")
if appsettings is not None:
    endpoints = json.loads(appsettings).get("Kestrel", {}).get("Endpoints", {})
    check("appsettings.json Rest endpoint is on 8080", str(endpoints.get("Rest", {}).get("Url", "")).endswith(":8080"))
    check("appsettings.json Grpc endpoint is on 8081", str(endpoints.get("Grpc", {}).get("Url", "")).endswith(":8081"))

# --- docker compose -----------------------------------------------------------------------------
compose = yaml.safe_load(read("deploy/docker-compose.yml"))
services = compose["services"]
conv = services["convservice"]
check("compose: convservice publishes no host port (scalable)", "ports" not in conv and "container_name" not in conv)
env = conv.get("environment", {})
check("compose: convservice binds 0.0.0.0:8080/8081",
      env.get("Kestrel__Endpoints__Rest__Url") == "http://0.0.0.0:8080"
      and env.get("Kestrel__Endpoints__Grpc__Url") == "http://0.0.0.0:8081")
check("compose: convservice exports OTLP to the collector as convservice",
      env.get("OTEL_EXPORTER_OTLP_ENDPOINT") == "http://otel-collector:4317" and env.get("OTEL_SERVICE_NAME") == "convservice")
check("compose: balancer publishes 8080 and 8081",
      {"8080:8080", "8081:8081"} <= set(map(str, services["lb"].get("ports", []))))
for svc_name, svc in services.items():
    for volume in svc.get("volumes", []):
        source = str(volume).split(":")[0]
        if source.startswith("./"):
            check(f"compose: {svc_name} mounts existing {source}", (ROOT / "deploy" / source).exists())

nginx = read("deploy/nginx/nginx.conf") or ""
check("nginx: gRPC server listens h2c on 8081 and grpc_pass-es to convservice:8081",
      bool(re.search(r"listen 8081 http2;", nginx)) and "convservice:8081" in nginx and "grpc_pass grpc://" in nginx)
check("nginx: REST server listens on 8080 and proxies to convservice:8080",
      bool(re.search(r"listen 8080;", nginx)) and "convservice:8080" in nginx)
check("nginx: re-resolves through Docker DNS", "resolver 127.0.0.11" in nginx)

# --- collector ----------------------------------------------------------------------------------
otel = yaml.safe_load(read("deploy/otel-collector.yaml"))
protocols = otel["receivers"]["otlp"]["protocols"]
check("collector: OTLP gRPC 4317 and HTTP 4318",
      protocols["grpc"]["endpoint"].endswith(":4317") and protocols["http"]["endpoint"].endswith(":4318"))
prom_exporter = otel["exporters"]["prometheus"]
check("collector: prometheus exporter without namespace prefix", prom_exporter.get("namespace", "") == "")
pipelines = otel["service"]["pipelines"]
for pipeline_name, pipeline in pipelines.items():
    kinds = {"receivers": otel.get("receivers", {}), "processors": otel.get("processors", {}),
             "exporters": otel.get("exporters", {})}
    undefined = [c for kind, defined in kinds.items() for c in pipeline.get(kind, []) if c not in defined]
    check(f"collector: {pipeline_name} pipeline uses only defined components", not undefined, str(undefined))
    processors = pipeline.get("processors", [])
    check(f"collector: {pipeline_name} runs memory_limiter first and batch",
          processors[:1] == ["memory_limiter"] and "batch" in processors)
check("collector: metrics go to prometheus, traces to debug",
      "prometheus" in pipelines["metrics"]["exporters"] and "debug" in pipelines["traces"]["exporters"])
exporter_port = prom_exporter["endpoint"].rsplit(":", 1)[1]

# --- Prometheus ---------------------------------------------------------------------------------
prom = yaml.safe_load(read("deploy/prometheus/prometheus.yml"))
jobs = {job["job_name"]: job for job in prom["scrape_configs"]}
collector_targets = [t for sc in jobs.get("otel-collector", {}).get("static_configs", []) for t in sc["targets"]]
check("prometheus: scrapes the collector's exporter port", f"otel-collector:{exporter_port}" in collector_targets,
      str(collector_targets))
check("prometheus: keeps the collector's job/instance labels", jobs.get("otel-collector", {}).get("honor_labels") is True)
replicas = jobs.get("convservice-replicas", {})
sd = replicas.get("dns_sd_configs", [{}])[0]
check("prometheus: scrapes every replica's /metrics on 8080 via DNS",
      replicas.get("metrics_path", "/metrics") == "/metrics" and sd.get("port") == REST_PORT and sd.get("names") == ["convservice"])

# --- Grafana ------------------------------------------------------------------------------------
datasources = yaml.safe_load(read("deploy/grafana/provisioning/datasources/prometheus.yml"))["datasources"]
check("grafana: provisioned Prometheus data source at prometheus:9090",
      any(d["type"] == "prometheus" and d["url"] == "http://prometheus:9090" for d in datasources))
providers = yaml.safe_load(read("deploy/grafana/provisioning/dashboards/convservice.yml"))["providers"]
check("grafana: dashboard provider points at the mounted dashboards",
      any(p["options"]["path"] == "/etc/grafana/dashboards" for p in providers))
dashboard = json.loads(read("deploy/grafana/dashboards/convservice.json"))
exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
check("dashboard: has queries", len(exprs) >= 8, str(len(exprs)))
promql_words = {"sum", "by", "rate", "histogram_quantile", "count", "vector", "le", "without", "on", "ignoring", "and", "or", "unless"}
used = set()
for expr in exprs:
    stripped = re.sub(r"\{[^}]*\}", "", re.sub(r'"[^"]*"', "", expr))
    stripped = re.sub(r"\[[^\]]*\]", "", stripped)
    for word in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", stripped):
        if word not in promql_words:
            used.add(word)
labels_in_by = {w for expr in exprs for group in re.findall(r"by \(([^)]*)\)", expr) for w in re.split(r"[ ,]+", group) if w}
unknown = sorted(used - AGREED_METRICS - labels_in_by)
check("dashboard: uses only the agreed metric names", not unknown, str(unknown))
text = "\n".join(exprs)
for quantile, label in (("0.5", "p50"), ("0.95", "p95"), ("0.99", "p99")):
    check(f"dashboard: {label} compute latency by conv_kind",
          f"histogram_quantile({quantile}, sum by (le, conv_kind) (rate(conv_compute_duration_seconds_bucket" in text)
check("dashboard: multiplications per second by kind", "sum by (conv_kind) (rate(conv_multiplications_total" in text)
check("dashboard: requests by RPC and status",
      "sum by (rpc_method, rpc_grpc_status_code) (rate(conv_requests_total" in text)
check("dashboard: in-flight and queued", "conv_computations_inflight" in text and "conv_computations_queued" in text)
check("dashboard: queue wait p95", "histogram_quantile(0.95, sum by (le) (rate(conv_queue_wait_seconds_bucket" in text)
rules = {"groups": [{"name": "dashboard", "rules": [
    {"record": f"dashboard:query_{i}", "expr": e.replace("$__rate_interval", "1m").replace("$job", "convservice")}
    for i, e in enumerate(exprs)]}]}
RULES_OUT.write_text(yaml.safe_dump(rules))

# --- Host code names the agreed instruments -----------------------------------------------------
api_sources = "\n".join(p.read_text() for p in (ROOT / "src" / "ConvService.Api").rglob("*.cs"))
for instrument in INSTRUMENTS:
    check(f"host: instrument \"{instrument}\" is defined in src/ConvService.Api", f'"{instrument}"' in api_sources)

# --- Kubernetes ---------------------------------------------------------------------------------
docs = [d for d in yaml.safe_load_all(K8S_RENDERED.read_text()) if d]
by_kind = {}
for d in docs:
    by_kind.setdefault(d["kind"], []).append(d)
check("k8s: renders Deployment, 2 Services, HPA, PDB, ConfigMap",
      all(k in by_kind for k in ("Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget", "ConfigMap"))
      and len(by_kind.get("Service", [])) == 2)
check("k8s: no namespace hard-coded", all("namespace" not in d["metadata"] for d in docs))
deployment = by_kind["Deployment"][0]
pod = deployment["spec"]["template"]["spec"]
container = pod["containers"][0]
ports = {p["name"]: p["containerPort"] for p in container["ports"]}
check("k8s: container ports rest 8080 and grpc 8081", ports == {"rest": REST_PORT, "grpc": GRPC_PORT}, str(ports))


def probe_target(probe):
    port = probe["httpGet"]["port"]
    return probe["httpGet"]["path"], ports.get(port, port)


check("k8s: readiness probe GET /readyz on 8080", probe_target(container["readinessProbe"]) == ("/readyz", REST_PORT))
check("k8s: liveness probe GET /healthz on 8080", probe_target(container["livenessProbe"]) == ("/healthz", REST_PORT))
check("k8s: resource requests and limits", {"requests", "limits"} <= set(container.get("resources", {})))
config = by_kind["ConfigMap"][0]["data"]
check("k8s: endpoints bound to 0.0.0.0:8080/8081",
      config.get("Kestrel__Endpoints__Rest__Url") == "http://0.0.0.0:8080"
      and config.get("Kestrel__Endpoints__Grpc__Url") == "http://0.0.0.0:8081")
prestop = container.get("lifecycle", {}).get("preStop", {}).get("exec", {}).get("command", [])
prestop_seconds = int(prestop[1]) if len(prestop) == 2 and prestop[0] == "sleep" else 0
drain = int(config.get("ConvService__DrainSeconds", "0"))
check("k8s: preStop sleep, then drain, within terminationGracePeriodSeconds",
      prestop_seconds > 0 and drain > 0 and pod.get("terminationGracePeriodSeconds", 30) > prestop_seconds + drain)
services_k8s = {s["metadata"]["name"]: s for s in by_kind["Service"]}
headless = services_k8s.get("convservice-grpc-headless", {}).get("spec", {})
check("k8s: headless gRPC Service on 8081",
      headless.get("clusterIP") == "None" and [p["port"] for p in headless.get("ports", [])] == [GRPC_PORT])
regular = services_k8s.get("convservice", {}).get("spec", {})
check("k8s: regular Service for REST 8080 and gRPC 8081",
      sorted(p["port"] for p in regular.get("ports", [])) == [REST_PORT, GRPC_PORT] and regular.get("clusterIP") != "None")
hpa = by_kind["HorizontalPodAutoscaler"][0]
check("k8s: HPA autoscaling/v2 on CPU targets the Deployment",
      hpa["apiVersion"] == "autoscaling/v2" and hpa["spec"]["scaleTargetRef"]["name"] == deployment["metadata"]["name"]
      and any(m.get("resource", {}).get("name") == "cpu" for m in hpa["spec"]["metrics"]))
pdb = by_kind["PodDisruptionBudget"][0]
check("k8s: PDB selects the Deployment's pods",
      pdb["spec"]["selector"]["matchLabels"].items() <= deployment["spec"]["template"]["metadata"]["labels"].items())
selector = deployment["spec"]["selector"]["matchLabels"].items()
check("k8s: Services select the Deployment's pods",
      all(s["spec"]["selector"].items() <= deployment["spec"]["template"]["metadata"]["labels"].items() for s in by_kind["Service"])
      and selector <= deployment["spec"]["template"]["metadata"]["labels"].items())

# --- README -------------------------------------------------------------------------------------
readme = read("README.md")
if readme is None:
    check("README.md exists (the lead writes its Deploy section)", False, "README.md is missing at the repository root")
else:
    for needle in ("8080", "8081") + PATHS:
        check(f"README.md mentions {needle}", needle in readme)

failed = results.count(False)
print(f"consistency: {len(results) - failed} passed, {failed} failed")
sys.exit(1 if failed else 0)
