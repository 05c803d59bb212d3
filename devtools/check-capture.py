#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Check a QEMU filter-dump pcap for testpmd's packets (plain Python).

testpmd --tx-first sends txonly's default packet, which io forwarding then
bounces between the two ports: Ethernet / IPv4 198.18.0.1 -> 198.18.0.2 /
UDP 9 -> 9, 64 bytes (no FCS). Every captured frame must be such a packet
with intact headers (IP checksum, lengths); anything else counts as
malformed, as does an empty capture. With --ports MAC0,MAC1 (the two
ports' MAC addresses) each frame must also come from one of them and go to
the default peer address testpmd gives that port's TX (02:00:00:00:00:0<port>), and
each port must have sent at least a tenth of the frames: if every buffer
shared one DMA address, all frames would be copies of one and carry one
source. testpmd runs with --txonly-multi-flow, so the first bursts are
distinct flows (source MAC and source IP 198.18.x.y) that io forwarding
then bounces unchanged: every flow of the run must still be there in its
last fifth. Buffers whose DMA addresses overlap overwrite each other's
frames, and flows vanish. This shows that RX and TX DMA used the right
guest-physical addresses.

With --source MAC (a third NIC that only seeds a forwarder which sends
nothing of its own, such as l2fwd), that NIC's frames are counted apart
and not judged: the forwarder's own frames are.

Usage: check-capture.py [--json OUT] [--keep N] [--ports MAC0,MAC1]
                        [--source MAC] <pcap>
           one summary line, exit 0/1; --keep N then cuts the file down to
           its first N frames (captures grow by ~15 MB/s)
       check-capture.py --self-test             check this checker
"""
import json
import os
import struct
import sys
import tempfile

SRC_IP = bytes([198, 18, 0, 1])  # 198.18.0.0/16 with --txonly-multi-flow
DST_IP = bytes([198, 18, 0, 2])
UDP_PORT = 9
FRAME_LENS = (60, 64)


def ip_checksum(hdr):
    s = 0
    for i in range(0, len(hdr), 2):
        s += (hdr[i] << 8) + hdr[i + 1]
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def peer_mac(port):
    """testpmd's default peer Ethernet address of a port."""
    return bytes([2, 0, 0, 0, 0, port])


def frame_problem(frame, orig_len, ports=None):
    """None if frame is one of testpmd's packets, else why not."""
    if ports:
        src, dst = frame[6:12], frame[0:6]
        if src not in ports:
            return "source MAC %s of no port" % src.hex(":")
        if dst != peer_mac(ports.index(src)):
            return "destination MAC %s for source %s" % (dst.hex(":"), src.hex(":"))
    if orig_len not in FRAME_LENS:
        return "length %d" % orig_len
    if len(frame) < 42:
        return "truncated to %d bytes" % len(frame)
    if frame[12:14] != b"\x08\x00":
        return "ethertype 0x%s" % frame[12:14].hex()
    ip = frame[14:34]
    if ip[0] != 0x45:
        return "IP version/IHL 0x%02x" % ip[0]
    if ip_checksum(ip) != 0:
        return "bad IP header checksum"
    total = struct.unpack("!H", ip[2:4])[0]
    if 14 + total > orig_len or total < 28:
        return "IP total length %d" % total
    if ip[9] != 17:
        return "IP protocol %d" % ip[9]
    if ip[12:14] != SRC_IP[:2] or ip[16:20] != DST_IP:
        return "addresses %s -> %s" % (".".join(map(str, ip[12:16])),
                                       ".".join(map(str, ip[16:20])))
    sport, dport, ulen = struct.unpack("!HHH", frame[34:40])
    if (sport, dport) != (UDP_PORT, UDP_PORT):
        return "UDP ports %d -> %d" % (sport, dport)
    if ulen != total - 20:
        return "UDP length %d" % ulen
    return None


def read_pcap(path):
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        raise ValueError("no pcap header (%d bytes)" % len(data))
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        end = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        end = ">"
    else:
        raise ValueError("bad pcap magic %s" % magic.hex())
    linktype = struct.unpack(end + "I", data[20:24])[0]
    if linktype != 1:
        raise ValueError("link type %d, not Ethernet" % linktype)
    off, frames = 24, []
    while off + 16 <= len(data):
        incl, orig = struct.unpack(end + "II", data[off + 8:off + 16])
        off += 16
        if off + incl > len(data):
            break  # last record cut short by the VM's end: ignore it
        frames.append((data[off:off + incl], orig))
        off += incl
    return frames


def truncate(path, keep):
    """Cut the pcap at path down to its first keep records."""
    try:
        with open(path, "r+b") as f:
            hdr = f.read(24)
            if len(hdr) < 24:
                return
            end = "<" if hdr[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
            off = 24
            for _ in range(keep):
                f.seek(off + 8)
                rec = f.read(4)
                if len(rec) < 4:
                    return
                off += 16 + struct.unpack(end + "I", rec)[0]
            f.truncate(off)
    except OSError:
        pass


def check(path, ports=None, source=None):
    """(ok, summary dict); ports: the two ports' MACs as bytes, or None;
    source: the seeding NIC's MAC, whose frames are only counted."""
    res = {"pcap": path, "frames": 0, "good": 0, "malformed": 0,
           "lengths": {}, "first_problem": None, "by_source": {}, "seed": 0}
    flow_at = {}  # flow -> index of its last good frame
    try:
        frames = read_pcap(path)
    except (OSError, ValueError) as e:
        res["first_problem"] = str(e)
        return False, res
    for frame, orig in frames:
        if source is not None and frame[6:12] == source:
            res["seed"] += 1
            continue
        res["frames"] += 1
        res["lengths"][orig] = res["lengths"].get(orig, 0) + 1
        why = frame_problem(frame, orig, ports)
        if why is None:
            res["good"] += 1
            src = frame[6:12].hex(":")
            res["by_source"][src] = res["by_source"].get(src, 0) + 1
            flow_at[frame[6:12] + frame[26:30]] = res["good"]
        else:
            res["malformed"] += 1
            if res["first_problem"] is None:
                res["first_problem"] = "frame %d: %s" % (res["frames"], why)
    if res["frames"] == 0 and res["first_problem"] is None:
        res["first_problem"] = "no frames captured"
    ok = res["good"] > 0 and res["malformed"] == 0
    # Flows whose last frame comes before the last fifth were lost.
    res["flows"] = len(flow_at)
    res["flows_lost"] = sum(1 for i in flow_at.values() if i <= res["good"] * 4 // 5)
    if res["flows_lost"]:
        ok = False
        res["first_problem"] = res["first_problem"] or (
            "%d of %d flows vanished before the last fifth of the capture "
            "(frames overwritten: DMA buffers overlap)" % (res["flows_lost"], res["flows"]))
    for mac in ports or ():
        n = res["by_source"].get(mac.hex(":"), 0)
        if n * 10 < res["good"]:
            ok = False
            res["first_problem"] = res["first_problem"] or (
                "port %s sent %d of %d frames (under a tenth)" % (mac.hex(":"), n, res["good"]))
    return ok, res


def summary_line(ok, res):
    lens = ",".join("%dB:%d" % kv for kv in sorted(res["lengths"].items()))
    line = "capture %s: %d frames, %d testpmd UDP 198.18.x.x:9->198.18.0.2:9, %d malformed" % (
        "OK" if ok else "BAD", res["frames"], res["good"], res["malformed"])
    if lens:
        line += " (%s)" % lens
    if res.get("flows"):
        line += ", %d flows, %d lost" % (res["flows"], res["flows_lost"])
    if res["by_source"]:
        line += ", by source " + ",".join("%s:%d" % kv for kv in sorted(res["by_source"].items()))
    if res.get("seed"):
        line += ", %d from the seeding NIC" % res["seed"]
    if res["first_problem"]:
        line += "; " + res["first_problem"]
    return line


SELF_TEST_PORTS = [bytes.fromhex("525400123456"), bytes.fromhex("525400123457")]
SELF_TEST_SOURCE = bytes.fromhex("525400123458")


def testpmd_frame(corrupt=False, port=0, flow=0):
    eth = peer_mac(port) + SELF_TEST_PORTS[port] + b"\x08\x00"
    ip = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 50, 0, 0, 64, 17, 0,
                               SRC_IP[:2] + bytes([flow, 2]), DST_IP))
    struct.pack_into("!H", ip, 10, ip_checksum(bytes(ip)))
    udp = struct.pack("!HHHH", UDP_PORT, UDP_PORT, 30, 0) + bytes(22)
    frame = bytearray(eth + bytes(ip) + udp)
    if corrupt:
        frame[30] ^= 0xFF  # destination address byte: checksum breaks
    return bytes(frame)


def write_pcap(path, frames):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 128, 1))
        for i, fr in enumerate(frames):
            f.write(struct.pack("<IIII", i, 0, len(fr), len(fr)) + fr)


def self_test():
    both = [testpmd_frame(port=i % 2) for i in range(10)]
    flows = [testpmd_frame(port=i % 2, flow=i % 8) for i in range(80)]
    collapsing = flows[:40] + [testpmd_frame(port=i % 2, flow=i % 2) for i in range(40)]
    swapped = bytearray(testpmd_frame(port=1))
    swapped[0:6] = peer_mac(0)
    cases = [
        ("good", [testpmd_frame()] * 5, None, True),
        ("empty", [], None, False),
        ("corrupt", [testpmd_frame()] * 3 + [testpmd_frame(corrupt=True)], None, False),
        ("short", [testpmd_frame()[:60]], None, False),
        ("both-ports", both, SELF_TEST_PORTS, True),
        ("one-source", [testpmd_frame()] * 10, SELF_TEST_PORTS, False),
        ("few-from-one", both[:2] + [testpmd_frame()] * 20, SELF_TEST_PORTS, False),
        ("wrong-dst", both + [bytes(swapped)], SELF_TEST_PORTS, False),
        ("foreign-src", both + [testpmd_frame()[:6] + bytes(6) + testpmd_frame()[12:]],
         SELF_TEST_PORTS, False),
        ("flows-kept", flows, SELF_TEST_PORTS, True),
        ("flows-lost", collapsing, SELF_TEST_PORTS, False),
        ("seeded", [testpmd_frame()[:6] + SELF_TEST_SOURCE + testpmd_frame()[12:]] * 3 + flows,
         SELF_TEST_PORTS, True),
        ("seed-only", [testpmd_frame()[:6] + SELF_TEST_SOURCE + testpmd_frame()[12:]] * 3,
         SELF_TEST_PORTS, False),
    ]
    failed = 0
    with tempfile.TemporaryDirectory() as d:
        for name, frames, ports, want in cases:
            p = os.path.join(d, name + ".pcap")
            write_pcap(p, frames)
            ok, res = check(p, ports, SELF_TEST_SOURCE)
            if ok != want:
                failed += 1
                print("self-test %s: expected %s, got %s" % (
                    name, want, summary_line(ok, res)))
        p = os.path.join(d, "keep.pcap")
        write_pcap(p, [testpmd_frame()] * 5)
        truncate(p, 2)
        if check(p)[1]["frames"] != 2:
            failed += 1
            print("self-test keep: truncation to 2 frames failed")
    print("check-capture self-test: %s (%d cases)" % (
        "OK" if not failed else "FAILED", len(cases) + 1))
    return 0 if not failed else 1


def main(argv):
    if argv == ["--self-test"]:
        return self_test()
    out, keep, ports, source = None, None, None, None
    while len(argv) > 2 and argv[0] in ("--json", "--keep", "--ports", "--source"):
        if argv[0] == "--json":
            out = argv[1]
        elif argv[0] == "--ports":
            ports = [bytes.fromhex(m.replace(":", "")) for m in argv[1].split(",")]
        elif argv[0] == "--source":
            source = bytes.fromhex(argv[1].replace(":", ""))
        else:
            keep = int(argv[1])
        argv = argv[2:]
    if len(argv) != 1 or argv[0].startswith("-"):
        print(__doc__.split("Usage: ")[1].strip(), file=sys.stderr)
        return 2
    ok, res = check(argv[0], ports, source)
    if keep is not None:
        truncate(argv[0], keep)
    res["ok"] = ok
    res["lengths"] = {str(k): v for k, v in res["lengths"].items()}
    if out:
        with open(out, "w") as f:
            json.dump(res, f)
    print(summary_line(ok, {**res, "lengths": {int(k): v for k, v in res["lengths"].items()}}))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
