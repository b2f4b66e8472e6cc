"""`seqserve serve --workers N`: N server processes on one machine, one port each.

Worker i listens on --port + i and serves /metrics on --metrics-port + i (0 picks
free ports for each, -1 disables metrics). Separate ports, not one shared
SO_REUSEPORT port: the kernel spreads *connections* over a reuseport group, and a
load balancer or client keeps one HTTP/2 connection for many RPCs, so a shared
port would pin a balancer's whole traffic to one worker and make per-worker
health checks and session affinity impossible. With one port each, the
balancer (deploy/haproxy/haproxy.cfg) sees N servers and chooses per RPC.

SIGTERM/SIGINT are forwarded to every worker (each drains and hands off its
sessions). A worker that dies is reported on stderr and NOT restarted: the
balancer routes around it, and restarting is the job of the process manager
that runs the supervisor (systemd, Kubernetes), where it is visible.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time


def worker_ports(port: int, metrics_port: int, index: int) -> tuple[int, int]:
    grpc_port = port + index if port > 0 else port
    metrics = metrics_port + index if metrics_port > 0 else metrics_port
    return grpc_port, metrics


def supervise(workers: int, child_args: list[str], port: int, metrics_port: int) -> int:
    """Run `workers` children of `seqserve serve child_args --port .. --metrics-port ..`
    until all exit; returns 0 only if every one was stopped by a signal we forwarded
    and exited cleanly."""
    children: list[subprocess.Popen[bytes]] = []
    stopping = False

    def forward(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        for child in children:
            if child.poll() is None:
                child.send_signal(signum)

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        for index in range(workers):
            grpc_port, metrics = worker_ports(port, metrics_port, index)
            children.append(subprocess.Popen([
                sys.executable, "-m", "seqserve.server.cli", "serve", *child_args,
                "--port", str(grpc_port), "--metrics-port", str(metrics),
            ]))
        print(f"seqserve supervisor: {workers} workers, pids "
              f"{' '.join(str(c.pid) for c in children)}", file=sys.stderr, flush=True)
        failed = False
        running = set(range(workers))
        while running:
            for index in sorted(running):
                code = children[index].poll()
                if code is None:
                    continue
                running.discard(index)
                if code != 0 or not stopping:
                    failed = True
                    print(f"seqserve supervisor: worker {index} (pid {children[index].pid}) "
                          f"exited with code {code}; not restarting it "
                          f"({len(running)} still serving)", file=sys.stderr, flush=True)
            time.sleep(0.1)
        return 1 if failed else 0
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for child in children:
            if child.poll() is None:
                child.kill()
