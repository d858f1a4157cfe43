#!/usr/bin/python3
"""A small HTTP server for the download tests, bound to 127.0.0.1 only.

  http_files.py FILE PORTFILE [--drop-after N] [--linked-etag HEX]

Serves FILE at /model.safetensors with Range support (206, Content-Range; 416 past
the end), and X-Linked-Etag set to the file's sha256 (or HEX), as Hugging Face does;
/redirect answers 302 to it, anything else 404. With --drop-after N the first request
for the file sends only N bytes of its body and then closes the connection. Each
request's Range header is appended to PORTFILE.log. Writes the port to PORTFILE.
"""
import hashlib
import http.server
import sys

path, portfile = sys.argv[1], sys.argv[2]
args = sys.argv[3:]
drop = int(args[args.index("--drop-after") + 1]) if "--drop-after" in args else -1
data = open(path, "rb").read()
etag = args[args.index("--linked-etag") + 1] if "--linked-etag" in args else \
    hashlib.sha256(data).hexdigest()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def do_GET(self):
        global drop
        if self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "/model.safetensors")
            self.send_header("X-Linked-Etag", '"%s"' % etag)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if self.path != "/model.safetensors":
            self.send_error(404)
            return
        rng = self.headers.get("Range", "")
        with open(portfile + ".log", "a") as log:
            log.write((rng or "-") + "\n")
        start = int(rng[6:].split("-")[0]) if rng.startswith("bytes=") else 0
        if start >= len(data) and rng:
            self.send_response(416)
            self.send_header("Content-Range", "bytes */%d" % len(data))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = data[start:]
        self.send_response(206 if rng else 200)
        if rng:
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, len(data) - 1, len(data)))
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Linked-Etag", '"%s"' % etag)
        self.end_headers()
        if drop >= 0:
            self.wfile.write(body[:drop])
            self.wfile.flush()
            drop = -1
            self.close_connection = True
            return
        self.wfile.write(body)


server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
with open(portfile, "w") as f:
    f.write(str(server.server_address[1]))
server.serve_forever()
