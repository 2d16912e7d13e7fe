"""The dynamic-group guardrail's CPU cost: projecting the users in scope through the job's mappings and
evaluating every dynamic group's rule once per user (50 rules x 10k users by default).

    .venv/bin/python bench/dynamic_groups_bench.py
    .venv/bin/python bench/dynamic_groups_bench.py --rules 50 --users 100000

Prints the figure, its target and PASS/MISS; exits 1 on a miss."""

from __future__ import annotations

import argparse
import random
import sys
import time
from typing import Any

from ctsync.planning.dynamic_groups import find_collisions, projection_of

DEPARTMENTS = ["Finance", "Sales", "Engineering", "Legal", "HR", "Support"]
CITIES = ["Seattle", "Paris", "Berlin", "Tokyo"]
TARGET_SECONDS = 5.0  # per 50 rules x 10k users: small beside the audit's Graph reads of the same users
RULE_SHAPES = [
    'user.department -eq "{d}"',
    '(user.department -eq "{d}") -and (user.userType -ne "Guest")',
    '(user.department -eq "{d}") -and (user.companyName -eq "Fabrikam")',
    'user.jobTitle -startsWith "Senior" -and user.city -in ["{c}", "Paris"]',
    'user.displayName -match "^Person 0*{n}" -or -not (user.accountEnabled -eq true)',
    'user.extensionAttribute3 -contains "{d}" -or user.otherMails -any (_ -endsWith "@{c}.example")',
]


def schema() -> dict[str, Any]:
    def mapping(target: str, expression: str) -> dict[str, Any]:
        return {"targetAttributeName": target, "source": {"expression": expression}, "defaultValue": None}

    plain = ["accountEnabled", "city", "companyName", "department", "displayName", "jobTitle", "otherMails"]
    mappings = [mapping(name, f"[{name}]") for name in plain]
    mappings += [mapping("extensionAttribute3", "[extensionAttribute3]"), mapping("userType", '"Member"')]
    rule = {"objectMappings": [{"sourceObjectName": "User", "targetObjectName": "User", "attributeMappings": mappings}]}
    return {"synchronizationRules": [rule]}


def users(count: int, rng: random.Random) -> dict[str, dict[str, Any]]:
    return {
        f"u{i}": {
            "id": f"u{i}",
            "displayName": f"Person {i:06d}",
            "department": rng.choice(DEPARTMENTS),
            "companyName": "Contoso",
            "city": rng.choice(CITIES),
            "jobTitle": rng.choice(["Senior Analyst", "Analyst", "Manager"]),
            "accountEnabled": rng.random() > 0.05,
            "otherMails": [f"p{i}@{rng.choice(CITIES).lower()}.example"],
            "onPremisesExtensionAttributes": {"extensionAttribute3": rng.choice(DEPARTMENTS)},
        }
        for i in range(count)
    }


def groups(count: int, rng: random.Random) -> list[dict[str, Any]]:
    return [
        {
            "id": f"g{i}",
            "displayName": f"Group {i}",
            "membershipRule": RULE_SHAPES[i % len(RULE_SHAPES)].format(
                d=rng.choice(DEPARTMENTS), c=rng.choice(CITIES), n=rng.randrange(10)
            ),
            "membershipRuleProcessingState": "On",
        }
        for i in range(count)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", type=int, default=50)
    parser.add_argument("--users", type=int, default=10_000)
    args = parser.parse_args()
    rng = random.Random(12)
    in_scope, dynamic = users(args.users, rng), groups(args.rules, rng)
    started = time.process_time()
    found = find_collisions(dynamic, in_scope, projection_of(schema()))
    seconds = time.process_time() - started
    target = TARGET_SECONDS * (args.rules * args.users) / (50 * 10_000)
    per_eval = seconds / max(found.evaluations, 1) * 1e6
    verdict = "PASS" if seconds <= target else "MISS"
    print(
        f"dynamic groups: {args.rules} rules x {args.users} users, {found.evaluations} evaluations, "
        f"{len(found.matches)} groups matched: {seconds:.2f} s CPU ({per_eval:.2f} us per evaluation), "
        f"target <= {target:g} s {verdict}"
    )
    sys.exit(0 if verdict == "PASS" else 1)


if __name__ == "__main__":
    main()
