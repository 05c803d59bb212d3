#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Turn the "benchrow:" lines of noiommu-bench (a VM console log) into a
table of medians with cdev/legacy ratios (text and CSV) and a PNG plot of
EAL init time against memory size.

Usage: bench.py CONSOLE_LOG OUT_DIR [--no-plot]
"""
import csv
import os
import re
import statistics
import sys

INIT_KEYS = ["eal_init_ms", "ioas_map", "ioas_unmap",
             "get_pa", "pagemap_opens", "pagemap_reads"]
ALLOC_KEYS = ["alloc_page_us", "free_page_us", "virt2phy_us"]


def parse(path):
    rows = []
    for line in open(path, errors="replace"):
        m = re.search(r"benchrow: (.*)", line)
        if not m:
            continue
        kv = dict(w.split("=", 1) for w in m.group(1).split() if "=" in w)
        rows.append(kv)
    return rows


def med(rows, key):
    vals = [float(r[key]) for r in rows if key in r]
    return statistics.median(vals) if vals else float("nan")


def main():
    log, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    rows = parse(log)
    init = [r for r in rows if r.get("kind") == "init"]
    bad = [r for r in init if r.get("rc") != "0" or "eal_init_ms" not in r]
    if not init or bad:
        sys.exit("bench.py: %d init runs, %d failed or malformed" %
                 (len(init), len(bad)))

    sizes = sorted({(r["page"], int(r["mem_mb"])) for r in init},
                   key=lambda s: (s[0] != "2M", s[1]))
    table = []
    for page, mb in sizes:
        sel = {m: [r for r in init if r["page"] == page and
                   int(r["mem_mb"]) == mb and r["mode"] == m]
               for m in ("legacy", "cdev")}
        for key in INIT_KEYS:
            leg, cdev = med(sel["legacy"], key), med(sel["cdev"], key)
            if key in ("ioas_map", "ioas_unmap", "get_pa", "pagemap_opens",
                       "pagemap_reads"):
                # per GiB of memory set up at init
                leg, cdev = leg * 1024 / mb, cdev * 1024 / mb
                name = key + "_per_gib"
            else:
                name = key
            ratio = cdev / leg if leg else float("nan")
            table.append((page, mb, name, len(sel["legacy"]),
                          len(sel["cdev"]), leg, cdev, ratio))
    alloc = {m: [r for r in rows if r.get("kind") == "alloc" and
                 r.get("mode") == m and r.get("rc") == "0"]
             for m in ("legacy", "cdev")}
    for key in ALLOC_KEYS:
        leg, cdev = med(alloc["legacy"], key), med(alloc["cdev"], key)
        table.append(("2M", 0, key, len(alloc["legacy"]), len(alloc["cdev"]),
                      leg, cdev, cdev / leg if leg else float("nan")))
    fwd = {r["mode"]: float(r["rx_packets"]) / float(r["secs"])
           for r in rows if r.get("kind") == "fwd" and float(r["secs"]) > 0}
    if "legacy" in fwd and "cdev" in fwd:
        table.append(("-", 0, "fwd_pps", 1, 1, fwd["legacy"], fwd["cdev"],
                      fwd["cdev"] / fwd["legacy"] if fwd["legacy"] else 0))

    with open(os.path.join(out, "bench.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["page", "mem_mb", "metric", "runs_legacy", "runs_cdev",
                    "legacy_median", "cdev_median", "cdev_over_legacy"])
        for t in table:
            w.writerow(list(t[:5]) + ["%.3f" % t[5], "%.3f" % t[6],
                                      "%.3f" % t[7]])
    lines = ["%-4s %6s  %-22s %5s %14s %14s %8s" %
             ("page", "MiB", "metric (median)", "runs", "legacy", "cdev",
              "ratio")]
    for t in table:
        lines.append("%-4s %6s  %-22s %5s %14.2f %14.2f %8.3f" %
                     (t[0], t[1] or "-", t[2], "%d/%d" % (t[3], t[4]),
                      t[5], t[6], t[7]))
    text = "\n".join(lines) + "\n"
    open(os.path.join(out, "bench.txt"), "w").write(text)
    sys.stdout.write(text)

    if "--no-plot" not in sys.argv:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(figsize=(6, 4))
        for mode, style in (("legacy", "o--"), ("cdev", "s-")):
            pts = [(mb, med([r for r in init if r["mode"] == mode and
                             r["page"] == "2M" and int(r["mem_mb"]) == mb],
                            "eal_init_ms"))
                   for page, mb in sizes if page == "2M"]
            ax.plot([p[0] for p in pts], [p[1] for p in pts], style,
                    label=mode + " (2 MiB pages)")
        ax.set_xlabel("memory set up at EAL init (MiB)")
        ax.set_ylabel("rte_eal_init() wall time (ms, median)")
        ax.set_title("EAL init: cdev no-IOMMU vs legacy pagemap path")
        ax.grid(True, alpha=0.3)
        ax.legend()
        fig.tight_layout()
        fig.savefig(os.path.join(out, "bench.png"), dpi=100)
        print("plot: %s" % os.path.join(out, "bench.png"))


if __name__ == "__main__":
    main()
