#!/usr/bin/env python3
"""A SimPy peer of kinesim: Kinesis shards feeding Lambda through an event source mapping.

This is the baseline for issue 7 (speed). It models the part of the mapping that the
benchmark scenarios exercise, the way a SimPy user who cares about speed would write it:

* one SimPy process per shard, no per-record events: arrivals are evenly spaced, so "how
  many records have arrived by t" and "when did record j arrive" are closed formulas
  (R-TRAFFIC-1 uniform arrival, with the per-second write limit of R-STREAM-3 applied);
* the process polls at its own phase once a second (R-POLL-1), reads at most 10,000
  records per GetRecords call, and when a call hit that cap it polls again as soon as its
  queue is short of BatchSize, within 5 calls per second;
* it cuts batches of BatchSize and invokes them one after the other (R-BATCH-1 with
  MaximumBatchingWindowInSeconds 0, R-ORDER-1); an invocation lasts
  base + per_record x records;
* a poison record (the first record of a shard arriving at or after a time) makes every
  invocation holding it throw after processing the records before it (R-ERR-1); the batch
  is retried after 1 s, 2 s, 4 s, 8 s, then every 12 s (R-ERR-5) until retention trims its
  records (R-ERR-2, R-ERR-6, R-STREAM-4); the expired records are dropped and the shard goes
  on with what is left;
* optionally, reads see a record only some time after it arrives (--read-delay-ms, the
  propagation of R-EFO-1) and a shard serves the mapping at most so many bytes a second
  (--read-mib-per-s, R-STREAM-5, as kinesim models it: a byte credit refilled at that rate,
  at most a second's worth banked; a call is allowed while the credit is not negative and
  may overdraw it; a poll that finds it negative is a refused call);
* the function's concurrency is not modelled: the run refuses a shard count above the
  account concurrency, where it could bind.

Traffic: each shard gets --rate-per-shard, or, with --keys, its share of the stream's rate
by MD5 routing of the keys `PREFIX-0 ..` (R-STREAM-1), which gives the same per-shard rates
as kinesim.

Time is an integer number of microseconds, as in kinesim, so the two models cut batches at
the same record indexes when their shards have the same rates and poll phases. The phases
are drawn from Python's own generator unless --phases-from-trace fits them to a kinesim
trace of the same scenario.

Two ways to drive SimPy (same counts, different speed):

* default: one `yield env.timeout(...)` per invocation and one per idle wait, the same
  event granularity as kinesim (poll, invocation end);
* --coalesce: a shard's process advances its own clock through the invocations that one
  poll starts and only yields when it goes idle or waits for a retry. This is valid here
  because nothing couples the shards (no concurrency limit can bind).

Prints one JSON object: the parameters, the counts, and the wall time.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import random
import sys
import time
from collections import deque
from decimal import Decimal, InvalidOperation

try:
    import simpy
except ImportError:
    sys.exit("simpy_esm.py needs SimPy: run it with benches/peers/.venv/bin/python (made by "
             "compare.py), or `pip install simpy`")

US_PER_S = 1_000_000
# R-STREAM-3: per shard and whole second of simulated time.
WRITE_LIMIT_RECORDS = 1000
WRITE_LIMIT_BYTES = 1 << 20
# R-POLL-1 / R-STREAM-5: one GetRecords call returns at most this much; 5 calls a second.
READ_MAX_RECORDS = 10_000
READ_MAX_BYTES = 10 << 20
CALLS_PER_SECOND = 5
# kinesim reads this many keys one by one and spreads the rest by hash-range width.
EXACT_KEYS_MAX = 1_000_000


def exact_us(text: str, unit_us: int, what: str) -> int:
    """`text` (a plain decimal) times `unit_us`, required to be a whole microsecond."""
    try:
        value = Decimal(text) * unit_us
    except InvalidOperation:
        raise SystemExit(f"{what}: `{text}` is not a number")
    if value != value.to_integral_value() or value < 0:
        raise SystemExit(f"{what}: `{text}` is negative or finer than a microsecond")
    return int(value)


def micro_rate(text: str, what: str) -> int:
    """A rate in records per second, as an integer count of micro-records per second."""
    try:
        value = Decimal(text) * US_PER_S
    except InvalidOperation:
        raise SystemExit(f"{what}: `{text}` is not a number")
    if value < 0:
        raise SystemExit(f"{what}: `{text}` is negative")
    return int(value.to_integral_value())


def round_half_up(x: float) -> int:
    return int(x + 0.5)


def shard_rates_by_keys(total_urps: int, shards: int, keys: int, prefix: str) -> list[int]:
    """Each shard's share of a producer's rate when keys `prefix-0 .. prefix-(keys-1)` are
    routed by MD5 (R-STREAM-1, R-TRAFFIC-1), computed the way kinesim documents it: the
    first million keys one by one, the rest spread by the width of each hash range."""
    full = 1 << 128
    umax = full - 1
    width = umax // shards if shards > 1 else full
    if shards > 1 and umax % shards + 1 == shards:
        width += 1
    counts = [0.0] * shards
    exact = min(keys, EXACT_KEYS_MAX)
    md5 = hashlib.md5
    last = shards - 1
    for i in range(exact):
        h = int.from_bytes(md5(f"{prefix}-{i}".encode()).digest(), "big")
        counts[min(h // width, last)] += 1.0
    total = float(exact)
    if keys > exact:
        rest = float(keys - exact)
        total += rest
        for s in range(shards):
            start = s * width
            end = umax if s == last else (s + 1) * width - 1
            counts[s] += rest * (float(end - start) / float(umax))
    return [round_half_up(total_urps * (c / total)) for c in counts]


class Shard:
    """One shard's log (as formulas) and the mapping's state for it."""

    __slots__ = (
        "number", "urps", "cap", "end_time", "phase", "poison",
        "read_pos", "cut_pos", "ckpt", "next_tick", "catch_at", "calls", "behind",
        "invoking", "written", "rejected", "delivered", "expired", "deliveries",
        "redeliveries", "duplicates", "inv_ok", "inv_err", "inv_timeout", "age_max_us",
        "yields", "read_delay", "record_size", "read_rate", "credit", "credit_at",
        "throttled_calls",
    )

    def __init__(self, number: int, urps: int, cap: int, end_time: int, phase: int):
        self.number = number
        self.urps = urps            # micro-records per second offered to this shard
        self.cap = cap              # records accepted per whole second (R-STREAM-3)
        self.end_time = end_time    # records arrive in [0, end_time)
        self.phase = phase          # poll offset in [0, 1 s)
        self.poison = None          # index of the poison record, if this shard has it
        self.read_pos = 0           # next record GetRecords returns
        self.cut_pos = 0            # first record read but not yet in a batch
        self.ckpt = 0               # every record below has its fate
        self.next_tick = phase
        self.catch_at = None        # a catch-up poll waiting for the call limit
        self.calls = deque([None] * CALLS_PER_SECOND, maxlen=CALLS_PER_SECOND)
        self.behind = False         # the last call hit the 10,000-record cap
        self.invoking = False
        self.written = self.count_by(end_time - 1)
        offered = -(-end_time * urps // 10**12)
        self.rejected = offered - self.written
        self.delivered = self.expired = 0
        self.deliveries = self.redeliveries = self.duplicates = 0
        self.inv_ok = self.inv_err = self.inv_timeout = 0
        self.age_max_us = 0
        self.yields = 0
        self.read_delay = 0         # a record is readable this long after it arrives
        self.record_size = 1024     # bytes a record counts against the read limit
        self.read_rate = 0          # bytes/s the mapping may read (0: no limit)
        self.credit = 0             # bytes it may still read, as of credit_at
        self.credit_at = 0
        self.throttled_calls = 0

    # -- the log, as formulas ------------------------------------------------------------

    def uncapped(self) -> bool:
        # Evenly spaced arrivals put ceil(rate) or floor(rate) records in a second.
        return -(-self.urps // US_PER_S) <= self.cap

    def count_by(self, t: int) -> int:
        """Accepted records that arrived at or before t (record k of the offered
        progression arrives at floor(k * 10^12 / urps) microseconds)."""
        if t < 0 or self.urps == 0:
            return 0
        t = min(t, self.end_time - 1)
        offered = -(-(t + 1) * self.urps // 10**12)
        if self.uncapped():
            return offered
        # Above the limit every second offers at least `cap`; its first `cap` are accepted.
        sec = t // US_PER_S
        first_of_sec = -(-sec * US_PER_S * self.urps // 10**12)
        return sec * self.cap + min(self.cap, offered - first_of_sec)

    def arrival(self, j: int) -> int:
        """Arrival time of accepted record j."""
        if self.uncapped():
            return j * 10**12 // self.urps
        sec, m = divmod(j, self.cap)
        k = -(-sec * US_PER_S * self.urps // 10**12) + m
        return k * 10**12 // self.urps

    # -- the mapping's reads -------------------------------------------------------------

    def within_calls(self, t: int) -> bool:
        """At most 5 GetRecords calls in any second (R-STREAM-5)."""
        oldest = self.calls[0]
        return oldest is None or t >= oldest + US_PER_S

    def credit_now(self, t: int) -> int:
        """The byte credit at t, refilled at the read rate, at most one second's worth."""
        refill = (t - self.credit_at) * self.read_rate // US_PER_S
        return min(self.credit + refill, self.read_rate)

    def may_call(self, t: int) -> bool:
        return self.within_calls(t) and (not self.read_rate or self.credit_now(t) >= 0)

    def next_allowed(self, t: int) -> int:
        """The earliest time a call is allowed, from t on."""
        at = t if self.calls[0] is None else max(t, self.calls[0] + US_PER_S)
        if self.read_rate:
            credit = self.credit_now(t)
            if credit < 0:
                at = max(at, t + -(-(-credit) * US_PER_S // self.read_rate))
        return at

    def call(self, t: int, nbytes: int) -> None:
        """A GetRecords call at t that returned nbytes (0 for a refused call)."""
        self.calls.append(t)
        if self.read_rate:
            self.credit = self.credit_now(t) - nbytes
            self.credit_at = t

    def read(self, t: int, batch_size: int, read_max: int) -> None:
        """One GetRecords call at t, if the queue is short of a batch and the limits allow
        (R-POLL-1, R-STREAM-5). With a read rate, a call is allowed while the byte credit
        is not negative and may take it below zero; a poll that finds the credit negative
        is a refused call, which counts against the 5 calls a second."""
        if self.read_pos - self.cut_pos >= batch_size:
            return
        if not self.may_call(t):
            if self.read_rate and self.within_calls(t):
                self.call(t, 0)
                self.throttled_calls += 1
            return
        frm = max(self.read_pos, self.ckpt)
        n = min(max(self.count_by(t - self.read_delay) - frm, 0), read_max)
        self.call(t, n * self.record_size)
        self.read_pos = frm + n
        self.behind = n >= read_max

    def catch_up(self, t: int, batch_size: int, read_max: int) -> None:
        """After a batch ends on a shard that is behind: read now, or as soon as the
        limits allow."""
        if not self.behind or self.catch_at is not None:
            return
        if self.read_pos - self.cut_pos >= batch_size:
            return
        if self.may_call(t):
            self.read(t, batch_size, read_max)
        else:
            self.catch_at = self.next_allowed(t)

    def trim(self, t: int, retention: int) -> None:
        """Retention (R-STREAM-4, R-ERR-6): records that arrived at or before t - retention
        are gone; those without a fate are expired. A batch in flight keeps its records,
        and the checkpoint sits at its first record, so nothing moves then."""
        if self.invoking or t < retention:
            return
        horizon = self.count_by(t - retention)
        if horizon > self.ckpt:
            self.expired += horizon - self.ckpt
            self.ckpt = horizon
            if self.cut_pos < horizon:
                self.cut_pos = horizon
            if self.read_pos < horizon:
                self.read_pos = horizon

    def polls_during(self, t0: int, t1: int, can_read: bool, batch_size: int,
                     read_max: int) -> None:
        """The polls (ticks and a pending catch-up) due in (t0, t1] while a batch is in
        flight. Retention cannot trim then; a poll reads only if the shard is not blocked
        by a failing batch."""
        while True:
            t = self.next_tick
            if self.catch_at is not None and self.catch_at < t:
                t = self.catch_at
            if t > t1:
                return
            if t == self.next_tick:
                self.next_tick += US_PER_S
            if t == self.catch_at:
                self.catch_at = None
            if can_read:
                self.read(t, batch_size, read_max)


def first_polls(path: str) -> dict[int, tuple[int, int]]:
    """Per shard number, the time (whole ms) of its first invocation in a kinesim trace and
    the records its first poll read: those of the shard's first attempts that start before
    its next tick, a second later (true while a shard keeps up with its traffic)."""
    seen: dict[int, list[int]] = {}
    with open(path) as f:
        for line in f:
            ev = json.loads(line)
            if ev.get("kind") != "invoke" or ev.get("attempt") != 1:
                continue
            number = int(ev["shard"].rsplit("-", 1)[1])
            entry = seen.setdefault(number, [ev["t_ms"], 0])
            if ev["t_ms"] < entry[0] + 1000:
                entry[1] += ev["records"]
    return {n: (t, r) for n, (t, r) in seen.items()}


def horizon_interval(sh: Shard, records: int, upto: int) -> tuple[int, int] | None:
    """The times h in [0, upto] with count_by(h) == records, as (first, last)."""
    def first_at_least(k: int) -> int:
        lo, hi = 0, upto + 1
        while lo < hi:
            mid = (lo + hi) // 2
            if sh.count_by(mid) >= k:
                hi = mid
            else:
                lo = mid + 1
        return lo
    a, c = first_at_least(records), first_at_least(records + 1)
    return (a, c - 1) if a < c and a <= upto else None


def align_to_trace(path: str, shards: list[Shard], delay: int | None) -> tuple[int, int]:
    """Sets the poll phases (and, if `delay` is None, the read delay) from a kinesim trace
    of the same scenario (`kinesim run ... --trace FILE`; two seconds are enough).

    A shard's first invocation starts at its first poll: the trace gives that time to the
    millisecond, and the records the poll read are those that arrived by (poll time - read
    delay). Each shard so bounds its phase and the delay; the delay, one for all shards, is
    taken where every shard's bounds meet (the roundest value there: 0, 1 s, ... 1 ms), then
    each phase is the middle of what is left for it. Returns (shards aligned, delay)."""
    polls = {n: v for n, v in first_polls(path).items() if n < len(shards)}
    bounds = {}
    for number, (t_ms, records) in polls.items():
        lo, hi = t_ms * 1000, t_ms * 1000 + 999
        h = horizon_interval(shards[number], records, hi)
        if h is not None:
            bounds[number] = (lo, hi, h)
    if delay is None:
        d_lo = max((lo - h[1] for lo, hi, h in bounds.values()), default=0)
        d_hi = min((hi - h[0] for lo, hi, h in bounds.values()), default=0)
        if d_lo > d_hi:
            print(f"{path}: no single read delay fits the trace; keeping the seeded phases",
                  file=sys.stderr)
            return 0, 0
        delay = (d_lo + d_hi) // 2
        # The roundest value that fits: 0, else a multiple of 1 s, 100 ms, 10 ms or 1 ms.
        for step in (US_PER_S, 100_000, 10_000, 1000):
            k = -(-max(d_lo, 0) // step) * step
            if k <= d_hi:
                delay = k
                break
    aligned = 0
    for number, (lo, hi, h) in bounds.items():
        a, b = max(lo, h[0] + delay), min(hi, h[1] + delay)
        if a > b:
            continue
        sh = shards[number]
        sh.phase = sh.next_tick = (a + b) // 2
        aligned += 1
    if aligned < len(polls):
        print(f"{path}: {len(polls) - aligned} shard(s) do not fit the trace with a read "
              f"delay of {delay} us; they keep their seeded phases", file=sys.stderr)
    return aligned, delay


def backoff(initial: int, cap: int, k: int) -> int:
    """R-ERR-5: the k-th retry waits initial * 2^(k-1), at most cap."""
    return min(initial << min(k - 1, 40), cap)


def shard_process(env: simpy.Environment, sh: Shard, p: dict):
    batch_size = p["batch_size"]
    read_max = p["read_max"]
    base, per = p["base_us"], p["per_record_us"]
    timeout = p["timeout_us"]
    retention = p["retention_us"]
    b_init, b_cap = p["backoff_initial_us"], p["backoff_max_us"]
    end_time = p["end_us"]
    coalesce = p["coalesce"]
    poison = sh.poison

    now = sh.phase
    sh.yields += 1
    yield env.timeout(now)
    while True:
        # A poll: the once-a-second tick, or a catch-up poll.
        if now == sh.next_tick:
            sh.next_tick += US_PER_S
        if now == sh.catch_at:
            sh.catch_at = None
        sh.trim(now, retention)
        sh.read(now, batch_size, read_max)

        woke_at_tick = False
        while sh.cut_pos < sh.read_pos and not woke_at_tick:
            first = sh.cut_pos
            last_end = min(first + batch_size, sh.read_pos)
            sh.cut_pos = last_end
            failures = 0
            processed_hi = first
            while True:
                # A send (first attempt or retry): retention first cuts the batch's head.
                sh.trim(now, retention)
                if first < sh.ckpt:
                    first = sh.ckpt
                if first >= last_end:
                    break  # the whole batch expired; the shard goes on
                n = last_end - first
                if poison is not None and first <= poison < last_end:
                    done = poison - first          # processed before the throw
                    d = base + per * (done + 1)
                    ok = False
                else:
                    done = n
                    d = base + per * n
                    ok = True
                timed_out = d > timeout
                if timed_out:
                    d, ok, done = timeout, False, 0
                t1 = now + d
                age = now - sh.arrival(last_end - 1)
                if age > sh.age_max_us:
                    sh.age_max_us = age
                sh.deliveries += n
                if failures:
                    sh.redeliveries += n
                sh.invoking = True
                if t1 > end_time:
                    # Ends after the run: neither counted nor finished (as in kinesim).
                    sh.polls_during(now, end_time, failures == 0, batch_size, read_max)
                    return
                if not coalesce:
                    sh.yields += 1
                    yield env.timeout(d)
                sh.polls_during(now, t1, failures == 0, batch_size, read_max)
                now = t1
                sh.invoking = False
                hi = first + done
                if processed_hi > first:
                    sh.duplicates += min(hi, processed_hi) - first
                if hi > processed_hi:
                    processed_hi = hi
                if ok:
                    sh.inv_ok += 1
                    sh.delivered += n
                    sh.ckpt = last_end
                    break
                if timed_out:
                    sh.inv_timeout += 1
                else:
                    sh.inv_err += 1
                failures += 1
                retry_at = now + backoff(b_init, b_cap, failures)
                # A tick while the batch waits trims it; if it takes the whole batch, the
                # shard goes on from that tick rather than at the retry.
                wake = retry_at
                gone_at = sh.arrival(last_end - 1) + retention
                if gone_at < retry_at:
                    tick = sh.next_tick
                    if tick < gone_at:
                        tick += -(-(gone_at - tick) // US_PER_S) * US_PER_S
                    if tick < retry_at:
                        wake = tick
                        woke_at_tick = True
                if wake > end_time:
                    return
                sh.yields += 1
                yield env.timeout(wake - env.now)
                now = wake
                if woke_at_tick:
                    sh.next_tick = wake  # the main loop polls at this tick
                    if sh.catch_at is not None and sh.catch_at < wake:
                        sh.catch_at = None
                    break
                # The ticks in the wait found the shard blocked: they only trimmed, which
                # the trim at this send does in one go.
                while sh.next_tick <= now:
                    sh.next_tick += US_PER_S
                if sh.catch_at is not None and sh.catch_at <= now:
                    sh.catch_at = None
            if woke_at_tick:
                break
            # The batch is finished: a shard that is behind reads on at once.
            sh.catch_up(now, batch_size, read_max)

        if woke_at_tick:
            continue  # `now` is a tick: poll there
        nxt = sh.next_tick
        if sh.catch_at is not None and sh.catch_at < nxt:
            nxt = sh.catch_at
        if nxt > end_time:
            return
        sh.yields += 1
        yield env.timeout(nxt - env.now)
        now = nxt


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shards", type=int, required=True)
    ap.add_argument("--hours", default="2", help="simulated hours (decimal)")
    ap.add_argument("--rate-per-shard", default="900",
                    help="records/s offered to each shard (decimal)")
    ap.add_argument("--keys", type=int, default=0,
                    help="route KEYS partition keys `PREFIX-i` by MD5 as kinesim does, "
                         "instead of giving each shard exactly --rate-per-shard")
    ap.add_argument("--key-prefix", default="fleet", help="the producer's name")
    ap.add_argument("--record-size", type=int, default=1024, help="bytes")
    ap.add_argument("--batch-size", type=int, default=500)
    ap.add_argument("--base-ms", default="50")
    ap.add_argument("--per-record-ms", default="0.1")
    ap.add_argument("--timeout-s", default="60")
    ap.add_argument("--poison-shard", type=int, default=0, help="-1: no poison record")
    ap.add_argument("--poison-at-s", default="3600")
    ap.add_argument("--retention-h", default="24")
    ap.add_argument("--backoff-initial-s", default="1")
    ap.add_argument("--backoff-max-s", default="12")
    ap.add_argument("--account-concurrency", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=1, help="seeds the poll phases")
    ap.add_argument("--phases-from-trace", metavar="FILE",
                    help="take the poll phases from a kinesim trace of the same scenario")
    ap.add_argument("--read-mib-per-s", default="0",
                    help="R-STREAM-5's per-shard read throughput as a byte credit (kinesim's "
                         "model of it); 0: not limited")
    ap.add_argument("--read-delay-ms", default="0",
                    help="a record is readable this long after it arrives (R-EFO-1's "
                         "propagation); `auto`: the delay a --phases-from-trace trace shows")
    ap.add_argument("--coalesce", action="store_true",
                    help="one SimPy event per poll and its batches, not per invocation")
    ap.add_argument("--per-shard", action="store_true", help="also print per-shard counts")
    a = ap.parse_args(argv)

    started = time.perf_counter()
    if a.shards < 1 or a.batch_size < 1 or a.record_size < 1:
        raise SystemExit("--shards, --batch-size and --record-size must be at least 1")
    if a.shards > a.account_concurrency:
        raise SystemExit("more shards than the account concurrency: the concurrency limit "
                         "could bind, and this model does not simulate it")
    end_us = exact_us(a.hours, 3600 * US_PER_S, "--hours")
    per_shard_urps = micro_rate(a.rate_per_shard, "--rate-per-shard")
    p = {
        "batch_size": a.batch_size,
        "read_max": min(READ_MAX_RECORDS, READ_MAX_BYTES // a.record_size),
        "base_us": exact_us(a.base_ms, 1000, "--base-ms"),
        "per_record_us": exact_us(a.per_record_ms, 1000, "--per-record-ms"),
        "timeout_us": exact_us(a.timeout_s, US_PER_S, "--timeout-s"),
        "retention_us": exact_us(a.retention_h, 3600 * US_PER_S, "--retention-h"),
        "backoff_initial_us": exact_us(a.backoff_initial_s, US_PER_S, "--backoff-initial-s"),
        "backoff_max_us": exact_us(a.backoff_max_s, US_PER_S, "--backoff-max-s"),
        "end_us": end_us,
        "coalesce": a.coalesce,
    }
    if a.keys > 0:
        key_bytes = len(f"{a.key_prefix}-{a.keys - 1}")
        rates = shard_rates_by_keys(per_shard_urps * a.shards, a.shards, a.keys, a.key_prefix)
    else:
        key_bytes = len(f"{a.key_prefix}-0")
        rates = [per_shard_urps] * a.shards
    # R-STREAM-3: the record limit, or fewer if the bytes limit binds first.
    cap = min(WRITE_LIMIT_RECORDS, max(1, WRITE_LIMIT_BYTES // (a.record_size + key_bytes)))
    rng = random.Random(a.seed)
    shards = [Shard(i, rates[i], cap, end_us, rng.randrange(US_PER_S))
              for i in range(a.shards)]
    auto_delay = a.read_delay_ms == "auto"
    if auto_delay and not a.phases_from_trace:
        raise SystemExit("--read-delay-ms auto needs --phases-from-trace")
    read_delay = None if auto_delay else exact_us(a.read_delay_ms, 1000, "--read-delay-ms")
    aligned = 0
    if a.phases_from_trace:
        aligned, read_delay = align_to_trace(a.phases_from_trace, shards, read_delay)
    read_rate = exact_us(a.read_mib_per_s, 1 << 20, "--read-mib-per-s")  # bytes/s
    for sh in shards:
        sh.read_delay = read_delay
        sh.record_size = a.record_size
        sh.read_rate = read_rate
        sh.credit = read_rate  # a second's worth banked at the start
    if 0 <= a.poison_shard < a.shards:
        sh = shards[a.poison_shard]
        at = exact_us(a.poison_at_s, US_PER_S, "--poison-at-s")
        idx = sh.count_by(at - 1)  # the first record arriving at or after `at`
        if idx < sh.written:
            sh.poison = idx
    setup_s = time.perf_counter() - started

    env = simpy.Environment()
    for sh in shards:
        env.process(shard_process(env, sh, p))
    sim_started = time.perf_counter()
    env.run(until=end_us + 1)  # events at the end itself still run, as in kinesim
    for sh in shards:
        sh.trim(end_us, p["retention_us"])
    sim_s = time.perf_counter() - sim_started

    def total(field: str) -> int:
        return sum(getattr(sh, field) for sh in shards)

    def counts(group) -> dict:
        written = sum(s.written for s in group)
        delivered = sum(s.delivered for s in group)
        expired = sum(s.expired for s in group)
        ok = sum(s.inv_ok for s in group)
        err = sum(s.inv_err for s in group)
        tmo = sum(s.inv_timeout for s in group)
        return {
            "records": {
                "written": written,
                "rejected": sum(s.rejected for s in group),
                "delivered": delivered,
                "expired": expired,
                "pending": written - delivered - expired,
                "deliveries": sum(s.deliveries for s in group),
                "redeliveries": sum(s.redeliveries for s in group),
                "duplicates": sum(s.duplicates for s in group),
            },
            "invocations": {"total": ok + err + tmo, "ok": ok, "errors": err,
                            "timeouts": tmo},
            "iterator_age_ms_max": max(s.age_max_us for s in group) // 1000,
            "read_throttles": sum(s.throttled_calls for s in group),
        }

    out = {
        "model": "simpy_esm",
        "python": platform.python_version(),
        "simpy": simpy.__version__,
        "params": {
            "shards": a.shards, "hours": a.hours, "rate_per_shard": a.rate_per_shard,
            "keys": a.keys or None, "batch_size": a.batch_size,
            "record_size": a.record_size, "base_ms": a.base_ms,
            "per_record_ms": a.per_record_ms, "timeout_s": a.timeout_s,
            "poison_shard": a.poison_shard, "poison_at_s": a.poison_at_s,
            "retention_h": a.retention_h, "seed": a.seed, "coalesce": a.coalesce,
            "read_delay_us": read_delay, "read_mib_per_s": a.read_mib_per_s,
            "phases_from_trace": a.phases_from_trace, "shards_aligned": aligned,
        },
        **counts(shards),
        "simpy_yields": total("yields"),
        "wall_s": {"setup": round(setup_s, 3), "simulate": round(sim_s, 3),
                   "total": round(time.perf_counter() - started, 3)},
    }
    if a.per_shard:
        out["shards"] = [{"shard": sh.number, "phase_us": sh.phase, **counts([sh])}
                         for sh in shards]
    json.dump(out, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
