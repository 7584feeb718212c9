"""Benchmark: "may user U do level L in area A", computed cold from the stored grants.

Run by hand (not collected by pytest):

    .venv/bin/python -m tests.benchmarks.bench_permissions [--checks N] [--seed S]

Builds, in memory, 100 organisations x 100 users, each organisation with 5 custom roles whose
grants are drawn at random over every area of ``portal.permissions.model.Area``. Each user has
a tier, 1-3 of their organisation's roles and a few per-user overrides. The timed loop calls
``level_in(area, tier, role_grants, overrides) >= level`` for every sampled (user, area, level)
triple, with no cache of any kind. Every sampled check is then verified against
``effective_levels(...)[area]``. Exit status: 0 target met, 2 target missed, 1 any
disagreement.
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import sys
import time
from dataclasses import dataclass

from portal.permissions.model import AREA_MAX_LEVEL, Area, Grants, Level, OverrideKind, Tier
from portal.permissions.resolve import Override, effective_levels, level_in
from tests.benchmarks import support

ORGANISATIONS = 100
USERS_PER_ORGANISATION = 100
ROLES_PER_ORGANISATION = 5
ISSUE_AREAS = 20
TARGET_PER_SECOND = 100_000
CASBIN_PER_SECOND = 12  # pycasbin domain RBAC enforce on this model, as quoted in the issue
MIN_TIMED_SECONDS = 2.0
TIMED_PASSES = 3

AREAS: tuple[Area, ...] = tuple(Area)
TIER_WEIGHTS = {Tier.ADMIN: 1, Tier.MANAGER: 3, Tier.USER: 6}


@dataclass(frozen=True, slots=True)
class BenchUser:
    organisation: int
    tier: Tier
    role_grants: tuple[Grants, ...]
    overrides: tuple[Override, ...]


# One check as the timed loop consumes it: area, tier, role grants, overrides, required level.
Check = tuple[Area, Tier, tuple[Grants, ...], tuple[Override, ...], Level]
# A sampled question: (user index, area, required level).
Triple = tuple[int, Area, Level]


def random_grants(rng: random.Random) -> dict[Area, Level]:
    """A role's stored grants: a random subset of the areas, each at a level the area knows."""
    areas = rng.sample(AREAS, rng.randint(1, len(AREAS)))
    return {area: Level(rng.randint(Level.NONE, AREA_MAX_LEVEL[area])) for area in areas}


def random_overrides(rng: random.Random) -> tuple[Override, ...]:
    """0-3 per-user overrides, unique per (area, kind) as the database enforces."""
    overrides: dict[tuple[Area, OverrideKind], Override] = {}
    for _ in range(rng.randint(0, 3)):
        area = rng.choice(AREAS)
        kind = rng.choice(tuple(OverrideKind))
        top = AREA_MAX_LEVEL[area]
        if kind is OverrideKind.GRANT:
            level = Level(rng.randint(Level.READ, top))
        else:
            level = Level(rng.randint(Level.NONE, top - 1))
        overrides[(area, kind)] = Override(area, kind, level)
    return tuple(overrides.values())


def build_users(rng: random.Random) -> list[BenchUser]:
    tiers = list(TIER_WEIGHTS)
    weights = list(TIER_WEIGHTS.values())
    users: list[BenchUser] = []
    for organisation in range(ORGANISATIONS):
        roles = [random_grants(rng) for _ in range(ROLES_PER_ORGANISATION)]
        for _ in range(USERS_PER_ORGANISATION):
            held = rng.sample(roles, rng.randint(1, 3))
            users.append(
                BenchUser(
                    organisation=organisation,
                    tier=rng.choices(tiers, weights)[0],
                    role_grants=tuple(held),
                    overrides=random_overrides(rng),
                )
            )
    return users


def sample_checks(rng: random.Random, users: list[BenchUser], count: int) -> list[Triple]:
    """Random (user index, area, required level) triples; levels up to each area's top."""
    triples: list[Triple] = []
    for _ in range(count):
        area = rng.choice(AREAS)
        level = Level(rng.randint(Level.READ, AREA_MAX_LEVEL[area]))
        triples.append((rng.randrange(len(users)), area, level))
    return triples


def decode(users: list[BenchUser], triples: list[Triple]) -> list[Check]:
    """The stored grants each check reads, looked up before timing starts."""
    checks: list[Check] = []
    for index, area, level in triples:
        user = users[index]
        checks.append((area, user.tier, user.role_grants, user.overrides, level))
    return checks


def timed_pass(checks: list[Check]) -> tuple[float, int]:
    """Run every check once; returns (seconds, how many were allowed)."""
    allowed = 0
    started = time.perf_counter()
    for area, tier, role_grants, overrides, level in checks:
        if level_in(area, tier, role_grants, overrides) >= level:
            allowed += 1
    return time.perf_counter() - started, allowed


def empty_pass(checks: list[Check]) -> float:
    """The same loop without the call: the harness's own share of the time."""
    allowed = 0
    started = time.perf_counter()
    for _area, _tier, _role_grants, _overrides, level in checks:
        if level >= level:
            allowed += 1
    return time.perf_counter() - started


def verify(users: list[BenchUser], triples: list[Triple], checks: list[Check]) -> int:
    """Every sampled check against effective_levels; returns the number of disagreements."""
    expected = [effective_levels(u.tier, u.role_grants, u.overrides) for u in users]
    mismatches = 0
    for (index, area, level), check in zip(triples, checks, strict=True):
        got = level_in(check[0], check[1], check[2], check[3])
        want = expected[index][area]
        if check[0] is not area or check[4] is not level or got != want:
            mismatches += 1
            if mismatches <= 5:
                print(f"  MISMATCH user {index} {area} {level!r}: level_in={got!r}, want {want!r}")
    # And every area of every user, not only the sampled ones.
    for user, levels in zip(users, expected, strict=True):
        for area in AREAS:
            if level_in(area, user.tier, user.role_grants, user.overrides) != levels[area]:
                mismatches += 1
    return mismatches


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--checks", type=int, default=1_000_000, help="checks per timed pass")
    parser.add_argument("--seed", type=int, default=20240611)
    args = parser.parse_args(argv)

    rng = random.Random(args.seed)
    print("Permission resolution benchmark (cold: level_in from stored grants, no cache)")
    print(
        f"  python {sys.version.split()[0]}; areas: the model has {len(AREAS)} areas "
        f"(the issue says {ISSUE_AREAS}; every real area is used)"
    )
    started = time.perf_counter()
    users = build_users(rng)
    triples = sample_checks(rng, users, args.checks)
    checks = decode(users, triples)
    grants = sum(len(g) for u in users for g in u.role_grants)
    overrides = sum(len(u.overrides) for u in users)
    print(
        f"  built {ORGANISATIONS} organisations x {USERS_PER_ORGANISATION} users "
        f"x {ROLES_PER_ORGANISATION} roles ({len(users):,} users holding {grants:,} area grants "
        f"through their roles, {overrides:,} overrides) and {len(checks):,} random checks "
        f"in {time.perf_counter() - started:.1f} s (seed {args.seed})"
    )

    # Enough passes for at least MIN_TIMED_SECONDS of timed work, and at least TIMED_PASSES.
    timed_pass(checks[:10_000])  # warm-up
    gc.collect()
    rates: list[float] = []
    total_seconds = 0.0
    allowed = 0
    while len(rates) < TIMED_PASSES or total_seconds < MIN_TIMED_SECONDS:
        seconds, allowed = timed_pass(checks)
        total_seconds += seconds
        rates.append(len(checks) / seconds)
        print(f"  pass {len(rates)}: {len(checks):,} checks in {seconds:.3f} s")
    harness = empty_pass(checks)
    rate = statistics.median(rates)
    print(f"  allowed {allowed:,} of {len(checks):,} checks ({allowed / len(checks):.0%})")
    print(
        f"  loop harness alone: {harness:.3f} s per pass "
        f"(included in the figure below, so the figure is conservative)"
    )

    mismatches = verify(users, triples, checks)
    if mismatches:
        print(f"FAILED: level_in disagrees with effective_levels on {mismatches} checks")
        return 1
    print(
        f"  verified: level_in == effective_levels(...)[area] on all {len(checks):,} "
        f"sampled checks and all {len(users) * len(AREAS):,} (user, area) pairs"
    )

    print()
    print(f"permission checks (cold, from stored grants): {rate:,.0f} per second")
    print(
        f"target: >= {TARGET_PER_SECOND:,} per second -> "
        f"{'MET' if rate >= TARGET_PER_SECOND else 'NOT MET'} ({rate / TARGET_PER_SECOND:.1f}x); "
        f"for comparison the issue quotes pycasbin domain RBAC enforce at "
        f"~{CASBIN_PER_SECOND} per second on this model"
    )
    print(f"re-run: {support.rerun_command('bench_permissions', args)}")
    return 0 if rate >= TARGET_PER_SECOND else 2


if __name__ == "__main__":
    sys.exit(main())
