"""Drives ConvService over REST and checks what Prometheus scraped from its /metrics.

  e2e_metrics.py drive   SERVICE_URL PHASE STATE_JSON   send one phase of calls, add them to STATE_JSON
  e2e_metrics.py wait    PROM_URL JOB STATE_JSON SECS   wait until Prometheus has scraped every call
  e2e_metrics.py assert  PROM_URL JOB STATE_JSON DASHBOARD_JSON
Loopback only, standard library only. Exits 1 with a message on the first failure.
"""
import json
import math
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

KINDS = ("standard", "depthwise_separable", "spatially_separable")


def fail(message):
    print("FAIL: " + message, file=sys.stderr)
    sys.exit(1)


def tensor(shape, seed):
    count = math.prod(shape)
    # Deterministic, varied values in [-1, 1].
    return {"shape": shape, "data": [round(((i * 7919 + seed * 104729) % 2001) / 1000.0 - 1.0, 3) for i in range(count)]}


def post(url, body):
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")


# (path, rpc method, conv.kind, request body, expected output shape)
def calls(phase):
    pads = {"pads": [1, 1, 1, 1]}
    standard = ("/v1/convolve", "Convolve", "standard",
                {"input": tensor([1, 3, 16, 16], 1), "weight": tensor([8, 3, 3, 3], 2), "bias": tensor([8], 3),
                 "options": pads}, [1, 8, 16, 16])
    depthwise = ("/v1/separable-convolve", "SeparableConvolve", "depthwise_separable",
                 {"input": tensor([1, 3, 16, 16], 4),
                  "depthwiseSeparable": {"depthwiseWeight": tensor([6, 1, 3, 3], 5),
                                         "pointwiseWeight": tensor([8, 6, 1, 1], 6)},
                  "options": pads}, [1, 8, 16, 16])
    spatial = ("/v1/separable-convolve", "SeparableConvolve", "spatially_separable",
               {"input": tensor([3, 16, 16], 7),
                "spatiallySeparable": {"column": [0.25, 0.5, 0.25], "row": [1.0, 0.0, -1.0]},
                "options": pads}, [3, 16, 16])
    # Phase 1 makes every series exist; phase 2 adds more, so rate() over the two scrapes is non-zero.
    counts = {"1": (1, 1, 1), "2": (5, 3, 4)}[phase]
    return [standard] * counts[0] + [depthwise] * counts[1] + [spatial] * counts[2]


def load_state(path):
    p = Path(path)
    if p.exists():
        return json.loads(p.read_text())
    return {"computations": {k: 0 for k in KINDS}, "multiplications": {k: 0 for k in KINDS},
            "requests": {"Convolve": 0, "SeparableConvolve": 0}}


def drive(service, phase, state_path):
    state = load_state(state_path)
    for path, method, kind, body, out_shape in calls(phase):
        status, answer = post(service + path, body)
        if status != 200:
            fail(f"POST {path} ({kind}) answered {status}: {str(answer)[:500]}")
        execution = answer.get("execution", {})
        if execution.get("kind") != kind:
            fail(f"POST {path}: execution.kind is {execution.get('kind')!r}, expected {kind!r}")
        shape = [int(d) for d in answer.get("output", {}).get("shape", [])]
        if shape != out_shape:
            fail(f"POST {path} ({kind}): output shape {shape}, expected {out_shape}")
        state["computations"][kind] += 1
        # int64 fields are JSON strings in the proto3 mapping.
        state["multiplications"][kind] += int(execution.get("multiplications", 0))
        state["requests"][method] += 1
    Path(state_path).write_text(json.dumps(state))
    print(f"phase {phase}: {state['computations']}")


def query(prom, expr):
    url = prom + "/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    with urllib.request.urlopen(url, timeout=10) as response:
        answer = json.loads(response.read())
    if answer.get("status") != "success":
        fail(f"query {expr!r}: {answer}")
    return answer["data"]["result"]


def by_label(result, label):
    return {series["metric"].get(label, ""): float(series["value"][1]) for series in result}


def wait(prom, job, state_path, seconds):
    state = load_state(state_path)
    expr = f'sum by (conv_kind) (conv_compute_duration_seconds_count{{job="{job}"}})'
    deadline = time.monotonic() + float(seconds)
    seen = {}
    while time.monotonic() < deadline:
        seen = by_label(query(prom, expr), "conv_kind")
        if all(seen.get(k) == state["computations"][k] for k in KINDS):
            print(f"scraped: {seen}")
            return
        time.sleep(0.5)
    fail(f"Prometheus did not see the calls within {seconds}s: expected {state['computations']}, last {seen}")


def check(name, ok, detail=""):
    if not ok:
        fail(f"{name}: {detail}")
    print("ok: " + name)


def assert_all(prom, job, state_path, dashboard_path):
    state = load_state(state_path)
    sel = f'job="{job}"'
    counts = by_label(query(prom, f"sum by (conv_kind) (conv_compute_duration_seconds_count{{{sel}}})"), "conv_kind")
    check("conv_compute_duration_seconds_count by conv_kind equals the calls made",
          counts == {k: float(v) for k, v in state["computations"].items()}, f"{counts} vs {state['computations']}")
    for q in ("0.5", "0.95", "0.99"):
        expr = f"histogram_quantile({q}, sum by (le, conv_kind) (rate(conv_compute_duration_seconds_bucket{{{sel}}}[1m])))"
        values = by_label(query(prom, expr), "conv_kind")
        check(f"histogram_quantile({q}) has a finite positive series for every kind",
              set(values) == set(KINDS) and all(math.isfinite(v) and 0 < v <= 10 for v in values.values()), str(values))
    multiplications = by_label(query(prom, f"sum by (conv_kind) (conv_multiplications_total{{{sel}}})"), "conv_kind")
    check("conv_multiplications_total by conv_kind equals the responses' execution.multiplications",
          multiplications == {k: float(v) for k, v in state["multiplications"].items()},
          f"{multiplications} vs {state['multiplications']}")
    requests = query(prom, f"sum by (rpc_method, rpc_grpc_status_code) (conv_requests_total{{{sel}}})")
    ok_requests = {s["metric"].get("rpc_method"): float(s["value"][1]) for s in requests
                   if s["metric"].get("rpc_grpc_status_code") == "OK"}
    check("conv_requests_total{rpc_grpc_status_code=\"OK\"} by rpc_method equals the calls made",
          all(ok_requests.get(m) == float(n) for m, n in state["requests"].items()), f"{ok_requests} vs {state['requests']}")
    waits = query(prom, f"sum(conv_queue_wait_seconds_count{{{sel}}})")
    total = sum(state["computations"].values())
    check("conv_queue_wait_seconds_count counts every admitted computation",
          waits and float(waits[0]["value"][1]) == total, f"{waits} vs {total}")
    inflight = query(prom, f"sum(conv_computations_inflight{{{sel}}})")
    check("conv_computations_inflight is exported and back to 0", inflight and float(inflight[0]["value"][1]) == 0, str(inflight))
    # An up-down counter is exported once first changed; nothing queued here, so it may be absent.
    queued = query(prom, f"sum(conv_computations_queued{{{sel}}})")
    check("conv_computations_queued is 0 or not yet exported", not queued or float(queued[0]["value"][1]) == 0, str(queued))
    # Every dashboard query runs against the real series; the latency/work panels return data.
    dashboard = json.loads(Path(dashboard_path).read_text())
    empty = []
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            expr = target["expr"].replace("$__rate_interval", "1m").replace("$job", job)
            if not query(prom, expr) and "convservice-replicas" not in expr and "!=" not in expr and "=~\"RESOURCE" not in expr:
                empty.append(f"{panel['title']}: {expr}")
    check("every dashboard query evaluates, and those expected to have data do", not empty, "\n  ".join(empty))


if __name__ == "__main__":
    command, args = sys.argv[1], sys.argv[2:]
    if command == "drive":
        drive(*args)
    elif command == "wait":
        wait(*args)
    elif command == "assert":
        assert_all(*args)
    else:
        fail("unknown command " + command)
