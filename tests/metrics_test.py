#!/usr/bin/python3
"""`memostore stats --format openmetrics|prometheus` for a store with two
functions: parsed by the Prometheus project's own parsers (Debian's
python3-prometheus-client: the strict OpenMetrics parser, and the text-format
parser node_exporter's format follows), and every sample checked against
`stats --json`.

usage: metrics_test.py TOOL MEMO_CHILD
"""
import json
import math
import os
import subprocess
import sys
import tempfile

from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_openmetrics
from prometheus_client.parser import text_string_to_metric_families as parse_prometheus

tool, child = sys.argv[1], sys.argv[2]
failures = []


def check(condition, what):
    if not condition:
        failures.append(what)


def run(*args):
    done = subprocess.run(args, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"{' '.join(args)} failed ({done.returncode}): {done.stderr}")
    return done.stdout


with tempfile.TemporaryDirectory() as scratch:
    store = os.path.join(scratch, 'cache "quoted"\\dir')  # a label value that needs escaping
    env = dict(os.environ, MEMOSTORE_MODE="")
    for _ in range(2):  # square: 4 misses, then 4 hits
        subprocess.run([child, store, "squares", "4"], check=True, capture_output=True, env=env)
    subprocess.run([child, store, "padded-squares", "3"], check=True, capture_output=True, env=env)
    truth = json.loads(run(tool, "--dir", store, "stats", "--json"))
    by_name = {f["name"]: f for f in truth["functions"]}
    check(sorted(by_name) == ["padded", "square"], f"two functions in the store, got {sorted(by_name)}")
    check(by_name["square"]["hits"] == 4 and by_name["square"]["misses"] == 4, "square: 4 hits, 4 misses")

    # What each family must say, per function, from the JSON.
    per_function = {
        "memostore_hits": "hits", "memostore_fallback_hits": "fallback_hits", "memostore_misses": "misses",
        "memostore_stores": "stores", "memostore_refreshes": "refreshes",
        "memostore_refresh_failures": "refresh_failures",
        "memostore_evictions": "evictions", "memostore_expirations": "expirations",
        "memostore_rejected": "rejected", "memostore_checked": "checked", "memostore_stale": "stale",
        "memostore_changed_layout": "changed_layout", "memostore_entries": "entries",
        "memostore_result_bytes": "bytes",
    }
    in_seconds = {"memostore_compute_seconds": "compute_ns", "memostore_saved_seconds": "saved_ns"}

    for fmt, parse in (("openmetrics", parse_openmetrics), ("prometheus", parse_prometheus)):
        text = run(tool, "--dir", store, "stats", "--format", fmt)
        families = {f.name: f for f in parse(text)}  # raises on anything the format does not allow
        # The classic parser names a counter family with its _total; OpenMetrics without.
        def family(name, counter=True):
            key = name if fmt == "openmetrics" or not counter else name + "_total"
            found = families.get(key) or families.get(name)
            check(found is not None, f"{fmt}: family {name} missing")
            return found
        for name, field in list(per_function.items()) + list(in_seconds.items()):
            counter = name not in ("memostore_entries", "memostore_result_bytes")
            f = family(name, counter)
            if f is None:
                continue
            check(f.type == ("counter" if counter else "gauge") or (fmt == "prometheus" and f.type == "untyped"),
                  f"{fmt}: {name} is a {f.type}")
            samples = {s.labels["function"]: s for s in f.samples if not s.name.endswith("_created")}
            check(sorted(samples) == ["padded", "square"], f"{fmt}: {name} samples {sorted(samples)}")
            for function, sample in samples.items():
                check(sample.labels["dir"] == store, f"{fmt}: dir label {sample.labels['dir']!r}")
                want = by_name[function][field]
                if field.endswith("_ns"):
                    check(math.isclose(sample.value, want / 1e9, rel_tol=1e-9, abs_tol=1e-9),
                          f"{fmt}: {name}{{{function}}} = {sample.value}, want {want / 1e9}")
                else:
                    check(sample.value == want, f"{fmt}: {name}{{{function}}} = {sample.value}, want {want}")
        for name, unit in (("memostore_compute_seconds", "seconds"), ("memostore_result_bytes", "bytes")):
            if fmt == "openmetrics":
                check(families[name].unit == unit, f"openmetrics: {name} unit {families[name].unit!r}")
        disk = family("memostore_disk_bytes", counter=False)
        if disk is not None:
            check(disk.samples[0].value == truth["disk_bytes"] or disk.samples[0].value > 0, "disk bytes")
        for what in ("hits", "misses", "writes", "dropped_writes", "rejected", "errors"):
            f = family(f"memostore_remote_{what}")
            if f is not None:
                check(f.samples[0].value == truth["remote"][what], f"{fmt}: remote {what}")
        check(text.endswith("# EOF\n") == (fmt == "openmetrics"), f"{fmt}: # EOF only in OpenMetrics")

    bad = subprocess.run([tool, "--dir", store, "stats", "--format", "prometheus", "--json"], capture_output=True)
    check(bad.returncode == 2, "--format with --json is a usage error")

if failures:
    print("\n".join(failures))
    sys.exit(1)
print("metrics: openmetrics and prometheus outputs parse and match stats --json")
