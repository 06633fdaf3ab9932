#!/usr/bin/env python3
"""
A userspace Ethernet switch that delays and drops frames: the simulation's link shaper for kernels
without sch_netem (tc netem). Each host namespace gets one TAP device whose file descriptor this
process holds; a frame read from one port is written to the port that owns its destination MAC
(learned from source MACs; broadcast and unknown destinations go to every port).

Frames between two *shaped* ports get a one-way delay of latency +/- uniform jitter and are dropped
with probability `loss`. A link keeps its frames in order (a frame never overtakes an earlier one
of the same source and destination), as on most real paths, unlike netem's reordering jitter.
Frames to or from an unshaped port (the observer) pass at once, so the observer's timings are exact.

Usage: linkemu.py CONFIG.json. Prints READY once every TAP exists in its namespace; writes
per-port counters and its own lateness (how long after its due time a frame actually left) to
`stats` every second; exits on SIGTERM.
"""
import fcntl
import heapq
import json
import os
import random
import select
import signal
import struct
import subprocess
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000


def open_tap(name):
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TAP | IFF_NO_PI))
    return fd


def main():
    cfg = json.load(open(sys.argv[1]))
    latency = cfg["latencyMs"] / 1000.0
    jitter = cfg["jitterMs"] / 1000.0
    loss = cfg["loss"]
    rng = random.Random(cfg.get("seed", 1))
    ports = cfg["ports"]
    fds = []
    for p in ports:
        fd = open_tap(p["name"])
        # the device moves into the host's namespace; this descriptor keeps working
        subprocess.run(["ip", "link", "set", p["name"], "netns", p["netns"]], check=True)
        fds.append(fd)
    shaped = [bool(p["shaped"]) for p in ports]
    by_fd = {fd: i for i, fd in enumerate(fds)}
    n = len(ports)
    rx = [0] * n  # bytes the host sent (read from its TAP)
    tx = [0] * n  # bytes delivered to the host
    p2p_rx = [0] * n  # of which between two shaped hosts (peer traffic, not the observer's)
    p2p_tx = [0] * n
    dropped = [0] * n
    mac_port = {}
    last_due = {}
    heap = []
    seq = 0
    late_hist = [0] * 1001  # lateness in ms, the last bucket is >= 1000 ms
    delayed = 0

    running = True

    def stop(*_):
        nonlocal running
        running = False

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    ep = select.epoll()
    for fd in fds:
        ep.register(fd, select.EPOLLIN)
    print("READY", flush=True)

    def deliver(dst, frame):
        try:
            os.write(fds[dst], frame)
            tx[dst] += len(frame)
            return True
        except OSError:
            dropped[dst] += 1  # the host's device is down (not yet configured, or going away)
            return False

    next_stats = time.monotonic() + 1.0
    while running:
        now = time.monotonic()
        timeout = 1.0
        if heap:
            timeout = min(timeout, max(0.0, heap[0][0] - now))
        try:
            events = ep.poll(timeout)
        except InterruptedError:
            events = []
        for fd, _ in events:
            src = by_fd[fd]
            for _ in range(256):
                try:
                    frame = os.read(fd, 65536)
                except BlockingIOError:
                    break
                except OSError:
                    break
                if len(frame) < 14:
                    continue
                rx[src] += len(frame)
                mac_port[frame[6:12]] = src
                dst = None if frame[0] & 1 else mac_port.get(frame[0:6])
                if dst is None:
                    for d in range(n):
                        if d != src:
                            deliver(d, frame)
                    continue
                if dst == src:
                    continue
                if not (shaped[src] and shaped[dst]):
                    deliver(dst, frame)
                    continue
                p2p_rx[src] += len(frame)
                if loss > 0 and rng.random() < loss:
                    dropped[src] += 1
                    continue
                t = time.monotonic()
                due = t + max(0.0, latency + (rng.uniform(-jitter, jitter) if jitter > 0 else 0.0))
                key = (src, dst)
                prev = last_due.get(key, 0.0)
                if due < prev:
                    due = prev
                last_due[key] = due
                seq += 1
                heapq.heappush(heap, (due, seq, dst, frame))
        now = time.monotonic()
        while heap and heap[0][0] <= now:
            due, _, dst, frame = heapq.heappop(heap)
            if deliver(dst, frame):
                p2p_tx[dst] += len(frame)
            late = int((now - due) * 1000)
            late_hist[min(late, 1000)] += 1
            delayed += 1
        if now >= next_stats:
            next_stats = now + 1.0
            tmp = cfg["stats"] + ".tmp"
            with open(tmp, "w") as f:
                json.dump(
                    {
                        "time": time.time(),
                        "ports": [
                            {
                                "name": ports[i]["name"],
                                "host": ports[i]["host"],
                                "rxBytes": rx[i],
                                "txBytes": tx[i],
                                "p2pRxBytes": p2p_rx[i],
                                "p2pTxBytes": p2p_tx[i],
                                "dropped": dropped[i],
                            }
                            for i in range(n)
                        ],
                        "delayedFrames": delayed,
                        "queued": len(heap),
                        "latenessHistogramMs": late_hist,
                    },
                    f,
                )
            os.replace(tmp, cfg["stats"])
    for fd in fds:
        os.close(fd)


if __name__ == "__main__":
    main()
