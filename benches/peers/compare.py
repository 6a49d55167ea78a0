#!/usr/bin/env python3
"""Runs kinesim and the SimPy peer (simpy_esm.py) on the same fleet scenario, checks that
they agree, and prints both wall times and the speed ratio.

    python3 benches/peers/compare.py            # scenarios/bench/fleet-small.yaml, 2 h
    python3 benches/peers/compare.py --hours 24 # the same fleet for a day

Steps:
 1. uses target/release/kinesim (builds it with `cargo build --release` if it is missing,
    or always with --build);
 2. makes benches/peers/.venv with SimPy in it if it is not there yet (python3 -m venv,
    then pip install simpy);
 3. runs a 2-second kinesim trace of the scenario to learn each shard's poll phase and the
    delay before a written record can be read (so both models poll at the same instants
    and see the same records; --no-align keeps SimPy's own seeded phases);
 4. runs `kinesim run SCENARIO --format json` and the SimPy model (one event per
    invocation, and --coalesce unless --no-coalesce), each timed as a whole process with
    its peak memory; SimPy applies R-STREAM-5's 2 MiB/s read limit unless kinesim's
    assumptions say kinesim does not model it yet (--read-mib-per-s overrides);
 5. compares the counts: invocations and delivered records must agree within --tolerance
    (2 %); the exit status is 1 otherwise (2 for a setup problem).

--case expiry runs benches/peers/fleet-expiry.yaml instead (2 shards for 26 h: the poison
batch is retried until retention trims it, then the shard catches up).

The SimPy parameters below are those of the scenarios; the written record count, which
both sides compute from them, is checked to be equal, so a drift between this file and a
scenario shows up as a failure.
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
VENV = HERE / ".venv"
MODEL = HERE / "simpy_esm.py"
KINESIM = ROOT / "target" / "release" / "kinesim"

# The SimPy options of everything the cases share (fleet-small.yaml's function and mapping).
COMMON = [
    "--rate-per-shard", "900",
    "--key-prefix", "fleet",
    "--record-size", "1024",
    "--batch-size", "500",
    "--base-ms", "50", "--per-record-ms", "0.1",
    "--timeout-s", "60",
    "--poison-shard", "0", "--poison-at-s", "3600",
    "--retention-h", "24",
    "--account-concurrency", "2000",
]
# case: (scenario, its duration in hours, the SimPy options that differ); the partition
# key count is read from the scenario (`partition_keys`)
CASES = {
    # the speed comparison: 20 shards, 18,000 records/s, 2 h; 10,000 keys a shard, as in
    # the full fleet
    "small": (ROOT / "scenarios" / "bench" / "fleet-small.yaml", "2", ["--shards", "20"]),
    # retries until retention trims the poison batch, then catch-up polls: 2 shards, 26 h
    "expiry": (HERE / "fleet-expiry.yaml", "26", ["--shards", "2"]),
    # the full fleet (use --hours: a day of it takes SimPy about half an hour)
    "day": (ROOT / "scenarios" / "bench" / "fleet-day.yaml", "24", ["--shards", "1000"]),
}


def partition_keys(scenario: Path) -> str:
    """The scenario's one `partition_keys:` value (the fleet scenarios have one producer),
    so that the model routes the same keys."""
    found = re.findall(r"^\s*partition_keys:\s*(\d+)\s*$", scenario.read_text(), re.M)
    if len(found) != 1:
        fail(f"{scenario}: expected one `partition_keys:` line, found {len(found)}")
    return found[0]


def fail(msg: str, code: int = 2) -> None:
    print(f"compare: {msg}", file=sys.stderr)
    sys.exit(code)


def timed(cmd: list[str], stdout_path: Path) -> tuple[float, int | None]:
    """Runs `cmd` with stdout to a file; returns (wall seconds, peak RSS in KiB or None).

    The peak memory comes from /usr/bin/time: a child started from Python reports at least
    Python's own peak (Linux keeps the pre-exec high-water mark), so it cannot be measured
    from here."""
    gnu_time = Path("/usr/bin/time")
    rss_file = stdout_path.with_suffix(".rss")
    full = cmd
    if gnu_time.exists():
        full = [str(gnu_time), "-f", "%M", "-o", str(rss_file)] + cmd
    with open(stdout_path, "wb") as out:
        started = time.perf_counter()
        done = subprocess.run(full, stdout=out)
        wall = time.perf_counter() - started
    if done.returncode != 0:
        fail(f"`{' '.join(cmd)}` exited with {done.returncode}")
    rss = None
    if rss_file.exists():
        text = rss_file.read_text().strip().splitlines()
        rss = int(text[-1]) if text and text[-1].isdigit() else None
    return wall, rss


def rounds(n: int, cmds: list[tuple[str, list[str]]], tmp: Path) -> dict:
    """Runs every command once per round, n rounds, so a busy spell of the shared host
    falls on all of them alike. Per command: the fastest wall time (the least disturbed
    run), the highest peak memory and every run's output."""
    walls: dict[str, list[float]] = {label: [] for label, _ in cmds}
    peaks: dict[str, list[int]] = {label: [] for label, _ in cmds}
    outputs: dict[str, list[str]] = {label: [] for label, _ in cmds}
    for _ in range(max(n, 1)):
        for i, (label, cmd) in enumerate(cmds):
            out = tmp / f"run-{i}.out"
            wall, rss = timed(cmd, out)
            walls[label].append(wall)
            if rss is not None:
                peaks[label].append(rss)
            outputs[label].append(out.read_text())
    return {label: (min(walls[label]), max(peaks[label]) if peaks[label] else None,
                    outputs[label]) for label, _ in cmds}


def mib(kib: int | None) -> str:
    return "n/a" if kib is None else f"{kib / 1024:.1f}"


def ensure_kinesim(build: bool) -> None:
    if build or not KINESIM.exists():
        if shutil.which("cargo") is None:
            fail("cargo is not on PATH and target/release/kinesim is missing")
        print("building target/release/kinesim ...", file=sys.stderr)
        subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)


def venv_python() -> Path:
    py = VENV / "bin" / "python"
    if not py.exists():
        print(f"making {VENV.relative_to(ROOT)} ...", file=sys.stderr)
        made = subprocess.run([sys.executable, "-m", "venv", str(VENV)])
        if made.returncode != 0 or not py.exists():
            fail("python3 -m venv failed; on Debian or Ubuntu: apt-get install python3-venv")
    has = subprocess.run([str(py), "-c", "import simpy"], capture_output=True)
    if has.returncode != 0:
        print("installing simpy into the venv ...", file=sys.stderr)
        subprocess.run([str(py), "-m", "pip", "install", "--quiet", "simpy"], check=True)
    return py


def models_read_limit(summary: dict) -> bool:
    """Whether this kinesim applies R-STREAM-5's 2 MiB/s per-shard read limit: its
    assumptions say so while it does not ("... the 2 MiB/s per-shard read limit ... are
    not yet")."""
    for line in summary.get("assumptions", []):
        if "2 MiB/s" in line and "not yet" in line:
            return False
    return True


def pct(a: float, b: float) -> float:
    """Relative difference of a from b, in percent."""
    return 0.0 if a == b else 100.0 * abs(a - b) / max(abs(b), 1)


def main() -> int:
    ap = argparse.ArgumentParser(description="kinesim against its SimPy peer")
    ap.add_argument("--case", choices=sorted(CASES), default="small")
    ap.add_argument("--hours", help="simulated hours (default: the scenario's duration)")
    ap.add_argument("--tolerance", type=float, default=2.0, help="percent")
    ap.add_argument("--build", action="store_true", help="cargo build --release first")
    ap.add_argument("--kinesim", metavar="PATH", type=Path,
                    help="this kinesim binary instead of target/release/kinesim")
    ap.add_argument("--no-align", action="store_true",
                    help="SimPy draws its own poll phases instead of kinesim's")
    ap.add_argument("--read-delay-ms", default="0",
                    help="with --no-align: SimPy's read delay (aligned runs find it in the "
                         "trace)")
    ap.add_argument("--read-mib-per-s", default="auto",
                    help="SimPy's per-shard read limit (R-STREAM-5); auto: 2 unless kinesim's "
                         "assumptions say it does not model that limit yet, else 0")
    ap.add_argument("--no-coalesce", action="store_true",
                    help="skip the coalesced SimPy run")
    ap.add_argument("--repeat", type=int, default=1,
                    help="N rounds of every timed command; the fastest of each is kept")
    ap.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    a = ap.parse_args()

    if a.kinesim is None:
        ensure_kinesim(a.build)
    elif not a.kinesim.exists():
        fail(f"{a.kinesim}: no such file")
    binary = a.kinesim or KINESIM
    py = venv_python()
    scenario, scenario_hours, case_args = CASES[a.case]
    hours = a.hours or scenario_hours
    duration = f"{hours}h"

    with tempfile.TemporaryDirectory(prefix="kinesim-peers-") as tmp:
        tmp = Path(tmp)
        # Every kinesim run of this comparison uses one copy of the binary: others may
        # rebuild target/release/kinesim meanwhile.
        kinesim = tmp / "kinesim"
        shutil.copy2(binary, kinesim)
        model_args = COMMON + case_args + ["--keys", partition_keys(scenario), "--hours", hours]
        if a.no_align:
            model_args += ["--read-delay-ms", a.read_delay_ms]
        else:
            trace = tmp / "phases.jsonl"
            subprocess.run([str(kinesim), "run", str(scenario), "--duration", "2s",
                            "--trace", str(trace), "--format", "json"],
                           stdout=subprocess.DEVNULL, check=True)
            model_args += ["--phases-from-trace", str(trace), "--read-delay-ms", "auto"]

        # kinesim's fixed cost (parsing, routing the partition keys, building the shards) is
        # the same scenario for one simulated second; its summary also says whether this
        # kinesim applies the read limit.
        short = [str(kinesim), "run", str(scenario), "--duration", "1s", "--format", "json"]
        read_limit = a.read_mib_per_s
        if read_limit == "auto":
            probe = subprocess.run(short, capture_output=True, check=True)
            read_limit = "2" if models_read_limit(json.loads(probe.stdout)) else "0"
        model_args += ["--read-mib-per-s", read_limit]

        cmds = [("kinesim", [str(kinesim), "run", str(scenario), "--duration", duration,
                             "--format", "json"]),
                ("kinesim 1s", short),
                ("simpy", [str(py), str(MODEL)] + model_args)]
        if not a.no_coalesce:
            cmds.append(("simpy --coalesce", [str(py), str(MODEL)] + model_args
                         + ["--coalesce"]))
        res = rounds(a.repeat, cmds, tmp)

    k_wall, k_rss, k_out = res["kinesim"]
    kin = json.loads(k_out[-1])
    k0_wall = res["kinesim 1s"][0]
    peers = []
    for label, _ in cmds[2:]:
        wall, rss, outs = res[label]
        docs = [json.loads(o) for o in outs]
        # The fastest inner times too, with the counts of the last run (all equal).
        best = docs[-1]
        for part in ("setup", "simulate", "total"):
            best["wall_s"][part] = min(d["wall_s"][part] for d in docs)
        peers.append((label, best, wall, rss))

    rows = [
        ("records.written", lambda d: d["records"]["written"]),
        ("records.delivered", lambda d: d["records"]["delivered"]),
        ("records.expired", lambda d: d["records"]["expired"]),
        ("records.pending", lambda d: d["records"]["pending"]),
        ("records.deliveries", lambda d: d["records"]["deliveries"]),
        ("records.duplicates", lambda d: d["records"]["duplicates"]),
        ("invocations.total", lambda d: d["invocations"]["total"]),
        ("invocations.errors", lambda d: d["invocations"]["errors"]),
    ]
    checked = {"invocations.total", "records.delivered"}
    exact = {"records.written"}  # both sides derive it from the parameters alone

    print(f"scenario: {scenario.relative_to(ROOT)} for {duration}"
          f" ({'phases from kinesim' if not a.no_align else 'own phases'})")
    params = peers[0][1]["params"]
    print(f"python {platform.python_version()}, simpy {peers[0][1]['simpy']}, "
          f"kinesim {kin['run']['kinesim']}")
    print(f"SimPy: read delay {params['read_delay_us']} us, read limit "
          f"{params['read_mib_per_s']} MiB/s per shard (0: none), "
          f"{params['shards_aligned']} shard(s) aligned to kinesim's poll phases")
    print()
    head = f"{'count':<20} {'kinesim':>14}"
    for label, _, _, _ in peers:
        head += f" {label:>18} {'diff':>7}"
    print(head)
    ok = True
    for name, get in rows:
        kv = get(kin)
        line = f"{name:<20} {kv:>14}"
        for _, d, _, _ in peers:
            sv = get(d)
            diff = pct(sv, kv)
            flag = ""
            if name in checked and diff > a.tolerance:
                ok, flag = False, "!"
            if name in exact and sv != kv:
                ok, flag = False, "!"
            line += f" {sv:>18} {diff:>6.3f}%{flag}"
        print(line)
    print()
    print(f"{'run':<20} {'wall s':>8} {'peak MiB':>9} {'events':>10}  wall time / kinesim's")
    k_loop = max(k_wall - k0_wall, 1e-3)
    print(f"{'kinesim':<20} {k_wall:>8.3f} {mib(k_rss):>9} {kin['run']['events']:>10}"
          f"  (of which {k0_wall:.3f} s fixed cost: the same run for 1 s)")
    results = {"scenario": str(scenario.relative_to(ROOT)), "hours": hours,
               "repeat": a.repeat, "simpy_params": params,
               "aligned_phases": not a.no_align, "tolerance_pct": a.tolerance,
               "kinesim": {"wall_s": round(k_wall, 3), "peak_kib": k_rss,
                           "fixed_cost_wall_s": round(k0_wall, 3),
                           "events": kin["run"]["events"],
                           "records": kin["records"], "invocations": kin["invocations"]},
               "peers": {}}
    for label, d, wall, rss in peers:
        sim = d["wall_s"]["simulate"]
        print(f"{label:<20} {wall:>8.3f} {mib(rss):>9} {d['simpy_yields']:>10}"
              f"  {wall / k_wall:.1f}x (simulation alone: {sim:.3f} s against"
              f" {k_loop:.3f} s, {sim / k_loop:.1f}x)")
        results["peers"][label] = {"wall_s": round(wall, 3), "peak_kib": rss,
                                   "simpy_yields": d["simpy_yields"],
                                   "inner_wall_s": d["wall_s"],
                                   "records": d["records"], "invocations": d["invocations"]}
    print()
    verdict = (f"counts agree within {a.tolerance:g} % (invocations, delivered)" if ok
               else f"counts DISAGREE beyond {a.tolerance:g} % (marked !); if this kinesim "
                    "reads differently (R-STREAM-5 read limit, R-EFO-1 delay), see "
                    "--read-mib-per-s and README.md")
    print(verdict)
    results["agree"] = ok
    if a.json:
        Path(a.json).write_text(json.dumps(results, indent=2) + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
