#!/usr/bin/env python3
"""The peer in bench/run: Kinto (https://kinto.readthedocs.io), storing the same kind of records
Gloss syncs (notes and tags on excerpts), pushed through /v1/batch and pulled back with _since.

    kinto_bench.py URL RECORDS BACKEND RESULTS

URL is a running Kinto on 127.0.0.1 with basicauth and kinto.batch_max_requests >= 2000.
Prints a line per measure and appends `kinto.BACKEND.KEY<TAB>VALUE<TAB>UNIT` lines to RESULTS.
Standard library only; loopback only.
"""
import base64
import json
import sys
import time
import urllib.request

url, n, backend, results = sys.argv[1].rstrip("/"), int(sys.argv[2]), sys.argv[3], sys.argv[4]
auth = "Basic " + base64.b64encode(b"bench:bench").decode()
BATCH = 2000


def call(method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url + path, data=data, method=method)
    req.add_header("Authorization", auth)
    req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=600) as r:
        return r.status, dict(r.headers), json.loads(r.read() or b"null")


def record(i):
    # same shapes as gloss-bench's annotations: half notes, half tags (deterministic)
    excerpt = "%032x" % ((i * 2654435761) % (1 << 127))
    if i % 2 == 0:
        return {"id": "n%08d" % i, "kind": "note", "excerptId": excerpt, "createdAt": 1764000000000 + i,
                "body": "Bench note %d: compare the testimony with the archive record." % i,
                "stamp": "%013d-0000-bench00000000001" % (1764000000000 + i)}
    return {"id": "t%08d" % i, "kind": "tag", "excerptId": excerpt, "name": "t%d" % (i % 50), "present": True,
            "stamp": "%013d-0000-bench00000000001" % (1764000000000 + i)}


def emit(key, value, unit, text):
    print(text)
    with open(results, "a") as f:
        f.write("kinto.%s.%s\t%s\t%s\n" % (backend, key, value, unit))


call("PUT", "/v1/buckets/bench", {"data": {}})
call("PUT", "/v1/buckets/bench/collections/annotations", {"data": {}})
base = "/buckets/bench/collections/annotations/records/"
_, _, before = call("GET", "/v1/buckets/bench/collections/annotations/records?_limit=1&_sort=-last_modified")
since = before["data"][0]["last_modified"] if before["data"] else 0

start = time.perf_counter()
for lo in range(0, n, BATCH):
    reqs = [{"method": "PUT", "path": base + r["id"], "body": {"data": r}} for r in (record(i) for i in range(lo, min(n, lo + BATCH)))]
    status, _, answer = call("POST", "/v1/batch", {"requests": reqs})
    bad = [r for r in answer["responses"] if r["status"] >= 300]
    if bad:
        sys.exit("kinto refused %d of a batch: %s" % (len(bad), bad[0]))
push = time.perf_counter() - start
emit("records", n, "records", "kinto (%s): %d records" % (backend, n))
emit("push.rate", "%.0f" % (n / push), "records/s", "kinto (%s): push of %d records through /v1/batch (%d per batch): %.2f s (%.0f records/s)" % (backend, n, BATCH, push, n / push))

start = time.perf_counter()
pulled = 0
path = "/v1/buckets/bench/collections/annotations/records?_since=%d&_sort=last_modified&_limit=10000" % since
while path:
    _, headers, page = call("GET", path)
    pulled += len(page["data"])
    nxt = headers.get("Next-Page")
    path = nxt[len(url):] if nxt else None
pull = time.perf_counter() - start
if pulled != n:
    sys.exit("kinto returned %d records, expected %d" % (pulled, n))
emit("pull.rate", "%.0f" % (pulled / pull), "records/s", "kinto (%s): pull of %d records with _since, pages of 10000: %.2f s (%.0f records/s)" % (backend, pulled, pull, pulled / pull))
