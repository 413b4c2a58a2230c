#!/usr/bin/env python3
"""The peer in bench/run: Kinto (https://kinto.readthedocs.io), storing the same kind of records
Gloss syncs (notes and tags on excerpts), pushed through /v1/batch and pulled back with _since.

    kinto_bench.py URL RECORDS BACKEND RESULTS [CONCURRENT_CHANGES]    (RECORDS 0: no single client)

URL is a running Kinto on 127.0.0.1 with basicauth and kinto.batch_max_requests >= 2000.
Prints a line per measure and appends `kinto.BACKEND.KEY<TAB>VALUE<TAB>UNIT` lines to RESULTS.
With CONCURRENT_CHANGES > 0, then runs the shape of gloss-bench's concurrent run against Kinto:
20 clients (4 users x 5 devices, each a process of its own), in 5 rounds each client pushes its
share of CONCURRENT_CHANGES records and pulls what its user's collection gained since its last
pull, all 20 at the same moment. Standard library only; loopback only.
"""
import base64
import json
import multiprocessing
import statistics
import sys
import threading
import time
import urllib.request

url, n, backend, results = sys.argv[1].rstrip("/"), int(sys.argv[2]), sys.argv[3], sys.argv[4]
concurrent_changes = int(sys.argv[5]) if len(sys.argv) > 5 else 0
auth = "Basic " + base64.b64encode(b"bench:bench").decode()
BATCH = 2000


def call(method, path, body=None, user=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url + path, data=data, method=method)
    req.add_header("Authorization", auth if user is None else "Basic " + base64.b64encode(("%s:%s" % (user, user)).encode()).decode())
    req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=600) as r:
        return r.status, dict(r.headers), json.loads(r.read() or b"null")


def record(i, prefix=""):
    # same shapes as gloss-bench's annotations: half notes, half tags (deterministic)
    excerpt = "%032x" % ((i * 2654435761) % (1 << 127))
    if i % 2 == 0:
        return {"id": prefix + "n%08d" % i, "kind": "note", "excerptId": excerpt, "createdAt": 1764000000000 + i,
                "body": "Bench note %d: compare the testimony with the archive record." % i,
                "stamp": "%013d-0000-bench00000000001" % (1764000000000 + i)}
    return {"id": prefix + "t%08d" % i, "kind": "tag", "excerptId": excerpt, "name": "t%d" % (i % 50), "present": True,
            "stamp": "%013d-0000-bench00000000001" % (1764000000000 + i)}


def emit(key, value, unit, text):
    if text:
        print(text)
    with open(results, "a") as f:
        f.write("kinto.%s.%s\t%s\t%s\n" % (backend, key, value, unit))


def push_batch(reqs, user=None):
    """One /v1/batch of PUT requests; stops the bench if Kinto refuses any of them."""
    _, _, answer = call("POST", "/v1/batch", {"requests": reqs}, user=user)
    bad = [r for r in answer["responses"] if r["status"] >= 300]
    if bad:
        sys.exit("kinto refused %d of a batch: %s" % (len(bad), bad[0]))


def pull_since(path, user=None):
    """Every record of a collection modified after the path's `_since`, following Next-Page."""
    records = []
    while path:
        _, headers, page = call("GET", path, user=user)
        records += page["data"]
        nxt = headers.get("Next-Page")
        path = nxt[len(url):] if nxt else None
    return records


ROUNDS, USERS, DEVICES = 5, 4, 5


def device(index, per_round, barrier, out):
    """One concurrent client: device index % DEVICES of user index // DEVICES. A device that
    fails breaks the barrier, so the others and the main process stop at once."""
    try:
        run_device(index, per_round, barrier, out)
    except BaseException:
        barrier.abort()
        raise


def run_device(index, per_round, barrier, out):
    user = "user%d" % (index // DEVICES)
    base = "/v1/buckets/%s/collections/annotations/records" % user
    since, latencies, pulled = 0, [], 0
    for r in range(ROUNDS):
        reqs = [{"method": "PUT", "path": base[3:] + "/" + rec["id"], "body": {"data": rec}}
                for rec in (record(r * per_round + i, "d%d-" % index) for i in range(per_round))]
        barrier.wait(timeout=600)
        start = time.perf_counter()
        push_batch(reqs, user=user)
        got = pull_since(base + "?_since=%d&_sort=last_modified&_limit=10000" % since, user=user)
        since = max([since] + [g["last_modified"] for g in got])
        latencies.append((time.perf_counter() - start) * 1000)
        pulled += sum(1 for g in got if not g["id"].startswith("d%d-" % index))
        barrier.wait(timeout=600)
    # settle (untimed, as gloss-bench's two syncs after its rounds): what siblings pushed after
    # this device's last pull
    got = pull_since(base + "?_since=%d&_sort=last_modified&_limit=10000" % since, user=user)
    out.put((latencies, pulled + sum(1 for g in got if not g["id"].startswith("d%d-" % index))))


def concurrent(changes):
    clients = USERS * DEVICES
    # one batch per device and round: at least one record, at most Kinto's batch limit
    if not ROUNDS <= changes <= ROUNDS * BATCH:
        sys.exit("concurrent changes per client must be between %d and %d" % (ROUNDS, ROUNDS * BATCH))
    per_round = changes // ROUNDS
    for u in range(USERS):
        user = "user%d" % u
        call("PUT", "/v1/buckets/" + user, {"data": {}}, user=user)
        call("PUT", "/v1/buckets/%s/collections/annotations" % user, {"data": {}}, user=user)
    barrier = multiprocessing.Barrier(clients + 1)
    out = multiprocessing.Queue()
    procs = [multiprocessing.Process(target=device, args=(i, per_round, barrier, out)) for i in range(clients)]
    for p in procs:
        p.start()
    wall = 0.0
    try:
        for _ in range(ROUNDS):
            barrier.wait(timeout=600)
            start = time.perf_counter()
            barrier.wait(timeout=600)
            wall += time.perf_counter() - start
    except threading.BrokenBarrierError:
        for p in procs:
            p.join(timeout=10)
        sys.exit("kinto's concurrent run failed (device exit codes %s)" % [p.exitcode for p in procs])
    answers = [out.get(timeout=600) for _ in procs]
    for p in procs:
        p.join()
    latencies = sorted(l for ls, _ in answers for l in ls)
    pushed = clients * per_round * ROUNDS
    pulled = sum(p for _, p in answers)
    # every record a device pushed reaches its 4 siblings (records the device pulled back from
    # itself are not counted); as in gloss-bench, the rate divides them all by the rounds' time
    if pulled != pushed * (DEVICES - 1):
        sys.exit("kinto's concurrent run delivered %d records to siblings, expected %d" % (pulled, pushed * (DEVICES - 1)))
    p50 = statistics.median(latencies)
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    emit("concurrent.rate", "%.0f" % (pushed / wall), "records/s",
         "kinto (%s): %d clients at once (%d users x %d devices, each a process), %d records pushed and %d pulled by siblings in %d rounds: %.2f s = %.0f pushed/s (%.0f pulled/s); latency p50 %.0f ms p99 %.0f ms"
         % (backend, clients, USERS, DEVICES, pushed, pulled, ROUNDS, wall, pushed / wall, pulled / wall, p50, p99))
    emit("concurrent.pulled", "%.0f" % (pulled / wall), "records/s", "")
    emit("concurrent.p50", "%.1f" % p50, "ms", "")
    emit("concurrent.p99", "%.1f" % p99, "ms", "")
    emit("concurrent.changes", per_round * ROUNDS, "records", "")


def single():
    call("PUT", "/v1/buckets/bench", {"data": {}})
    call("PUT", "/v1/buckets/bench/collections/annotations", {"data": {}})
    base = "/buckets/bench/collections/annotations/records/"
    _, _, before = call("GET", "/v1/buckets/bench/collections/annotations/records?_limit=1&_sort=-last_modified")
    since = before["data"][0]["last_modified"] if before["data"] else 0

    start = time.perf_counter()
    for lo in range(0, n, BATCH):
        reqs = [{"method": "PUT", "path": base + r["id"], "body": {"data": r}} for r in (record(i) for i in range(lo, min(n, lo + BATCH)))]
        push_batch(reqs)
    push = time.perf_counter() - start
    emit("records", n, "records", "kinto (%s): %d records" % (backend, n))
    emit("push.rate", "%.0f" % (n / push), "records/s", "kinto (%s): push of %d records through /v1/batch (%d per batch): %.2f s (%.0f records/s)" % (backend, n, BATCH, push, n / push))

    start = time.perf_counter()
    pulled = len(pull_since("/v1/buckets/bench/collections/annotations/records?_since=%d&_sort=last_modified&_limit=10000" % since))
    pull = time.perf_counter() - start
    if pulled != n:
        sys.exit("kinto returned %d records, expected %d" % (pulled, n))
    emit("pull.rate", "%.0f" % (pulled / pull), "records/s", "kinto (%s): pull of %d records with _since, pages of 10000: %.2f s (%.0f records/s)" % (backend, pulled, pull, pulled / pull))


if __name__ == "__main__":
    if n > 0:
        single()
    if concurrent_changes > 0:
        concurrent(concurrent_changes)
