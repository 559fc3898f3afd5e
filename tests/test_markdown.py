"""The Markdown summary: failing first with doc links, then unknown/error, then passes; capped below 1 MiB."""

from __future__ import annotations

from dataclasses import replace

from gate_support import gate_repo, rendered, scan

from devops_audit.docs import DOCS_URL
from devops_audit.engine import Verdict, Violation
from devops_audit.reporters.markdown import MAX_BYTES


def test_levels_then_failing_then_unverified_then_passing(tmp_path):
    result = scan(gate_repo(tmp_path), fail_on=["high"])
    text = rendered(result, "markdown")
    assert text.startswith("## devops-audit: ❌ gate failed\n")
    assert "| Continuous Delivery (CD) |" in text and "| CD.CI Continuous integration |" in text
    order = [text.index(h) for h in ("### Failing", "### Unknown or error", "### Passing")]
    assert order == sorted(order)
    assert f"[SR.BD.03]({DOCS_URL}#srbd03) Third-party CI steps pinned" in text
    assert "`.github/workflows/ci.yml:12` " in text
    failing = text[text.index("### Failing"):text.index("### Unknown or error")]
    severities = [line.split(" · ")[1].split(":")[0].split(" ")[0] for line in failing.splitlines()
                  if line.startswith("- ❌")]
    rank = ["critical", "high", "medium", "low", "info"]
    assert severities == sorted(severities, key=rank.index)  # worst first


def test_untrusted_text_cannot_break_the_table_or_inject_html(tmp_path):
    result = scan(gate_repo(tmp_path))
    verdict = next(v for v in result.verdicts if v.status == "fail")
    verdict.violations = [Violation("a|b.yml", 3, "<img src=x onerror=alert(1)> | cell", "x")]
    text = rendered(result, "markdown")
    assert "<img" not in text and "&lt;img src=x onerror=alert(1)&gt; \\| cell" in text


def test_huge_result_is_capped_with_an_explicit_more_line(tmp_path):
    result = scan(gate_repo(tmp_path))
    template = next(v for v in result.verdicts if v.status == "fail")
    long = "x" * 2000
    result.verdicts = [
        Verdict(replace(template.indicator, id=f"CD.VC.{n:04d}"), "fail", long,
                [Violation(f"f{i}.yml", i + 1, long, f"k{i}") for i in range(12)])
        for n in range(2000)
    ]
    text = rendered(result, "markdown")
    size = len(text.encode("utf-8"))
    assert size < MAX_BYTES < 1024 * 1024
    shown = text.count("- ❌ ")
    assert 0 < shown < 2000
    assert f"… {2000 - shown} more indicator entries not shown" in text
    assert text.rstrip().endswith("</sub>")  # the footer survives the cut
    assert "… 2 more violations" in text


def test_small_result_is_not_truncated(tmp_path):
    text = rendered(scan(gate_repo(tmp_path)), "markdown")
    assert "more indicator entries not shown" not in text
