"""A stand-in for the collector's OTLP/gRPC receiver: accepts the Export calls of the metrics, trace
and logs services on 127.0.0.1:PORT, answers success, and stores each request's bytes in OUT_DIR as
<n>-<signal>.bin. Stops after MAX_SECONDS or on SIGTERM. Needs grpcio (Debian's python3-grpcio).

  otlp_sink.py PORT OUT_DIR MAX_SECONDS
"""
import itertools
import signal
import sys
import threading
from concurrent import futures
from pathlib import Path

import grpc

PORT, OUT, MAX_SECONDS = int(sys.argv[1]), Path(sys.argv[2]), float(sys.argv[3])
SIGNALS = {
    "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export": "metrics",
    "/opentelemetry.proto.collector.trace.v1.TraceService/Export": "traces",
    "/opentelemetry.proto.collector.logs.v1.LogsService/Export": "logs",
}
counter = itertools.count()


class ExportHandler(grpc.GenericRpcHandler):
    def service(self, handler_call_details):
        signal_name = SIGNALS.get(handler_call_details.method)
        if signal_name is None:
            return None

        def export(request, context):
            (OUT / f"{next(counter):05d}-{signal_name}.bin").write_bytes(request)
            return b""  # an empty Export*ServiceResponse: full success

        # No (de)serializers: requests arrive as the raw protobuf bytes.
        return grpc.unary_unary_rpc_method_handler(export)


OUT.mkdir(parents=True, exist_ok=True)
server = grpc.server(futures.ThreadPoolExecutor(max_workers=4), handlers=[ExportHandler()])
if server.add_insecure_port(f"127.0.0.1:{PORT}") == 0:
    sys.exit(f"cannot listen on 127.0.0.1:{PORT}")
server.start()
stop = threading.Event()
signal.signal(signal.SIGTERM, lambda *_: stop.set())
stop.wait(MAX_SECONDS)
server.stop(grace=1).wait()
