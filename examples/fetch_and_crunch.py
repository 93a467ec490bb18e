"""An ordinary concurrent.futures script: it knows nothing about cs_futures.

It serves a few generated documents on loopback, downloads them concurrently on a thread pool
(I/O-bound), then counts their words on a process pool (CPU-bound), and prints what it did.
Run it as it is (`python fetch_and_crunch.py`) or on .NET pools (`python -m cs_futures fetch_and_crunch.py`).
"""
import collections
import concurrent.futures
import http.server
import threading
import time
import urllib.request

WORDS = "alpha beta gamma delta epsilon zeta eta theta iota kappa".split()
DOCUMENTS = 24


def document(n):
    """The text of document n: a deterministic mix of words."""
    return " ".join(WORDS[(n * 7 + i * i) % len(WORDS)] for i in range(2000 + 50 * n))


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        time.sleep(0.05)  # a slow server: the thread pool overlaps the waits
        body = document(int(self.path.strip("/"))).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class Server(http.server.ThreadingHTTPServer):
    request_queue_size = 64  # the default backlog of 5 drops concurrent connects (1 s SYN retry)


def fetch(url):
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read().decode()


def count_words(text):
    return collections.Counter(text.split())


def main():
    server = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = "http://127.0.0.1:%d/" % server.server_address[1]
    try:
        started = time.perf_counter()
        texts = {}
        with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
            futures = {pool.submit(fetch, base + str(n)): n for n in range(DOCUMENTS)}
            for future in concurrent.futures.as_completed(futures):
                texts[futures[future]] = future.result()
        fetched = time.perf_counter() - started
        print("fetched %d documents (%d bytes) in %.2f s on %s (sequential would take about %.2f s)" % (
            len(texts), sum(map(len, texts.values())), fetched, type(pool).__module__, DOCUMENTS * 0.05))

        started = time.perf_counter()
        totals = collections.Counter()
        with concurrent.futures.ProcessPoolExecutor(max_workers=2) as pool:
            for counts in pool.map(count_words, [texts[n] for n in range(DOCUMENTS)], chunksize=4):
                totals.update(counts)
        print("counted %d words in %.2f s on %s; most common: %s" % (
            sum(totals.values()), time.perf_counter() - started, type(pool).__module__,
            ", ".join("%s=%d" % item for item in totals.most_common(3))))
    finally:
        server.shutdown()


if __name__ == "__main__":
    main()
