"""Opens N connections to HOST:PORT and sends a request to each one byte per second, for
SECONDS; the slow clients of bench_web.sh. Prints how many connections stayed open to the
end (the server closes idle ones after its timeout)."""
import socket, sys, time
host, port, n, seconds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
req = b"GET /api/search?q=tom HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 200 + b"\r\n\r\n"
socks = []
for _ in range(n):
    s = socket.create_connection((host, port))
    socks.append([s, 0])
end = time.time() + seconds
while time.time() < end:
    for e in socks:
        if e[0] is None:
            continue
        try:
            e[0].send(req[e[1] % len(req):e[1] % len(req) + 1])
            e[1] += 1
        except OSError:
            e[0] = None
    time.sleep(1)
print("slow clients: %d of %d still open after %.0f s" % (sum(1 for e in socks if e[0]), n, seconds))
