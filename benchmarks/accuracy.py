"""Agreement between devops-audit and hand-checked verdicts on real repositories (`tests/realworld/`).

    python benchmarks/accuracy.py [--json] [CASE ...]

Each case under `tests/realworld/<name>/` holds the repository's CI and config files as they were at the
recorded commit (`files/`), the list of every other tracked path (`paths.txt`, recreated as empty files so
that "tests exist" or "a Dockerfile exists" see the real tree without copying its code), `origin.yaml`
(repository, commit) and `expected.yaml` (indicator -> expected verdict with a one-line reason). The case is
rebuilt as a one-commit git repository in a temporary folder and scanned offline; the agreement is the
share of labelled verdicts the scan reproduces. Every disagreement is printed with the label's reason.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "tests" / "realworld"
_GIT_ENV = {"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_AUTHOR_NAME": "accuracy",
            "GIT_AUTHOR_EMAIL": "accuracy@example.invalid", "GIT_COMMITTER_NAME": "accuracy",
            "GIT_COMMITTER_EMAIL": "accuracy@example.invalid", "GIT_AUTHOR_DATE": "2026-11-01T00:00:00Z",
            "GIT_COMMITTER_DATE": "2026-11-01T00:00:00Z"}


@dataclass(frozen=True)
class Label:
    case: str
    indicator: str
    expected: str
    reason: str


@dataclass(frozen=True)
class Outcome:
    label: Label
    actual: str
    message: str

    @property
    def agrees(self) -> bool:
        return self.actual == self.label.expected


def case_names() -> list[str]:
    return sorted(p.parent.name for p in CASES.glob("*/expected.yaml"))


def labels(case: str) -> list[Label]:
    data = yaml.safe_load((CASES / case / "expected.yaml").read_text(encoding="utf-8"))
    return [Label(case, ind, entry["verdict"], entry["reason"]) for ind, entry in data["verdicts"].items()]


def materialise(case: str, into: Path) -> Path:
    """The case as a one-commit git repository: real CI/config files, every other path as an empty file."""
    repo = into / case
    shutil.copytree(CASES / case / "files", repo, dirs_exist_ok=True)
    for line in (CASES / case / "paths.txt").read_text(encoding="utf-8").splitlines():
        if line and not (repo / line).exists():
            (repo / line).parent.mkdir(parents=True, exist_ok=True)
            (repo / line).touch()
    env = {**os.environ, **_GIT_ENV}
    for command in (["init", "-q", "-b", "main"], ["add", "-A", "--force"], ["commit", "-q", "--no-verify", "-m", "snapshot"]):
        subprocess.run(["git", "-c", "core.hooksPath=/dev/null", *command], cwd=repo, env=env, check=True)
    return repo


def scan(repo: Path) -> dict[str, dict]:
    """Verdicts by indicator id from an offline JSON scan of the repository."""
    env = {k: v for k, v in os.environ.items() if k not in ("GITHUB_TOKEN", "GITLAB_TOKEN", "GH_TOKEN")}
    proc = subprocess.run([sys.executable, "-m", "devops_audit", "scan", str(repo), "--offline", "--format", "json"],
                          capture_output=True, text=True, env=env)
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"scan of {repo.name} exited {proc.returncode}: {proc.stderr.strip()[-500:]}")
    report = json.loads(proc.stdout)
    return {v["id"]: v for v in report["indicators"]}


def evaluate(cases: list[str]) -> list[Outcome]:
    outcomes = []
    with tempfile.TemporaryDirectory(prefix="devops-audit-accuracy-") as tmp:
        for case in cases:
            verdicts = scan(materialise(case, Path(tmp)))
            for label in labels(case):
                got = verdicts.get(label.indicator, {})
                outcomes.append(Outcome(label, got.get("status", "missing"), got.get("message", "")))
    return outcomes


def agreement(outcomes: list[Outcome]) -> float:
    return sum(o.agrees for o in outcomes) / len(outcomes) if outcomes else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("cases", nargs="*")
    parser.add_argument("--json", action="store_true", help="print the outcomes as JSON")
    args = parser.parse_args()
    outcomes = evaluate(args.cases or case_names())
    if args.json:
        print(json.dumps([{"case": o.label.case, "indicator": o.label.indicator, "expected": o.label.expected,
                           "actual": o.actual, "reason": o.label.reason} for o in outcomes], indent=2))
        return
    for case in dict.fromkeys(o.label.case for o in outcomes):
        mine = [o for o in outcomes if o.label.case == case]
        print(f"{case:32} {sum(o.agrees for o in mine):3}/{len(mine):<3} {agreement(mine):6.1%}")
    print(f"{'overall':32} {sum(o.agrees for o in outcomes):3}/{len(outcomes):<3} {agreement(outcomes):6.1%}")
    wrong = [o for o in outcomes if not o.agrees]
    if wrong:
        print("\nDisagreements (expected -> actual: label's reason | tool's message):")
    for o in wrong:
        print(f"  {o.label.case} {o.label.indicator}: {o.label.expected} -> {o.actual}: {o.label.reason}"
              f" | {o.message[:160]}")


if __name__ == "__main__":
    main()
