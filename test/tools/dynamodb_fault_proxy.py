#!/usr/bin/env python3
"""A fault-injecting HTTP proxy in front of a DynamoDB endpoint (dynalite), for testing retries.

dynalite never throttles and never returns UnprocessedItems, so code that must survive both
is tested through this proxy. Configured by flags, it

  * answers a fraction of requests (of chosen operations) with HTTP 400
    ProvisionedThroughputExceededException, without forwarding them;
  * forwards only some of the items of a fraction of BatchWriteItem requests and reports the
    rest as UnprocessedItems - so those items really are not written unless sent again;
  * throttles every request of the chosen operations after the first N (a table whose
    throughput is gone for good).

dynalite does not check signatures, so a shortened BatchWriteItem body is forwarded with the
original (now wrong) signature and a correct Content-Length. Counts of what was done go to
--stats-file (JSON, rewritten after every request). Python 3 standard library only.

  dynamodb_fault_proxy.py --port-file port --target http://127.0.0.1:4569 \\
      --throttle-fraction 0.2 --partial-fraction 0.3 --stats-file stats.json
"""
import argparse
import http.client
import http.server
import json
import os
import random
import sys
import threading
import urllib.parse
import zlib

THROTTLE_BODY = json.dumps({
    "__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
    "message": "The level of configured provisioned throughput for the table was exceeded. "
               "(injected by dynamodb_fault_proxy)",
}).encode()

# Hop-by-hop headers and the ones recomputed for the forwarded body.
SKIPPED_REQUEST_HEADERS = {"content-length", "connection", "keep-alive", "transfer-encoding",
                           "expect"}
SKIPPED_RESPONSE_HEADERS = {"content-length", "connection", "keep-alive", "transfer-encoding",
                            "x-amz-crc32", "date", "server"}


class Faults:
    def __init__(self, args):
        self.args = args
        self.random = random.Random(args.seed)
        self.lock = threading.Lock()
        self.operations = set(filter(None, args.operations.split(","))) if args.operations else None
        self.stats = {"requests": 0, "forwarded": 0, "throttled": 0, "partial_batches": 0,
                      "items_withheld": 0, "items_forwarded": 0, "by_operation": {}}
        self.seen = {}  # operation -> requests of it so far

    def applies_to(self, operation):
        return self.operations is None or operation in self.operations

    def decide(self, operation):
        """'throttle', 'partial' or 'forward' for the next request of `operation`."""
        with self.lock:
            self.stats["requests"] += 1
            ops = self.stats["by_operation"]
            ops[operation] = ops.get(operation, 0) + 1
            n = self.seen[operation] = self.seen.get(operation, 0) + 1
            if self.applies_to(operation):
                if self.args.throttle_after is not None and n > self.args.throttle_after:
                    self.stats["throttled"] += 1
                    return "throttle"
                if self.random.random() < self.args.throttle_fraction:
                    self.stats["throttled"] += 1
                    return "throttle"
            if operation == "BatchWriteItem" and self.random.random() < self.args.partial_fraction:
                self.stats["partial_batches"] += 1
                return "partial"
            return "forward"

    def split(self, requests):
        """How many of a table's write requests to forward: at least one is withheld."""
        with self.lock:
            return self.random.randint(0, len(requests) - 1)

    def count(self, key, n=1):
        with self.lock:
            self.stats[key] += n

    def save(self):
        if not self.args.stats_file:
            return
        with self.lock:
            text = json.dumps(self.stats, sort_keys=True)
        tmp = self.args.stats_file + ".tmp.%d" % threading.get_ident()
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, self.args.stats_file)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the client expects
    faults = None
    target = None

    def log_message(self, fmt, *args):  # quiet: the test prints what matters
        pass

    def reply(self, status, headers, body):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def forward(self, body):
        conn = getattr(self.server.local, "conn", None)
        if conn is None:
            conn = http.client.HTTPConnection(self.target.hostname, self.target.port, timeout=60)
            self.server.local.conn = conn
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() not in SKIPPED_REQUEST_HEADERS}
        headers["Content-Length"] = str(len(body))
        try:
            conn.request("POST", self.path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            conn.close()
            self.server.local.conn = None
            raise
        self.faults.count("forwarded")
        return response.status, [(k, v) for k, v in response.getheaders()
                                 if k.lower() not in SKIPPED_RESPONSE_HEADERS], data

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        operation = self.headers.get("X-Amz-Target", "").split(".")[-1]
        action = self.faults.decide(operation)
        try:
            if action == "throttle":
                self.reply(400, [("Content-Type", "application/x-amz-json-1.0"),
                                 ("x-amz-crc32", str(zlib.crc32(THROTTLE_BODY)))], THROTTLE_BODY)
            elif action == "partial":
                self.partial_batch(body)
            else:
                if operation == "BatchWriteItem":
                    self.faults.count("items_forwarded", batch_size(body))
                status, headers, data = self.forward(body)
                self.reply(status, headers, data)
        finally:
            self.faults.save()

    def partial_batch(self, body):
        request = json.loads(body)
        forwarded, withheld = {}, {}
        for table, requests in request.get("RequestItems", {}).items():
            keep = self.faults.split(requests) if requests else 0
            if keep:
                forwarded[table] = requests[:keep]
            if requests[keep:]:
                withheld[table] = requests[keep:]
        self.faults.count("items_withheld", sum(len(r) for r in withheld.values()))
        self.faults.count("items_forwarded", sum(len(r) for r in forwarded.values()))
        if forwarded:
            request["RequestItems"] = forwarded
            status, headers, data = self.forward(json.dumps(request).encode())
            if status != 200:  # a real error: pass it on as it is
                self.reply(status, headers, data)
                return
            response = json.loads(data)
        else:
            headers = [("Content-Type", "application/x-amz-json-1.0")]
            response = {}
        unprocessed = response.setdefault("UnprocessedItems", {})
        for table, requests in withheld.items():
            unprocessed.setdefault(table, []).extend(requests)
        data = json.dumps(response).encode()
        headers = [(k, v) for k, v in headers if k.lower() != "x-amz-crc32"]
        headers.append(("x-amz-crc32", str(zlib.crc32(data))))
        self.reply(200, headers, data)


def batch_size(body):
    try:
        return sum(len(r) for r in json.loads(body).get("RequestItems", {}).values())
    except ValueError:
        return 0


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, *args):
        super().__init__(*args)
        self.local = threading.local()  # one upstream connection per handler thread


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0 (default): any free port")
    p.add_argument("--port-file", default="",
                   help="write the port listened on here, once listening")
    p.add_argument("--target", required=True, help="http://host:port of dynalite")
    p.add_argument("--throttle-fraction", type=float, default=0.0,
                   help="fraction of requests answered with ProvisionedThroughputExceeded")
    p.add_argument("--partial-fraction", type=float, default=0.0,
                   help="fraction of BatchWriteItem requests that write only some items")
    p.add_argument("--operations", default="",
                   help="comma-separated operations throttling applies to (default: all)")
    p.add_argument("--throttle-after", type=int, default=None,
                   help="throttle every request of those operations after the first N")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--stats-file", default="")
    args = p.parse_args()
    target = urllib.parse.urlsplit(args.target)
    if target.scheme != "http" or not target.hostname:
        p.error("--target must be http://host:port")
    Handler.faults = Faults(args)
    Handler.target = target
    server = Server((args.host, args.port), Handler)
    port = server.server_address[1]
    Handler.faults.save()
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as f:
            f.write("%d\n" % port)
        os.replace(args.port_file + ".tmp", args.port_file)
    print("dynamodb_fault_proxy listening on http://%s:%d -> %s" % (args.host, port, args.target),
          flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
