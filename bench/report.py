#!/usr/bin/python3
"""Builds bench/RESULTS.md from the JSON lines of memostore-bench and peers.py.

usage: report.py RESULTS_JSONL COMMAND > RESULTS.md
Every number comes from the input; the target verdicts are computed from it.
"""
import json
import os
import platform
import subprocess
import sys
import time

rows = [json.loads(line) for line in open(sys.argv[1]) if line.startswith("{")]
command = sys.argv[2]
by = {(r["workload"], r["system"]): r for r in rows}


def get(workload, system, metric):
    r = by.get((workload, system))
    return None if r is None else r.get(metric)


def fmt_ns(ns):
    if ns is None:
        return "–"
    if ns < 1e3:
        return f"{ns:.0f} ns"
    if ns < 1e6:
        return f"{ns / 1e3:.2f} µs"
    return f"{ns / 1e6:.2f} ms"


def machine():
    model = "unknown CPU"
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    memory = int(open("/proc/meminfo").readline().split()[1]) / 1024 / 1024
    compiler = subprocess.run(["c++", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    return f"{model}, {os.cpu_count()} cores, {memory:.0f} GiB RAM, Linux {platform.release()}, {compiler}"


SYSTEMS = ["memostore", "memostore_no_hot", "memostore_static", "memostore_claim_every_miss", "memostore_per_process",
           "rocksdb_raw", "rocksdb_default", "rocksdb_raw_get_put", "rocksdb_raw_get_put_info", "unordered_map", "memcpy", "sqlite_wal",
           "cereal_files", "diskcache", "joblib", "mutex_map", "shared_mutex_map", "static_local"]


def median(values):
    values = sorted(values)
    return values[len(values) // 2] if values else None


def w6(system, metric):
    """The median over W6's rounds (one process each) of `metric` for `system`."""
    return median([r[metric] for r in rows if r["workload"] == "W6" and r["system"] == system])


def latency_table(workload, title, gb=False):
    out = [f"### {title}", "", "| system | median | p99 | ratio to raw RocksDB (median) |" + (" GB/s |" if gb else ""),
           "|---|---|---|---|" + ("---|" if gb else "")]
    base = get(workload, "rocksdb_raw", "median_ns")
    for s in SYSTEMS:
        r = by.get((workload, s))
        if r is None:
            continue
        ratio = f"{r['median_ns'] / base:.2f}×" if base else "–"
        line = f"| {s} | {fmt_ns(r['median_ns'])} | {fmt_ns(r['p99_ns'])} | {ratio} |"
        if gb:
            line += f" {r.get('gb_per_s', 0):.2f} |"
        out.append(line)
    return out + [""]


def verdict(ok):
    return "met" if ok else "**missed**"


def targets():
    lines = ["## Targets", "", "| target | measured | verdict |", "|---|---|---|"]

    def add(name, measured, ok):
        lines.append(f"| {name} | {measured} | {verdict(ok) if ok is not None else 'not measured'} |")

    m, raw = get("W1", "memostore", "median_ns"), get("W1", "rocksdb_raw", "median_ns")
    if m and raw:
        add("W1 median ≤ 1.2 × raw RocksDB", f"{m / raw:.2f}×", m / raw <= 1.2)
    cold = get("W1", "memostore_no_hot", "median_ns")
    if cold and raw:
        add("W1 median ≤ 1.2 × raw RocksDB, hot tier off (RocksDB's read path)", f"{cold / raw:.2f}×", cold / raw <= 1.2)
    hot = get("W1-hot", "memostore", "median_ns")
    if hot:
        add("W1 hot-set hit ≤ 0.5 µs", fmt_ns(hot), hot <= 500)
    dc = get("W1", "diskcache", "median_ns")
    if m and dc:
        add("W1 ≥ 10 × faster than diskcache memoize", f"{dc / m:.1f}× faster", dc / m >= 10)
    w2, w2dc = get("W2", "memostore", "gb_per_s"), get("W2", "diskcache", "gb_per_s")
    if w2:
        add("W2 ≥ 10 GB/s", f"{w2:.2f} GB/s", w2 >= 10)
    if w2 and w2dc:
        add("W2 at least as fast as diskcache", f"{w2:.2f} vs {w2dc:.2f} GB/s", w2 >= w2dc)
    w3, w3raw = get("W3", "memostore", "median_ns"), get("W3", "rocksdb_raw", "median_ns")
    if w3 and w3raw:
        add("W3 ≤ 1.3 × raw RocksDB Put", f"{w3 / w3raw:.2f}×", w3 / w3raw <= 1.3)
    w4 = get("W4", "memostore", "median_ms")
    if w4:
        add("W4 ≤ 10 ms", f"{w4:.1f} ms", w4 <= 10)
    w4static = get("W4", "memostore_static", "median_ms")
    if w4static:
        add("W4 ≤ 10 ms, RocksDB and memostore linked statically", f"{w4static:.1f} ms", w4static <= 10)
    w5 = get("W5", "memostore", "scaling")
    if w5:
        add("W5 scaling ≥ 1.8 ×", f"{w5:.2f}×", w5 >= 1.8)
    w5cold = get("W5", "memostore_no_hot", "scaling")
    if w5cold:
        add("W5 scaling ≥ 1.8 ×, hot tier off", f"{w5cold:.2f}×", w5cold >= 1.8)
    s1 = get("S1", "memostore", "median_ns")
    if s1:
        add("S1 singleton hit ≤ 100 ns", fmt_ns(s1), s1 <= 100)
    s1floor = get("S1", "shared_mutex_map", "median_ns")
    if s1 and s1floor:
        add("S1 ≤ 2.5 × a shared_mutex + unordered_map", f"{s1 / s1floor:.2f}× ({fmt_ns(s1)} vs {fmt_ns(s1floor)})",
            s1 <= 2.5 * s1floor)
    w6m, w6raw = w6("memostore", "per_hit_ns"), w6("rocksdb_raw", "per_hit_ns")
    if w6m and w6raw:
        add("W6 ≤ 1.1 × raw RocksDB per hit, open to close", f"{w6m / w6raw:.2f}×", w6m <= 1.1 * w6raw)
    shared, copy = get("W7 repeat", "memostore_shared", "median_ns"), get("W7 repeat", "memostore_copy", "median_ns")
    if shared:
        add("W7 repeated shared hit on a 10 MB result ≤ 1 µs", fmt_ns(shared), shared <= 1000)
    if shared and copy:
        add("W7 repeated shared hit ≥ 1000 × faster than the copying hit", f"{copy / shared:,.0f}×",
            copy >= 1000 * shared)
    first, first_raw = get("W7 first", "memostore_shared", "median_ns"), get("W7 first", "rocksdb_raw", "median_ns")
    if first and first_raw:
        add("W7 first shared hit ≤ raw RocksDB pinned read + one decode", f"{first / first_raw:.2f}×",
            first <= first_raw)
    first_kept = get("W7 first", "rocksdb_raw_memostore_decoder_kept", "median_ns")
    if first and first_kept:
        add("W7 first shared hit ≤ raw RocksDB pinned read + one decode, keeping the result as shared does",
            f"{first / first_kept:.2f}×", first <= first_kept)
    chained = [w for (w, s) in by if w.startswith("W7 chained") and s == "memostore_by_digest"]
    costs = [get(w, "memostore_by_digest", "median_ns") - get(w, "memostore_by_int", "median_ns") for w in chained
             if get(w, "memostore_by_int", "median_ns")]
    if costs:
        add("W7 key cost of a Shared argument ≤ 2 µs, 1 KiB to 100 MiB upstream (hit keyed by digest − hit keyed "
            "by an int)", ", ".join(fmt_ns(max(c, 0)) for c in costs), all(c <= 2000 for c in costs))
    rss = get("M", "memostore", "peak_rss_mb")
    if rss:
        add("M peak RSS ≤ 256 MB", f"{rss:.0f} MB", rss <= 256)
    return lines + [""]


out = ["# memostore benchmark results", "",
       f"Measured {time.strftime('%Y-%m-%d')} on {machine()}.", "",
       f"Reproduce with `{command}` (writes this file). All systems ran in one run, on the same workloads;",
       "ratios are memostore or a baseline over raw RocksDB + cereal with memostore's RocksDB options.", ""]
out += targets()
out += ["## Results", ""]
out += latency_table("W1", "W1 small hit: f(int) → 100 bytes, 10,000 keys, 100,000 random hits")
out += latency_table("W1-hot", "W1 hot set: the same 64 keys")
out += latency_table("W2", "W2 large hit: f(int) → 1,250,000 doubles (10 MB), 20 keys", gb=True)
out += latency_table("W3", "W3 store: a miss storing a new 100-byte result, 10,000 keys")
out += ["### W4 cold start: new process, store of 100,000 entries, first hit (whole process)", "",
        "| system | median | p99 |", "|---|---|---|"]
for s in SYSTEMS:
    r = by.get(("W4", s))
    if r:
        out.append(f"| {s} | {r['median_ms']:.1f} ms | {r['p99_ms']:.1f} ms |")
out += ["", "### W5 two threads doing W1 hits", "", "| system | hits/s, 1 thread | hits/s, 2 threads | scaling |",
        "|---|---|---|---|"]
for s in SYSTEMS:
    r = by.get(("W5", s))
    if r:
        out.append(f"| {s} | {r['hits_per_s_1']:,.0f} | {r['hits_per_s_2']:,.0f} | {r['scaling']:.2f}× |")
out += ["", "### W6 larger than the caches: random hits, each system in its own process from open to close", "",
        "Medians over the rounds (one process each, systems interleaved). `rocksdb_raw` uses memostore's RocksDB options",
        "(the same block and blob caches), `rocksdb_default` RocksDB's defaults.", "",
        "| system | entries | hits | open | hits | close | per hit | ratio to raw RocksDB | peak RSS |",
        "|---|---|---|---|---|---|---|---|---|"]
w6base = w6("rocksdb_raw", "per_hit_ns")
for s in SYSTEMS:
    if w6(s, "per_hit_ns") is None:
        continue
    ratio = f"{w6(s, 'per_hit_ns') / w6base:.2f}×" if w6base else "–"
    out.append(f"| {s} | {w6(s, 'entries'):,.0f} | {w6(s, 'hits'):,.0f} | {w6(s, 'open_ms'):.1f} ms | "
               f"{w6(s, 'hits_ms'):,.0f} ms | {w6(s, 'close_ms'):.1f} ms | {fmt_ns(w6(s, 'per_hit_ns'))} | {ratio} | "
               f"{w6(s, 'peak_rss_mb'):.0f} MB |")
out += ["", "### S1 singleton hit: the shared object for one small key", "",
        "Per-hit time from batches of 1,000 calls; hits/s with one thread and with two threads on the same object.",
        "`mutex_map` is a hand-written map of shared_ptrs under one std::mutex, `shared_mutex_map` the same under a",
        "std::shared_mutex (hits share it); `static_local` returns a copy of one",
        "function-local static shared_ptr (the floor for any API that hands out shared ownership: its reference",
        "count is one cache line that both threads write).", "",
        "| system | median | p99 | hits/s, 1 thread | hits/s, 2 threads | scaling |", "|---|---|---|---|---|---|"]
for s in SYSTEMS:
    r = by.get(("S1", s))
    if r:
        out.append(f"| {s} | {fmt_ns(r['median_ns'])} | {fmt_ns(r['p99_ns'])} | {r['hits_per_s_1']:,.0f} | "
                   f"{r['hits_per_s_2']:,.0f} | {r['scaling']:.2f}× |")
FINGERPRINT_SYSTEMS = [("memostore_stat", "memostore, unchanged input (stat only)"),
                       ("memostore_content", "memostore, every byte hashed (first call, or FileCheck::content)"),
                       ("xxhsum", "xxhsum -H2 (XXH3-128)"), ("sha256sum", "sha256sum"),
                       ("memostore_disk", "memostore, first call, file not in the page cache (one run)"),
                       ("xxhsum_disk", "xxhsum -H2, file not in the page cache (one run)")]
for workload, title in [("F1", "F1 input file: a memoized call keyed by a 1 GiB file"),
                        ("F2", "F2 input directory: a memoized call keyed by 10,000 files of 1 KiB")]:
    base = get(workload, "memostore_content", "median_ms")
    if base is None:
        continue
    out += ["", f"### {title}", "",
            "Per call (median), the data in the page cache for every system (except the rows that say not); "
            "the shell tools' times include "
            "starting the process (and `find | xargs` for F2).", "",
            "| system | time | GB/s | ratio to hashing every byte |", "|---|---|---|---|"]
    for system, label in FINGERPRINT_SYSTEMS:
        r = by.get((workload, system))
        if r:
            speed = "–" if system == "memostore_stat" else f"{r['gb_per_s']:.2f}"  # reads no data
            out.append(f"| {label} | {fmt_ns(r['median_ms'] * 1e6)} | {speed} | {r['median_ms'] / base:.3g}× |")
for workload, title in [("R1-small", "R1 remote hit, 100-byte result (Redis on a local Unix socket)"),
                        ("R1-large", "R1 remote hit, 10 MB result")]:
    base = get(workload, "memostore_local_hit", "median_ns")
    if base is None:
        continue
    out += ["", f"### {title}", "",
            "Each key's first call in a store with an empty directory is a remote hit (checked, stored locally); "
            "the second is a local hit. A miss computes (the function returns at once), stores and queues the "
            "entry for Redis.", "",
            "| call | median | p99 | GB/s | ratio to a local hit |", "|---|---|---|---|---|"]
    for system, label in [("memostore_local_hit", "local hit"), ("redis_get", "hiredis GET alone (the floor)"),
                          ("memostore_remote_hit", "remote hit"),
                          ("memostore_miss", "miss (compute + store)")]:
        r = by.get((workload, system))
        if r:
            out.append(f"| {label} | {fmt_ns(r['median_ns'])} | {fmt_ns(r['p99_ns'])} | {r['gb_per_s']:.2f} | "
                       f"{r['median_ns'] / base:.1f}× |")
alone, shared = by.get(("R2", "memostore_local_only")), by.get(("R2", "memostore_remote"))
if alone and shared:
    out += ["", "### R2 four processes, empty local directories, one Redis", "",
            f"Each process calls the same {shared['keys']:,.0f} keys of a function that takes 1 ms "
            "(`Inflight::shared`), in its own order.", "",
            "| setup | computed | wall time |", "|---|---|---|",
            f"| local directories only | {alone['computed']:,.0f} | {alone['seconds']:.2f} s |",
            f"| sharing one Redis | {shared['computed']:,.0f} | {shared['seconds']:.2f} s |"]
large = [(w, s) for (w, s) in by if w.startswith("L1 hit") or w.startswith("L2 hit")]
if large:
    out += ["", "### L large arguments: hits on a call whose argument is stored as a SHA-256 digest or in full", "",
            "L1: a 10 MB argument (first hit: the first after reopening the store); L2: hits around the 4 KiB "
            "digest threshold.", "",
            "| workload | system | first hit | median | p99 | entry bytes |", "|---|---|---|---|---|---|"]
    for w, s in large:
        r = by[(w, s)]
        out.append(f"| {w} | {s} | {fmt_ns(r['first_ns'])} | {fmt_ns(r['median_ns'])} | {fmt_ns(r['p99_ns'])} | "
                   f"{r['entry_bytes']:,.0f} |")
    for s in ["XXH3-128 (key)", "SHA-256 (digest)"]:
        r = by.get(("L1 hash 10 MB", s))
        if r:
            out.append(f"| hashing 10 MB | {s} | | {fmt_ns(r['median_ns'])} | | |")
w7 = [(w, s) for (w, s) in by if w.startswith("W7")]
if w7:
    out += ["", "### W7 shared results and lineage keys", "",
            "repeat: hits on one 10 MB result (1,250,000 doubles) in one process; first: the first hit of each of "
            "several 10 MB results after reopening; chained N: hits on a call whose argument is a Shared of an "
            "N-byte result (keyed by its digest), an int, or the value itself.", "",
            "| workload | system | median | p99 |", "|---|---|---|---|"]
    for w, s in w7:
        r = by[(w, s)]
        out.append(f"| {w} | {s} | {fmt_ns(r['median_ns'])} | {fmt_ns(r['p99_ns'])} |")
r = by.get(("M", "memostore"))
if r:
    out += ["", "### M memory", "",
            f"{r['hits']:,.0f} random hits on a store of {r['entries']:,.0f} entries of 1,000 bytes "
            f"({r['store_mb']:.0f} MB on disk): peak RSS {r['peak_rss_mb']:.0f} MB."]
notes = os.environ.get("BENCH_NOTES")
if notes and os.path.exists(notes):
    out += ["", open(notes).read().strip()]
print("\n".join(out))
