#!/usr/bin/env python3
"""An HTTP proxy in front of a local S3 server that makes the first attempt of every request
fail, the way S3 and networks do: throttling (503 SlowDown, 429), server errors (500, 504),
a dropped connection, and a CompleteMultipartUpload that answers 200 with an error inside.
The second attempt of the same request (same method, path and query) is passed through, so
a client that retries correctly succeeds and one that does not fails. A GET whose key holds
"cut-body" is always cut off halfway through the body, after the headers promised it all.

Headers are forwarded untouched (Host included), so SigV4 signatures stay valid.

    s3_fault_proxy.py UPSTREAM_PORT PORT_FILE LOG_FILE

Writes the port it listens on to PORT_FILE, and one line per request to LOG_FILE:
"<fault or 'pass'> <status> <method> <path>".
"""
import http.client
import http.server
import os
import sys
import threading

UPSTREAM_PORT = int(sys.argv[1])
PORT_FILE, LOG_FILE = sys.argv[2], sys.argv[3]
seen = set()
lock = threading.Lock()


def error_xml(code, message):
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>%s</Code><Message>%s</Message>'
            '<RequestId>FAULTPROXY</RequestId></Error>' % (code, message)).encode()


def first_fault(method, path):
    """The fault for the first attempt of this request."""
    query = path.partition("?")[2]
    if method == "PUT" and "partNumber=" in query:
        number = int(query.split("partNumber=")[1].split("&")[0])
        return "drop" if number % 2 else "500"
    if method == "POST" and query.startswith("uploads"):
        return "503"
    if method == "POST" and "uploadId=" in query:
        return "200-error"
    if method == "POST" and query.startswith("delete"):
        return "504"
    if method == "GET" and "list-type=2" in query:
        return "429"
    return "503"


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def log(self, fault, status):
        with lock, open(LOG_FILE, "a") as log:
            log.write("%s %s %s %s\n" % (fault, status, self.command, self.path))

    def handle_any(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        key = (self.command, self.path)
        with lock:
            fault = None if key in seen else first_fault(self.command, self.path)
            seen.add(key)
        if self.command == "GET" and "cut-body" in self.path:
            fault = "cut"
        if fault == "drop":
            self.log(fault, "-")
            self.close_connection = True
            return
        if fault in ("503", "500", "504", "429", "200-error"):
            status, code = {"503": (503, "SlowDown"), "500": (500, "InternalError"),
                            "504": (504, "GatewayTimeout"), "429": (429, "TooManyRequests"),
                            "200-error": (200, "InternalError")}[fault]
            payload = error_xml(code, "injected by s3_fault_proxy")
            self.send_response(status)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            self.log(fault, status)
            return
        upstream = http.client.HTTPConnection("127.0.0.1", UPSTREAM_PORT, timeout=60)
        upstream.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
        for name, value in self.headers.items():
            upstream.putheader(name, value)
        upstream.endheaders(body)
        response = upstream.getresponse()
        payload = response.read()
        upstream.close()
        self.send_response(response.status)
        for name, value in response.getheaders():
            if name.lower() not in ("content-length", "transfer-encoding", "connection", "date",
                                    "server"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if fault == "cut":
            self.wfile.write(payload[: len(payload) // 2])
            self.wfile.flush()
            self.close_connection = True
        else:
            self.wfile.write(payload)
        self.log(fault or "pass", response.status)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_any


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
with open(PORT_FILE + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(PORT_FILE + ".tmp", PORT_FILE)
server.serve_forever()
