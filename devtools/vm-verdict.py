#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Judge one VM run (called by vm-run.sh): read the guest's JSON summary,
the console log and the capture check, compare with the row's expectation,
write <out>/result.json and print one line "PASS|FAIL name ..." (under a FAIL
the last lines of the guest's output).
Exit status 0 on PASS, 1 on FAIL."""
import argparse
import json
import os
import re
import sys

# Errors of the cdev backend: a passing testpmd run prints none of them;
# ovs-vswitchd logs DPDK's lines after its own "TIME|SEQ|dpdk|LEVEL|".
BACKEND_ERROR = re.compile(r"IOMMU_IOAS_\w+ of .* failed|^(\S+\|dpdk\|[A-Z]+\|)?EAL: --vfio-cdev: "
                           r"|no physical address for", re.M)
# A kernel complaint fails every row, whatever it expects.
KERNEL_TROUBLE = re.compile(r"^\[ *[0-9.]+\] (WARNING:|BUG:|Oops|Kernel panic|general protection fault"
                            r"|INFO: task .* blocked for more than)", re.M)
# A sanitizer report (ASan, UBSan, LSan) in the output of any row.
SANITIZER_REPORT = re.compile(r"ERROR: (Address|Leak)Sanitizer|runtime error: |SUMMARY: \w+Sanitizer", re.M)
# Kinds whose run forwards between the two NICs.
FORWARDING = ("testpmd", "l2fwd", "ovs")
SHIM_NOTICE = re.compile(r"^deny-pagemap: .* opened$", re.M)
BEGIN = "=== noiommu: output begin ==="
# Lines of the guest's output printed under a FAIL line.
FAIL_TAIL = 25
END = "=== noiommu: output end ==="


def read(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


def guest_summary(out, console):
    """The JSON line the guest wrote to ttyS1, else the console copy."""
    for text in (read(os.path.join(out, "guest.json")), console):
        for line in reversed(text.replace("\r", "").splitlines()):
            i = line.find('{"scenario"')
            if i < 0:
                continue
            try:
                return json.loads(line[i:])
            except ValueError:
                continue
    return None


def capture_count_problems(capture, ports, at_least=False):
    """Every frame the ports sent is on the wire, and nothing else; with
    at_least (counters printed before the end, as l2fwd's last statistics),
    only the first half. noiommu-ovs reads OVS's counters once forwarding
    has stopped: they count every frame."""
    sent = sum(p["fwd_tx"] if p["fwd_tx"] >= 0 else p["tx"] for p in ports)
    frames = capture.get("frames", 0)
    # Frames still in the NICs' rings when counters were read.
    slack = max(1024, sent // 50)
    if frames < sent - slack or (not at_least and frames > sent + slack):
        return ["capture holds %d frames, the ports counted %d sent" % (frames, sent)]
    return []


def trace_problems(trace, forwards):
    """The guest's strace of the run: live, and no pagemap access."""
    if trace is None:
        return ["the row is traced but the guest reported no trace"]
    problems = []
    if trace["pagemap"]:
        problems.append("pagemap accessed %d time(s), see noiommu-trace lines" % trace["pagemap"])
    # Live: it saw the process open files; a forwarding run opens both.
    if not trace["calls"]:
        problems.append("trace not live: no open seen")
    elif forwards and not (trace["iommu"] and trace["cdev"]):
        problems.append("trace shows no /dev/iommu (%d) or cdev (%d) open" % (trace["iommu"], trace["cdev"]))
    return problems


def main():
    ap = argparse.ArgumentParser()
    for a in ("name", "nic", "kind", "expect", "accel", "out"):
        ap.add_argument("--" + a, required=True)
    ap.add_argument("--qemu-rc", type=int, required=True)
    ap.add_argument("--wall-ms", type=int, required=True)
    ap.add_argument("--capture")
    ap.add_argument("--trace", type=int, default=0)
    ap.add_argument("--retried", help="why the VM was run a second time")
    o = ap.parse_args()

    console = read(os.path.join(o.out, "console.log")).replace("\r", "")
    output = console
    if BEGIN in console:
        output = console.split(BEGIN, 1)[1].split(END, 1)[0]
    guest = guest_summary(o.out, console)
    capture = None
    if o.capture:
        try:
            with open(o.capture) as f:
                capture = json.load(f)
        except (OSError, ValueError):
            capture = {"ok": False, "first_problem": "capture check did not run", "good": 0}
    want, _, regex = o.expect.partition(":")

    problems, matched, figures = [], None, []
    if guest is None:
        problems.append("no guest summary (qemu exit %d%s)" % (
            o.qemu_rc, {124: ", killed by timeout", 125: ", boot stalled"}.get(o.qemu_rc, "")))
    else:
        figures.append("boot %.1fs" % float(guest.get("boot_s", 0)))
        if guest.get("timed_out"):
            problems.append("guest command timed out")
        ports = guest.get("ports", [])
        for p in ports:
            figures.append("p%d rx=%d tx=%d" % (p["port"], p["rx"], p["tx"]))
        if regex:
            m = re.search(regex, output, re.M)
            if m:
                end = output.find("\n", m.end())
                matched = output[output.rfind("\n", 0, m.start()) + 1:
                                 end if end >= 0 else len(output)].strip()
            else:
                problems.append("output does not match /%s/" % regex)
        if o.trace:
            problems += trace_problems(guest.get("trace"),
                                       o.kind in FORWARDING and want == "pass")
            # The deny-pagemap shim refuses an open before the kernel (and
            # so the tracer) sees it: its notice counts the same.
            m = SHIM_NOTICE.search(output)
            if m:
                problems.append("pagemap opened: %s" % m.group(0))
            if guest.get("trace"):
                figures.append("traced %d opens, %d pagemap" % (guest["trace"]["calls"], guest["trace"]["pagemap"]))
        run_problems = []
        if guest["exit"] != 0:
            run_problems.append("exit status %d" % guest["exit"])
        if o.kind in FORWARDING:
            if len(ports) < 2:
                run_problems.append("statistics for %d port(s), want 2" % len(ports))
            for p in ports:
                for k in ("rx", "tx"):
                    if p[k] <= 0:
                        run_problems.append("port %d %s=%d" % (p["port"], k, p[k]))
                # l2fwd counts no RX errors; its drops are TX errors.
                for k in ("tx_errors",) if o.kind == "l2fwd" else ("rx_errors", "tx_errors"):
                    if p[k] != 0:
                        run_problems.append("port %d %s=%d" % (p["port"], k, p[k]))
        if want == "match":
            pass
        elif want == "fail":
            if not run_problems:
                problems.append("the run succeeded, failure expected")
        else:
            problems += run_problems
            if o.kind in FORWARDING:
                m = BACKEND_ERROR.search(output)
                if m:
                    problems.append("backend error: %s" % output[m.start():].split("\n", 1)[0][:120])
                if capture is not None:
                    figures.append("captured %d" % capture.get("good", 0))
                    if not capture.get("ok"):
                        problems.append("capture: %s" % capture.get("first_problem"))
                    problems += capture_count_problems(capture, ports, o.kind == "l2fwd")
    m = SANITIZER_REPORT.search(output)
    if m:
        problems.append("sanitizer: %s" % output[m.start():].split("\n", 1)[0][:120])
    m = KERNEL_TROUBLE.search(console)
    if m:
        problems.append("guest kernel: %s" % console[m.start():].split("\n", 1)[0][:120])
    figures.append("%s %.0fs" % (o.accel, o.wall_ms / 1000.0))
    if o.retried:
        figures.append("second VM run after: %s" % o.retried)
    verdict = "FAIL" if problems else "PASS"
    line = "%s %s [%s] %s" % (verdict, o.name, o.nic, ", ".join(figures))
    if problems:
        line += " -- " + "; ".join(problems) + " (see %s)" % o.out
        # The output dir may be gone when the log is read (a CI clone):
        # the end of the guest's output goes with the verdict.
        tail = [l for l in output.replace("\r", "").splitlines() if l.strip()][-FAIL_TAIL:]
        line += "".join("\n  | " + l[:200] for l in tail)
    elif matched:
        line += " -- %s: %s" % ("expected failure" if want == "fail" else "matched",
                                matched[:120])
    result = {"name": o.name, "verdict": verdict, "problems": problems,
              "nic": o.nic, "kind": o.kind, "expect": o.expect, "accel": o.accel,
              "wall_s": o.wall_ms / 1000.0, "qemu_rc": o.qemu_rc, "retried": o.retried,
              "matched": matched,
              "guest": guest, "capture": capture}
    with open(os.path.join(o.out, "result.json"), "w") as f:
        json.dump(result, f, indent=1)
    print(line)
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
