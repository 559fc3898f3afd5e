"""The HTML fleet report renders in a real headless Chromium: table and charts carry the right numbers."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import FIXTURES, make_git_repo

from devops_audit.cli import main
from devops_audit.fleet.clone import CloneSettings
from devops_audit.fleet.run import FleetOptions, run_fleet
from devops_audit.fleet.sources import read_repo_list
from devops_audit.scan import ScanOptions

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture
def page():
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is absent (apt-get install chromium)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page()
        requests: list[str] = []
        page.on("request", lambda request: requests.append(request.url))
        page.requests = requests
        yield page
        browser.close()


@pytest.fixture
def report_html(tmp_path: Path) -> Path:
    names = ["gitlab-full", "azure-full", "jenkins-declarative"]
    repos = [make_git_repo(FIXTURES / "pipelines" / n, tmp_path / n) for n in names]
    hostile = tmp_path / "<img_src=x_onerror=alert(1)>"
    shutil.copytree(FIXTURES / "coverage" / "js-fail", hostile)
    listing = tmp_path / "repos.txt"
    listing.write_text("\n".join(str(r) for r in [*repos, hostile]) + f"\nfile://{tmp_path}/gone\n", encoding="utf-8")
    options = FleetOptions(jobs=1, clone=CloneSettings(cache_dir=str(tmp_path / "cache")),
                           store=str(tmp_path / "fleet.db"), attempts=1, progress=False)
    run_fleet(read_repo_list(listing), ScanOptions(), options)
    run_fleet(read_repo_list(listing), ScanOptions(), options)
    for fmt in ("json", "html"):
        assert main(["fleet", "report", "--store", str(tmp_path / "fleet.db"), "-f", fmt,
                     "-o", str(tmp_path / f"report.{fmt}")]) == 0
    return tmp_path / "report.html"


def test_html_report_renders_table_and_charts_offline(page, report_html):
    import json

    data = json.loads(report_html.with_suffix(".json").read_text(encoding="utf-8"))
    page.goto(report_html.as_uri())
    rows = page.locator("#fleet-table tbody tr")
    assert rows.count() == 5
    hostile = [r for r in data["repositories"] if "<img" in r["repository"]][0]
    cell = page.locator("#fleet-table tbody tr", has_text="<img_src=x_onerror=alert(1)>")
    assert cell.count() == 1  # shown as text, never as markup
    assert page.locator("#fleet-table img").count() == 0
    assert cell.locator("td[data-col=gate]").inner_text() == ("pass" if hostile["gate"] else "fail")
    failed = page.locator("#fleet-table tbody tr", has_text="/gone")
    assert "failed" in failed.inner_text() and "does not appear to be a git repository" in failed.inner_text()

    for area, levels in data["distribution"].items():
        for level, count in levels.items():
            bar = page.locator(f'#chart-levels rect[data-area="{area}"][data-level="{level}"]')
            assert bar.get_attribute("data-count") == str(count)
            assert (float(bar.get_attribute("height")) > 0) == (count > 0)
    failing = page.locator("#chart-failing rect.bar")
    assert failing.count() == len(data["top_failing"]) > 0
    first = data["top_failing"][0]
    assert failing.first.get_attribute("data-indicator") == first["id"]
    assert failing.first.get_attribute("data-count") == str(first["count"])

    gates = page.locator('#chart-progress circle[data-series="gates"]')
    assert gates.count() == 2
    assert [gates.nth(i).get_attribute("data-value") for i in range(2)] == \
        [str(h["gate_passed"]) for h in data["history"]]
    assert page.locator("#runs-table tbody tr").count() == 2
    assert page.locator("[data-card=cached] b").inner_text() == "3"  # second run: 3 git repositories cached
    assert all(url.startswith("file://") for url in page.requests)  # nothing fetched from the network


def test_html_table_filters_and_sorts(page, report_html):
    page.goto(report_html.as_uri())
    page.fill("#filter", "azure")
    assert page.locator("#fleet-table tbody tr").count() == 1
    page.fill("#filter", "")
    page.click('#fleet-table th[data-key="status"]')
    statuses = page.locator("#fleet-table tbody tr td:nth-child(2)").all_inner_texts()
    assert statuses == sorted(statuses)
