"""Structure-aware fuzzing of every parser and reporter: realistic evidence files with hostile values.

Each example takes a file a collector reads in a fixture or corpus repository (see `mutation_support`),
replaces one value (YAML/JSON/XML) or splices hostile bytes into it (Jenkinsfile, CODEOWNERS, lcov, ...),
scans the copy and renders every output format. The damage must stay contained: no crash, no collector
lost as a whole, no entry without a path, clean UTF-8 and strict JSON out (whether the file is still
recognised is the containment test's business: a mutated file may stop looking like a pipeline).

    python -m pytest tests/fuzz -m fuzz                       # FUZZ_EXAMPLES examples per test (default 200)
    FUZZ_LOG=/tmp/fuzz.jsonl python -m pytest tests/fuzz -m fuzz  # keep going, log every problem found
                                                              # (and one line per example in .count)
    python tests/fuzz/test_fuzz_parsers.py -max_len=4096 -max_total_time=600   # coverage-guided (atheris)
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import traceback
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # mutation_support, also under atheris

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from mutation_support import (  # noqa: E402
    NOW,
    Target,
    check_contained,
    copy_with,
    mutated_bytes,
    replaced,
    scan_and_render,
    slots,
    structured_slots,
    targets,
)

pytestmark = pytest.mark.fuzz

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "200"))
LOG = os.environ.get("FUZZ_LOG")
NASTY_TEXT = [
    "\ud800", "a\udcffb", "1e999", "-1e999", "NaN", "Infinity", ".inf", "2099-13-01", "0000-00-00",
    "https://user:ghp_0123456789abcdefghijklmnopqrstuvwxyzAB@example.com/x.git", "${{ github.event.issue.title }}",
    "$(curl evil)", "../../../../etc/passwd", "/etc/passwd", "\x00", "\u202e", "*" * 5000, "(a+)+$",
    "a" * 100_000, "", " ", "- -", "{", "]]>", "<!ENTITY x SYSTEM 'file:///etc/passwd'>", "%", "%{x}",
]

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True), st.sampled_from(NASTY_TEXT),
    st.text(st.characters(codec=None, categories=None), max_size=40),
)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
    st.one_of(st.text(max_size=8), st.sampled_from(["if", "rules", "when", "script", "uses", "run", "steps",
                                                   "extends", "include", "stages", "template", "jobs"])),
    inner, max_size=4), max_leaves=8)


def _targets() -> list[Target]:
    return targets()


def _splice(raw: bytes, data: st.DataObject) -> bytes:
    """Hostile bytes spliced into a text file, or the file cut short."""
    at = data.draw(st.integers(0, len(raw)), label="offset")
    cut = data.draw(st.integers(0, 64), label="removed")
    piece = data.draw(st.one_of(
        st.sampled_from([t.encode("utf-8", "surrogatepass") for t in NASTY_TEXT] + [b"\xff\xfe", b"\x1f\x8b\x08"]),
        st.binary(max_size=64)), label="inserted")
    return raw[:at] + piece + raw[at + cut:]


def _run(target: Target, content: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = copy_with(target, content, Path(tmp) / "repo")
        try:
            problems = check_contained(target, root, same_others=False, expect_entry=False)
        except Exception:
            problems = ["crash: " + traceback.format_exc(limit=-3)]
    if LOG:
        with open(f"{LOG}.count", "a", encoding="utf-8") as count:
            count.write(f"{'problem' if problems else 'ok'} {target.name}\n")
    if problems and LOG:
        with open(LOG, "a", encoding="utf-8") as log:
            log.write(json.dumps({"target": target.name, "problems": problems,
                                  "content": content.decode("utf-8", "backslashreplace")[:4000]}) + "\n")
        return
    assert not problems, problems


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_one_hostile_value_in_a_realistic_file_stays_contained(data):
    target = data.draw(st.sampled_from(_targets()), label="target")
    positions = structured_slots(target)
    if positions:
        slot = data.draw(st.sampled_from(positions), label="slot")
        content = mutated_bytes(target, slot, data.draw(values, label="value"))
    else:
        content = _splice((target.root / target.path).read_bytes(), data)
    _run(target, content)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_hostile_bytes_in_any_evidence_file_stay_contained(data):
    target = data.draw(st.sampled_from(_targets()), label="target")
    _run(target, _splice((target.root / target.path).read_bytes(), data))


CONFIG = {
    "targets": {"CD": 2, "SR": 1},
    "params": {"SR.BD.02": {"token_leak_pattern": "(echo|printf)[^\\n]*\\$CI_JOB_TOKEN"}},
    "disable": ["CD.VC.04"],
    "exclude": ["docs/**"],
    "limits": {"max_file_mib": 2},
    "evidence": {"coverage": ["coverage.xml"], "junit": ["junit.xml"]},
    "history": {"window_days": 30},
    "classification": [{"tool": "acme-lint", "kinds": ["lint"], "commands": ["acme-lint\\b"]}],
    "waivers": [{"indicator": "SR.BD.03", "paths": [".github/workflows/*.yml"], "reason": "pinned upstream",
                 "owner": "platform@example.com", "expires": "2027-06-30"}],
    "fail_on": {"severity": "high"},
}


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_a_hostile_value_in_the_config_is_a_config_error_or_a_clean_scan(data):
    """Config and waivers: anything a user writes is either accepted or refused with exit 2, never a crash."""
    import yaml

    from devops_audit.errors import AuditError
    from devops_audit.scan import ScanOptions, run_scan

    slot = data.draw(st.sampled_from(slots(CONFIG)[1:]), label="slot")
    config = replaced(CONFIG, slot, data.draw(values, label="value"))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "repo"
        shutil.copytree(Path(__file__).resolve().parents[2] / "fixtures" / "example", root)
        (root / ".devops-audit.yml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8",
                                                errors="surrogatepass")
        try:
            run_scan(root, ScanOptions(now=NOW))
        except AuditError:
            return  # refused with its own message and exit code
        _, outputs = scan_and_render(root)
        assert all(text.encode("utf-8") for text in outputs.values())


if __name__ == "__main__":  # coverage-guided: atheris drives Hypothesis' byte-level input
    import atheris

    atheris.instrument_all()  # every loaded module's bytecode: the parsers were imported above
    atheris.Setup(sys.argv, test_one_hostile_value_in_a_realistic_file_stays_contained.hypothesis.fuzz_one_input)
    atheris.Fuzz()
