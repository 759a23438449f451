#!/usr/bin/env python3
"""A TCP proxy on loopback for cdkit's fault tests: client bytes go upstream
at --rate bytes per second (answers are not slowed), so that a test can act
(kill the registry) while an upload is under way.

    slowproxy.py --upstream HOST:PORT --rate BYTES --port-file FILE [--port N]

Start-up and --port-file as tests/lib/testserver.py says.
"""
import socket
import threading
import time

import testserver


def pump(src, dst, rate):
    try:
        while True:
            data = src.recv(16384 if rate else 65536)
            if not data:
                break
            dst.sendall(data)
            if rate:
                time.sleep(len(data) / rate)
    except OSError:
        pass
    for s in (src, dst):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def serve(conn, upstream, rate):
    try:
        up = socket.create_connection(upstream)
    except OSError:
        conn.close()
        return
    threading.Thread(target=pump, args=(conn, up, rate), daemon=True).start()
    threading.Thread(target=pump, args=(up, conn, 0), daemon=True).start()


def main():
    ap = testserver.parser("A TCP proxy that slows what clients send.", log=False, rules=False)
    ap.add_argument("--upstream", required=True)
    ap.add_argument("--rate", type=int, required=True)
    a = ap.parse_args()
    host, port = a.upstream.rsplit(":", 1)
    ls = testserver.listen_tcp(a.port)
    testserver.write_port_file(a.port_file, ls.getsockname()[1])
    while True:
        conn, _ = ls.accept()
        serve(conn, (host, int(port)), a.rate)


if __name__ == "__main__":
    main()
