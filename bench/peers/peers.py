#!/usr/bin/python3
"""The Python peers on memostore's benchmark workloads: diskcache's
Cache.memoize and joblib.Memory.cache (Debian's python3-diskcache and
python3-joblib). Prints one JSON line per (workload, system), the same schema
as memostore-bench.

usage: peers.py SCRATCH_DIR [--quick]
"""
import array
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import threading
import time

import diskcache
import joblib

SCRATCH = sys.argv[1]
QUICK = "--quick" in sys.argv


def small_value(key):
    r = random.Random(key)
    return "".join(chr(97 + r.randrange(26)) for _ in range(100))


def large_value(key):
    return array.array("d", (key + i * 0.5 for i in range(1_250_000)))


def percentile(samples, p):
    samples = sorted(samples)
    return samples[int(p * (len(samples) - 1))]


def report(workload, system, samples_ns, bytes_per_op=0, **extra):
    line = {"workload": workload, "system": system,
            "median_ns": percentile(samples_ns, 0.5), "p99_ns": percentile(samples_ns, 0.99)}
    if bytes_per_op:
        line["gb_per_s"] = bytes_per_op / line["median_ns"]
    line.update(extra)
    print(json.dumps(line), flush=True)


def time_hits(fn, keys, hits, seed=1):
    r = random.Random(seed)
    samples = []
    for _ in range(hits):
        k = r.randrange(keys)
        start = time.perf_counter_ns()
        fn(k)
        samples.append(time.perf_counter_ns() - start)
    return samples


def memoizers(directory):
    """(name, factory) pairs: factory(function name, function) -> memoized function."""
    cache = diskcache.Cache(os.path.join(directory, "diskcache"))
    memory = joblib.Memory(os.path.join(directory, "joblib"), verbose=0)
    return [("diskcache", lambda name, fn: cache.memoize(name=name)(fn)),
            ("joblib", lambda name, fn: memory.cache(fn))]


def hit_workload(workload, keys, hits, make, bytes_per_op):
    values = {k: make(k) for k in range(keys)}
    directory = os.path.join(SCRATCH, workload)
    for system, memoize in memoizers(directory):
        def compute(k):
            return values[k]
        compute.__name__ = compute.__qualname__ = f"{workload}_{system}"
        f = memoize(workload, compute)
        for k in range(keys):
            f(k)
        n = hits if system == "diskcache" else max(hits // 10, 5)  # joblib is slow: fewer samples
        report(workload, system, time_hits(f, keys, n), bytes_per_op)
        if workload == "W1":
            report("W1-hot", system, time_hits(f, 64, n))
    shutil.rmtree(directory, ignore_errors=True)


def w3(keys):
    values = [small_value(k) for k in range(keys)]
    directory = os.path.join(SCRATCH, "W3")
    for system, memoize in memoizers(directory):
        def compute(k):
            return values[k]
        compute.__name__ = compute.__qualname__ = f"W3_{system}"
        f = memoize("W3", compute)
        n = keys if system == "diskcache" else keys // 10
        samples = []
        for k in range(n):
            start = time.perf_counter_ns()
            f(k)
            samples.append(time.perf_counter_ns() - start)
        report("W3", system, samples)
    shutil.rmtree(directory, ignore_errors=True)


COLD_START = """
import sys, diskcache
cache = diskcache.Cache(sys.argv[1])
@cache.memoize(name="W1")
def f(k):
    raise SystemExit("miss")
assert len(f(int(sys.argv[2]))) == 100
"""


def w4(entries, runs):
    directory = os.path.join(SCRATCH, "W4", "diskcache")
    cache = diskcache.Cache(directory)
    f = cache.memoize(name="W1")(small_value)
    for k in range(entries):
        f(k)
    cache.close()
    samples = []
    for i in range(runs + 1):
        start = time.perf_counter_ns()
        subprocess.run([sys.executable, "-c", COLD_START, directory, str(i * 7919 % entries)], check=True)
        if i > 0:  # the first run warms the page cache
            samples.append(time.perf_counter_ns() - start)
    print(json.dumps({"workload": "W4", "system": "diskcache", "median_ms": percentile(samples, 0.5) / 1e6,
                      "p99_ms": percentile(samples, 0.99) / 1e6}), flush=True)
    shutil.rmtree(os.path.join(SCRATCH, "W4"), ignore_errors=True)


def w5(keys, hits):
    directory = os.path.join(SCRATCH, "W5")
    cache = diskcache.Cache(os.path.join(directory, "diskcache"))
    f = cache.memoize(name="W1")(small_value)
    for k in range(keys):
        f(k)

    def rate(threads):
        def worker(seed):
            r = random.Random(seed)
            for _ in range(hits):
                f(r.randrange(keys))
        start = time.perf_counter()
        pool = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
        for t in pool:
            t.start()
        for t in pool:
            t.join()
        return threads * hits / (time.perf_counter() - start)

    one, two = rate(1), rate(2)
    print(json.dumps({"workload": "W5", "system": "diskcache", "hits_per_s_1": one, "hits_per_s_2": two,
                      "scaling": two / one}), flush=True)
    shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    hit_workload("W1", 1000 if QUICK else 10_000, 1000 if QUICK else 100_000, small_value, 100)
    hit_workload("W2", 3 if QUICK else 20, 5 if QUICK else 100, large_value, 10_000_000)
    w3(1000 if QUICK else 10_000)
    w4(1000 if QUICK else 100_000, 3 if QUICK else 20)
    w5(1000 if QUICK else 10_000, 2000 if QUICK else 50_000)
