"""Calls through the balancer: REST POST /v1/estimate-cost, or gRPC EstimateCost on ONE channel
(one HTTP/2 connection, as a real gRPC client keeps), and reads a replica's call count.

  lb_calls.py rest  BASE_URL COUNT
  lb_calls.py grpc  HOST:PORT COUNT            (needs grpcio: Debian's python3-grpcio)
  lb_calls.py large BASE_URL                   one ~10 MB REST convolution (nginx buffers it to temp files)
  lb_calls.py count METRICS_URL                prints conv_requests_total{rpc_method="EstimateCost"}
The gRPC request is hand-encoded protobuf (no generated stubs): EstimateCostRequest
{input_shape: [3, 12, 12], kernel_size: [5], output_channels: 256}.
"""
import json
import re
import sys
import urllib.error
import urllib.request

STANDARD_MULTIPLICATIONS = 1228800  # 256 * 8 * 8 * 3 * 25


def varint(n):
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def fail(message):
    print("FAIL: " + message, file=sys.stderr)
    sys.exit(1)


def rest(base, count):
    body = json.dumps({"inputShape": [3, 12, 12], "kernelSize": [5], "outputChannels": 256}).encode()
    for _ in range(count):
        request = urllib.request.Request(base + "/v1/estimate-cost", data=body, method="POST",
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            text = response.read().decode()
            if response.status != 200 or str(STANDARD_MULTIPLICATIONS) not in text:
                fail(f"REST estimate-cost via balancer: {response.status} {text[:300]}")


def grpc_calls(target, count):
    import grpc

    packed = lambda values: b"".join(varint(v) for v in values)
    shape, kernel = packed([3, 12, 12]), packed([5])
    request = (b"\x0a" + varint(len(shape)) + shape + b"\x12" + varint(len(kernel)) + kernel
               + b"\x18" + varint(256))
    expected = b"\x08" + varint(STANDARD_MULTIPLICATIONS)  # StageCost.multiplications
    with grpc.insecure_channel(target) as channel:
        call = channel.unary_unary("/conv.v1.Convolution/EstimateCost")
        for _ in range(count):
            response = call(request, timeout=10)
            if expected not in response:
                fail(f"gRPC EstimateCost via balancer: response lacks {STANDARD_MULTIPLICATIONS}: {response.hex()}")


def large(base):
    # 1x4x400x400 input (640k floats, ~5 MB of JSON each way): above nginx's in-memory buffers.
    n = 4 * 400 * 400
    body = {"input": {"shape": [1, 4, 400, 400], "data": [((i * 37) % 101) / 100.0 for i in range(n)]},
            "weight": {"shape": [4, 4, 1, 1], "data": [0.25] * 16}}
    request = urllib.request.Request(base + "/v1/convolve", data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            answer = json.loads(response.read())
    except urllib.error.HTTPError as error:
        fail(f"large REST convolve via balancer: {error.code} {error.read()[:300]!r}")
    if len(answer["output"]["data"]) != n:
        fail(f"large REST convolve via balancer: {len(answer['output']['data'])} outputs, expected {n}")


def count(metrics_url):
    with urllib.request.urlopen(metrics_url, timeout=5) as response:
        text = response.read().decode()
    total = 0.0
    for line in text.splitlines():
        if re.match(r'^conv_requests_total\{[^}]*rpc_method="EstimateCost"', line):
            # `name{labels} value [timestamp]`
            total += float(line[line.rindex("}") + 1:].split()[0])
    print(int(total))


if __name__ == "__main__":
    command = sys.argv[1]
    if command == "rest":
        rest(sys.argv[2], int(sys.argv[3]))
    elif command == "grpc":
        grpc_calls(sys.argv[2], int(sys.argv[3]))
    elif command == "large":
        large(sys.argv[2])
    elif command == "count":
        count(sys.argv[2])
    else:
        fail("unknown command " + command)
