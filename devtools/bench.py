#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Turn the "benchrow:" lines of noiommu-bench (a VM console log) into a
table (text and CSV) and a PNG plot.

Every figure is given as min/median/max over its repetitions, for the
legacy pagemap path and the cdev backend, with the ratio of the medians
(cdev/legacy) and the spread of the ratio itself: the min/median/max of
the ratios of the runs paired by repetition (the two runs of a pair ran
back to back, in alternating order). Also: the per-page slope of EAL init
time for each path (least squares over the sizes of one page size) and a
per-phase breakdown of EAL init. testpmd start-up and exit ("start" rows)
per --mp-alloc mode and mbuf count, with their phases and kernel calls,
in the same table and in bench-startup.png; the "size" column is MiB for
EAL init and mbufs for start-up. IOMMU_IOAS_MAP_FILE against IOMMU_IOAS_MAP
(dpdk-test-noiommu mapfile, row bench-mapfile) in a table of its own and
bench-mapfile.csv: map, GET_PA walk, unmap, detach (the unpin alone) and
exit (the unpin and the device's reset) per backing, with the
ratio MAP_FILE/MAP and the spread of the ratios of the runs of one cycle.

Usage: bench.py OUT_DIR NIC=CONSOLE_LOG... [--no-plot]
  One console log per VM run; NIC names the NIC model its forwarding
  rows ran on (EAL init and allocation rows are taken from every log).
"""
import csv
import os
import re
import statistics
import sys

MODES = ("legacy", "cdev")
# EAL init, per phase: the populating mmap() of hugepage files (page fault
# and zeroing), IOAS_MAP (pin), GET_PA, pagemap reads, and the rest
# (memseg bookkeeping, bus scan and probe, EAL threads).
PHASES = ["populate_ms", "ioas_map_ms", "get_pa_ms", "pagemap_ms", "other_ms"]
INIT_KEYS = ["eal_init_ms"] + PHASES + ["teardown_ms"]
COUNT_KEYS = ["ioas_map", "get_pa", "pagemap_reads"]
ALLOC_KEYS = ["alloc_page_us", "free_page_us", "virt2phy_us"]
FWD_KEYS = ["rx_mpps", "stop_ms"]
# testpmd start-up: process start to "start packet forwarding", and its
# phases (to the mbuf pool's creation; pool and port start to the link
# check; to forwarding); exit: SIGINT to reaped, and from "Stopping port"
# to reaped. Then the kernel calls of the whole run (count-calls).
ALLOCS = ("native", "anon", "xmem", "xmemhuge")
STARTUP_KEYS = ["start_ms", "eal_ms", "pool_ms", "link_ms", "exit_ms", "close_ms",
                "ioas_map", "ioas_unmap", "get_pa", "pagemap_reads",
                "ioas_map_ms", "get_pa_ms", "pagemap_ms", "populate_ms"]
# dpdk-test-noiommu mapfile: per backing, the two methods' times.
MAPFILE_METHODS = ("map", "map_file")
MAPFILE_BACKINGS = ("hugetlbfs-2M", "memfd-2M", "memfd-4K")
MAPFILE_KEYS = ["map_ms", "get_pa_ms", "unmap_ms", "detach_ms", "exit_ms"]


# What the guest said it did not run, or could not set up.
NOTES = []
# "mapfile: run" lines (mode = method, rep = cycle), and the mismatch
# count of each "mapfile: done" line.
MAPFILE = []
MAPFILE_DONE = []


def parse(path, nic):
    # The guest's whole-line copy of the output (see devtools/guest/init).
    text = open(path, errors="replace").read()
    text = text.split("=== noiommu: output begin ===", 1)[-1]
    text = text.split("=== noiommu: output end ===", 1)[0]
    rows = []
    for line in text.splitlines():
        m = re.match(r"benchrow: (.*)", line)
        if m:
            rows.append(dict(w.split("=", 1) for w in m.group(1).split() if "=" in w))
            rows[-1]["nic"] = nic
        m = re.match(r"(bench(?:skip|pool|warmup): .*)", line)
        if m:
            NOTES.append(m.group(1).strip())
        m = re.match(r"mapfile: run (.*)", line)
        if m:
            r = dict(w.split("=", 1) for w in m.group(1).split() if "=" in w)
            MAPFILE.append(dict(r, mode=r.get("method"), rep=r.get("cycle")))
        m = re.match(r"mapfile: done, ([0-9]+) mismatches(.*)", line)
        if m:
            MAPFILE_DONE.append(int(m.group(1)) if not m.group(2).strip() else -1)
        m = re.match(r"(mapfile: .*(?:stopping at|FAIL).*)", line)
        if m:
            NOTES.append(m.group(1).strip())
    for r in rows:
        if r.get("kind") == "init" and "eal_init_ms" in r:
            known = sum(float(r.get(k, 0)) for k in PHASES[:-1])
            r["other_ms"] = "%.1f" % (float(r["eal_init_ms"]) - known)
        if r.get("kind") == "fwd":
            # Per-second sums of both ports' Rx-pps; the first and last
            # periods are partial.
            p = [int(x) for x in r.get("rx_pps_periods", "").split(",") if x]
            if len(p) > 2:
                r["rx_mpps"] = "%.4f" % (statistics.median(p[1:-1]) / 1e6)
    return rows


def spread(vals):
    return (min(vals), statistics.median(vals), max(vals)) if vals else None


def compare(rows, key, modes=MODES):
    """(runs, legacy spread, cdev spread, ratio of medians, ratio spread);
    with other modes, (base, other) in place of (legacy, cdev)."""
    base, other = modes
    by = {m: {r["rep"]: float(r[key]) for r in rows if r["mode"] == m and key in r}
          for m in modes}
    leg, cdev = spread(list(by[base].values())), spread(list(by[other].values()))
    pairs = [by[other][k] / by[base][k] for k in by[other]
             if k in by[base] and by[base][k] > 0]
    ratio = cdev[1] / leg[1] if leg and cdev and leg[1] > 0 else float("nan")
    return (len(by[base]), len(by[other])), leg, cdev, ratio, spread(pairs)


def slope(points):
    """Least-squares slope of (x, y) points."""
    if len(points) < 2:
        return float("nan")
    mx = statistics.mean(p[0] for p in points)
    my = statistics.mean(p[1] for p in points)
    den = sum((p[0] - mx) ** 2 for p in points)
    return sum((p[0] - mx) * (p[1] - my) for p in points) / den if den else float("nan")


def fmt3(s, f="%.1f"):
    return "-" if s is None else "/".join(f % v for v in s)


def main():
    args = [a for a in sys.argv[1:] if a != "--no-plot"]
    if len(args) < 2 or not all("=" in a for a in args[1:]):
        sys.exit("usage: bench.py OUT_DIR NIC=CONSOLE_LOG... [--no-plot]")
    out = args[0]
    os.makedirs(out, exist_ok=True)
    rows = [r for a in args[1:] for r in parse(a.split("=", 1)[1], a.split("=", 1)[0])]
    # A failed start-up run is left out and named; any other failed run
    # fails the whole table.
    start = [r for r in rows if r.get("kind") == "startup"]
    for r in start:
        if r.get("rc") != "0" or "start_ms" not in r:
            NOTES.append("left out, failed: kind=startup mode=%s alloc=%s mbufs=%s rep=%s rc=%s"
                         % (r.get("mode"), r.get("alloc"), r.get("mbufs"), r.get("rep"),
                            r.get("rc")))
    start = [r for r in start if r.get("rc") == "0" and "start_ms" in r]
    rows = [r for r in rows if r.get("kind") != "startup"] + start
    init = [r for r in rows if r.get("kind") == "init"]
    bad = [r for r in rows if r.get("rc") != "0"] + \
        [r for r in init if "eal_init_ms" not in r]
    if not rows and not MAPFILE or bad:
        sys.exit("bench.py: %d runs, %d failed or malformed" % (len(rows), len(bad)))
    # A mapfile run must have ended with no mismatch and no failed backing.
    if MAPFILE and (not MAPFILE_DONE or any(n != 0 for n in MAPFILE_DONE)):
        sys.exit("bench.py: mapfile: %s" % (
            "no closing line" if not MAPFILE_DONE else
            "mismatches or failed backings (%s)" % MAPFILE_DONE))

    sizes = sorted({(r["page"], int(r["mem_mb"])) for r in init},
                   key=lambda s: (s[0] != "2M", s[1]))
    table = []  # (section, page, mb, metric, runs, leg, cdev, ratio, pairs)
    for page, mb in sizes:
        sel = [r for r in init if r["page"] == page and int(r["mem_mb"]) == mb]
        for key in INIT_KEYS:
            table.append(("init", page, mb, key) + compare(sel, key))
        for key in COUNT_KEYS:
            # Calls per GiB of memory set up at init.
            scaled = [dict(r, **{key: float(r.get(key, 0)) * 1024 / mb}) for r in sel]
            table.append(("init", page, mb, key + "_per_gib") + compare(scaled, key))
    alloc = [r for r in rows if r.get("kind") == "alloc"]
    for key in ALLOC_KEYS if alloc else []:
        table.append(("alloc", "2M", 0, key) + compare(alloc, key))
    fwd = [r for r in rows if r.get("kind") == "fwd"]
    nics = sorted({r["nic"] for r in fwd})
    for nic in nics:
        for key in FWD_KEYS:
            table.append(("fwd", nic, 0, key) +
                         compare([r for r in fwd if r["nic"] == nic], key))

    allocs = sorted({r["alloc"] for r in start},
                    key=lambda a: (ALLOCS.index(a) if a in ALLOCS else len(ALLOCS), a))
    for alloc in allocs:
        for n in sorted({int(r["mbufs"]) for r in start if r["alloc"] == alloc}):
            sel = [r for r in start if r["alloc"] == alloc and int(r["mbufs"]) == n]
            for key in STARTUP_KEYS:
                table.append(("start", alloc, n, key) + compare(sel, key))

    slopes = []
    for page in sorted({p for p, _ in sizes}):
        pagemb = 2 if page == "2M" else 1024
        for m in MODES:
            pts = [(float(r["mem_mb"]) / pagemb, float(r["eal_init_ms"]))
                   for r in init if r["page"] == page and r["mode"] == m]
            slopes.append((page, m, slope(pts)))

    with open(os.path.join(out, "bench.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["section", "page_nic_or_alloc", "size", "metric", "runs_legacy", "runs_cdev",
                    "legacy_min", "legacy_median", "legacy_max",
                    "cdev_min", "cdev_median", "cdev_max", "cdev_over_legacy",
                    "pair_ratio_min", "pair_ratio_median", "pair_ratio_max"])
        for t in table:
            w.writerow(list(t[:4]) + list(t[4]) +
                       ["%.4f" % v for v in (t[5] or (0, 0, 0))] +
                       ["%.4f" % v for v in (t[6] or (0, 0, 0))] + ["%.4f" % t[7]] +
                       ["%.4f" % v for v in (t[8] or (0, 0, 0))])
    head = "%-5s %-14s %7s  %-21s %5s %26s %26s %6s %17s" % (
        "", "page/NIC/alloc", "size", "metric", "runs", "legacy min/median/max",
        "cdev min/median/max", "ratio", "pair ratios")
    lines = [head] if table else []
    for t in table:
        prec = "%.3f" if t[3] in ("rx_mpps", "virt2phy_us") else "%.1f"
        if t[0] == "start" and t[3] not in ("ioas_map_ms", "get_pa_ms", "pagemap_ms",
                                            "populate_ms"):
            prec = "%.0f"  # 10 ms steps, or counts
        lines.append("%-5s %-14s %7s  %-21s %5s %26s %26s %6.3f %17s" % (
            t[0], t[1], t[2] or "-", t[3], "%d/%d" % t[4], fmt3(t[5], prec),
            fmt3(t[6], prec), t[7], fmt3(t[8], "%.2f")))
    lines += mapfile_table(out)
    if slopes:
        lines.append("")
        lines.append("EAL init, marginal cost per page (least squares over all runs):")
    for page, m, s in slopes:
        lines.append("  %s pages, %-6s %10.2f ms per page" % (page, m, s))
    if NOTES:
        lines.append("")
        lines.append("Not run or not as asked (the guest's words):")
        lines += ["  " + n for n in NOTES]
    text = "\n".join(lines) + "\n"
    open(os.path.join(out, "bench.txt"), "w").write(text)
    sys.stdout.write(text)

    if "--no-plot" not in sys.argv:
        if init or fwd:
            plot(init, fwd, nics, sizes, os.path.join(out, "bench.png"))
        if start:
            plot_startup(start, allocs, os.path.join(out, "bench-startup.png"))


def mapfile_table(out):
    """The mapfile figures: bench-mapfile.csv, and the text table's lines."""
    path = os.path.join(out, "bench-mapfile.csv")
    if not MAPFILE:
        if os.path.exists(path):
            os.remove(path)  # an earlier run's
        return []
    backings = sorted({r["backing"] for r in MAPFILE},
                      key=lambda b: (MAPFILE_BACKINGS.index(b)
                                     if b in MAPFILE_BACKINGS else len(MAPFILE_BACKINGS), b))
    table = []  # (backing, mb, metric, runs, map, map_file, ratio, pairs, per GiB)
    for b in backings:
        sel = [r for r in MAPFILE if r["backing"] == b]
        mb = int(sel[0]["size_mb"])
        for key in MAPFILE_KEYS:
            c = compare(sel, key, MAPFILE_METHODS)
            per_gib = tuple(s[1] * 1024 / mb if s and mb else float("nan")
                            for s in (c[1], c[2]))
            table.append((b, mb, key) + c + (per_gib,))
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["backing", "size_mb", "metric", "runs_map", "runs_map_file",
                    "map_min", "map_median", "map_max",
                    "map_file_min", "map_file_median", "map_file_max",
                    "map_file_over_map", "pair_ratio_min", "pair_ratio_median",
                    "pair_ratio_max", "map_median_per_gib", "map_file_median_per_gib"])
        for t in table:
            w.writerow(list(t[:3]) + list(t[3]) +
                       ["%.4f" % v for v in (t[4] or (0, 0, 0))] +
                       ["%.4f" % v for v in (t[5] or (0, 0, 0))] + ["%.4f" % t[6]] +
                       ["%.4f" % v for v in (t[7] or (0, 0, 0))] +
                       ["%.4f" % v for v in t[8]])
    lines = ["", "IOMMU_IOAS_MAP_FILE against IOMMU_IOAS_MAP (dpdk-test-noiommu mapfile), "
             "ms: min/median/max, ratio of the medians MAP_FILE/MAP, pair ratios "
             "(runs of one cycle), medians per GiB:",
             "%-13s %6s  %-10s %5s %26s %26s %6s %17s %17s" % (
                 "backing", "MiB", "metric", "runs", "MAP min/median/max",
                 "MAP_FILE min/median/max", "ratio", "pair ratios", "per GiB MAP/FILE")]
    for t in table:
        prec = "%.2f" if t[2] in ("map_ms", "get_pa_ms") else "%.1f"
        lines.append("%-13s %6d  %-10s %5s %26s %26s %6.3f %17s %17s" % (
            t[0], t[1], t[2], "%d/%d" % t[3], fmt3(t[4], prec), fmt3(t[5], prec),
            t[6], fmt3(t[7], "%.2f"), fmt3(t[8], "%.1f")))
    return lines


def plot(init, fwd, nics, sizes, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4))
    for mode, style in (("legacy", "o--"), ("cdev", "s-")):
        xs, med, lo, hi = [], [], [], []
        for page, mb in sizes:
            if page != "2M":
                continue
            v = [float(r["eal_init_ms"]) for r in init
                 if r["mode"] == mode and r["page"] == "2M" and int(r["mem_mb"]) == mb]
            if v:
                s = spread(v)
                xs.append(mb)
                med.append(s[1])
                lo.append(s[1] - s[0])
                hi.append(s[2] - s[1])
        a1.errorbar(xs, med, yerr=[lo, hi], fmt=style, capsize=4,
                    label=mode + " (2 MiB pages)")
    a1.set_xlabel("memory set up at EAL init (MiB)")
    a1.set_ylabel("rte_eal_init() wall time (ms): median, min-max")
    a1.set_title("EAL init")
    a1.grid(True, alpha=0.3)
    a1.legend()
    for nic, color in zip(nics, ("C0", "C1", "C2", "C3")):
        for mode, marker in (("legacy", "o"), ("cdev", "s")):
            pts = [(int(r["rep"]), float(r["rx_mpps"])) for r in fwd
                   if r["nic"] == nic and r["mode"] == mode and "rx_mpps" in r]
            a2.plot([p[0] for p in pts], [p[1] for p in pts], marker, color=color,
                    fillstyle="full" if mode == "cdev" else "none",
                    label="%s %s" % (nic, mode))
    a2.set_xlabel("repetition (order alternates)")
    a2.set_ylabel("forwarding, Mpps received (both ports)")
    a2.set_title("testpmd io forwarding")
    a2.grid(True, alpha=0.3)
    a2.legend(fontsize="small", ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    print("plot: %s" % path)


def plot_startup(start, allocs, path):
    """Start-up and exit time against the mbuf count, one column per
    --mp-alloc mode: median with min-max bars, per path."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(2, len(allocs), figsize=(3.6 * len(allocs) + 1, 7),
                             squeeze=False)
    for col, alloc in enumerate(allocs):
        ns = sorted({int(r["mbufs"]) for r in start if r["alloc"] == alloc})
        for row, (key, what) in enumerate((("start_ms", "start to forwarding"),
                                            ("exit_ms", "SIGINT to exit"))):
            ax = axes[row][col]
            top = 0
            for mode, style, shift in (("legacy", "o--", 0.94), ("cdev", "s-", 1.06)):
                xs, med, lo, hi = [], [], [], []
                for n in ns:
                    v = [float(r[key]) / 1000 for r in start if r["alloc"] == alloc and
                         int(r["mbufs"]) == n and r["mode"] == mode and key in r]
                    if v:
                        s = spread(v)
                        xs.append(n * shift)
                        med.append(s[1])
                        lo.append(s[1] - s[0])
                        hi.append(s[2] - s[1])
                        top = max(top, s[2])
                ax.errorbar(xs, med, yerr=[lo, hi], fmt=style, capsize=4, label=mode)
            ax.set_xscale("log", base=2)
            if ns:
                ax.set_xlim(min(ns) / 1.6, max(ns) * 1.6)
            ax.set_xticks(ns)
            ax.set_xticklabels(["%dk" % (n // 1024) if n < 1 << 20 else "%dM" % (n >> 20)
                                for n in ns])
            ax.set_ylim(0, top * 1.15 or 1)
            ax.grid(True, alpha=0.3)
            ax.set_title("--mp-alloc=%s: %s" % (alloc, what), fontsize="medium")
            if row == 1:
                ax.set_xlabel("mbufs (--total-num-mbufs)")
            if col == 0:
                ax.set_ylabel("seconds: median, min-max")
                ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    print("plot: %s" % path)


if __name__ == "__main__":
    main()
