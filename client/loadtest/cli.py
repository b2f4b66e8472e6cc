"""`seqserve loadtest`: run the locust users of deploy/loadtest headless against
a target, write the report, and exit 1 when an SLO gate fails.

    seqserve loadtest --target 127.0.0.1:50051 --translator en-fr --tagger tagger \\
        --users 12 --duration 60s --out loadtest-report
    seqserve loadtest --check-only loadtest-report --slo stricter.yaml   # re-gate a run

Exit status: 0 every gate passed, 1 a gate failed, 2 the run itself failed.
Files under --out: loadtest_stats.csv, loadtest_stats_history.csv,
loadtest_failures.csv, report.html, throughput.png, latency_over_time.png,
latency_vs_users.png, summary.json (figures and the last gate check).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

from seqserve.client.loadtest.gates import AGGREGATED, evaluate, load_gates, read_stats
from seqserve.client.security import (
    LOCUST_PREFIX,
    add_client_security_arguments,
    forwarded_security_arguments,
)

CSV_PREFIX = "loadtest"
# Which locust user runs each kind, and the option that names its model.
USERS = {
    "translator": ("TranslateUser", "TranslateStreamUser"),
    "tagger": ("TagUser",),
    "captioner": ("CaptionUser",),
    "session_model": ("SessionUser",),
    "kserve_model": ("KServeUser",),
}
# Options passed through to the locustfile unchanged (its own parser declares them).
_PASSED = ("translator", "tagger", "captioner", "session_model", "kserve_model", "beam_size",
           "n_best", "session_chunks", "chunk_rate", "chunk_steps", "rpc_timeout")


def _shipped(relative: str) -> Path | None:
    """deploy/loadtest/<file> of this checkout, else of the working directory."""
    for root in (Path(__file__).resolve().parents[2], Path.cwd()):
        candidate = root / "deploy" / "loadtest" / relative
        if candidate.is_file():
            return candidate
    return None


def parse_duration(text: str) -> float:
    """'90', '90s', '2m', '1h30m' -> seconds (locust's --run-time forms)."""
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    parts = re.fullmatch(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?", text)
    if not parts or not any(parts.groups()):
        raise argparse.ArgumentTypeError(f"{text!r}: use seconds, or forms like 30s, 2m, 1h30m")
    hours, minutes, seconds = (int(g or 0) for g in parts.groups())
    return float(hours * 3600 + minutes * 60 + seconds)


def _positive(kind: type) -> object:
    def check(text: str) -> object:
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
        return value
    return check


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="seqserve loadtest", description=__doc__.split("\n\n")[0])
    p.add_argument("--target", help="HOST:PORT of the server under test")
    p.add_argument("--users", type=_positive(int), default=8, help="concurrent users")
    p.add_argument("--spawn-rate", type=_positive(float),
                   help="users started per second (default: ramp over the first half)")
    p.add_argument("--duration", type=parse_duration, default=30.0, help="e.g. 30s, 2m")
    p.add_argument("--out", type=Path, default=Path("loadtest-report"), help="report folder")
    p.add_argument("--slo", type=Path, default=_shipped("slo.yaml"),
                   help="SLO gates (default deploy/loadtest/slo.yaml)")
    p.add_argument("--locustfile", type=Path, default=_shipped("locustfile.py"))
    p.add_argument("--check-only", type=Path, metavar="DIR",
                   help="no run: check the gates on the report already in DIR")
    p.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    models = p.add_argument_group("models (each one given adds its users)")
    models.add_argument("--translator", default="",
                        help="Translate and TranslateStream users")
    models.add_argument("--tagger", default="", help="Tag user")
    models.add_argument("--captioner", default="", help="Caption user")
    models.add_argument("--session-model", default="",
                        help="streaming session user (Predict stream)")
    models.add_argument("--kserve-model", default="",
                        help="KServe v2 ModelInfer user (a translator: input TEXT)")
    shape = p.add_argument_group("request shapes")
    shape.add_argument("--beam-size", type=int, default=0, help="0 = the model's default")
    shape.add_argument("--n-best", type=int, default=0, help="0 = the model's default")
    shape.add_argument("--session-chunks", type=_positive(int), default=8)
    shape.add_argument("--chunk-rate", type=_positive(float), default=20.0,
                       help="chunks per second in each session")
    shape.add_argument("--chunk-steps", type=_positive(int), default=4)
    shape.add_argument("--session-text", action="store_true",
                       help="session chunks are text (character model)")
    shape.add_argument("--rpc-timeout", type=_positive(float), default=30.0)
    add_client_security_arguments(
        p.add_argument_group("transport security (forwarded to every user)"), prefix=LOCUST_PREFIX
    )
    return p


def locust_command(args: argparse.Namespace, classes: list[str]) -> list[str]:
    spawn_rate = args.spawn_rate or max(1.0, args.users / max(args.duration / 2, 1.0))
    out = args.out.resolve()
    command = [
        sys.executable, "-m", "locust", "-f", str(args.locustfile), "--headless",
        "--host", args.target, "--users", str(args.users), "--spawn-rate", f"{spawn_rate:g}",
        "--run-time", f"{math.ceil(args.duration)}s", "--stop-timeout", "5",
        "--csv", str(out / CSV_PREFIX), "--csv-full-history", "--html", str(out / "report.html"),
        "--exit-code-on-error", "0", "--only-summary", "--loglevel", "WARNING",
    ]
    for name in _PASSED:
        command += [f"--{name.replace('_', '-')}", str(getattr(args, name))]
    if args.session_text:
        command.append("--session-text")
    command += forwarded_security_arguments(args, prefix=LOCUST_PREFIX)
    return command + classes


def _run_locust(args: argparse.Namespace) -> int:
    classes = [cls for option, names in USERS.items() if getattr(args, option) for cls in names]
    if not classes:
        print("seqserve loadtest: error: name at least one model (--translator, --tagger, "
              "--captioner, --session-model, --kserve-model)", file=sys.stderr)
        return 2
    if args.users < len(classes):
        print(f"seqserve loadtest: error: --users {args.users} is fewer than the {len(classes)}"
              f" user kinds asked for ({', '.join(classes)})", file=sys.stderr)
        return 2
    if args.locustfile is None or not args.locustfile.is_file():
        print("seqserve loadtest: error: no locustfile: give --locustfile "
              "(deploy/loadtest/locustfile.py of a checkout)", file=sys.stderr)
        return 2
    if importlib.util.find_spec("locust") is None:
        print("seqserve loadtest: error: locust is not installed: pip install 'seqserve[dev]'",
              file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    budget = args.duration + 60  # start-up, the stop timeout and the report
    try:
        done = subprocess.run(locust_command(args, classes), env=env, timeout=budget,
                              capture_output=True, text=True)
    except subprocess.TimeoutExpired:
        print(f"seqserve loadtest: error: locust did not finish in {budget:.0f}s",
              file=sys.stderr)
        return 2
    (args.out / "locust.log").write_text(done.stdout + done.stderr, encoding="utf-8")
    print(done.stdout, end="")
    if done.returncode != 0:
        print(f"seqserve loadtest: error: locust exited {done.returncode}:\n"
              f"{done.stderr[-3000:]}", file=sys.stderr)
        return 2
    return 0


def _check(out: Path, slo: Path | None, plots: bool, title: str) -> int:
    stats_csv = out / f"{CSV_PREFIX}_stats.csv"
    if not stats_csv.is_file():
        print(f"seqserve loadtest: error: {stats_csv} is missing (did the run write it?)",
              file=sys.stderr)
        return 2
    if slo is None:
        print("seqserve loadtest: error: no SLO file: give --slo", file=sys.stderr)
        return 2
    try:
        gates = load_gates(slo)
    except ValueError as exc:
        print(f"seqserve loadtest: error: {exc}", file=sys.stderr)
        return 2
    stats = read_stats(stats_csv)
    if plots:
        from seqserve.client.loadtest.plots import write_plots

        try:
            write_plots(out / f"{CSV_PREFIX}_stats_history.csv", out, title)
        except ImportError:
            print("seqserve loadtest: matplotlib is missing: no plots "
                  "(pip install 'seqserve[dev]')", file=sys.stderr)
    verdicts = evaluate(stats, gates)
    print(f"{'RPC':32} {'requests':>9} {'failures':>9} {'req/s':>8} {'p50 ms':>8} "
          f"{'p99 ms':>8}")
    for rpc in stats:
        print(f"{rpc.name:32} {rpc.requests:9d} {rpc.failures:9d} {rpc.rps:8.1f} "
              f"{rpc.p50_ms:8g} {rpc.p99_ms:8g}")
    print(f"SLO gates ({slo}):")
    for verdict in verdicts:
        print(f"  {verdict.line()}")
    passed = all(v.passed for v in verdicts)
    print("SLO: PASS" if passed else "SLO: FAIL")
    summary = {
        "title": title, "slo": str(slo), "passed": passed,
        "rpcs": [vars(rpc) for rpc in stats],
        "gates": [vars(v) for v in verdicts],
        "total": next((vars(r) for r in stats if r.name == AGGREGATED), None),
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=str) + "\n",
                                      encoding="utf-8")
    return 0 if passed else 1


def _title_of(out: Path) -> str:
    """The title the run gave its report (summary.json), else the folder's name."""
    try:
        return str(json.loads((out / "summary.json").read_text(encoding="utf-8"))["title"])
    except (OSError, ValueError, KeyError):
        return str(out)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.check_only is not None:
        return _check(args.check_only, args.slo, not args.no_plots, _title_of(args.check_only))
    if not args.target:
        parser.error("--target HOST:PORT is required (or --check-only DIR)")
    status = _run_locust(args)
    if status:
        return status
    title = f"{args.target}, {args.users} users, {args.duration:g}s"
    return _check(args.out, args.slo, not args.no_plots, title)


if __name__ == "__main__":
    raise SystemExit(main())
