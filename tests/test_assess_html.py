"""The pack's index.html and artefacts open from disk in a real headless Chromium, with no network."""

from __future__ import annotations

import pytest
from test_assess import assess, build_service
from test_fleet_html import page  # noqa: F401  (the Chromium fixture; skips cleanly without Chromium)

pytest.importorskip("matplotlib")


@pytest.fixture
def pack(tmp_path):
    out = tmp_path / "pack"
    return out, assess(build_service(tmp_path / "repo"), out)


def test_index_shows_every_item_with_its_status_and_links_its_artefacts(page, pack):  # noqa: F811
    out, manifest = pack
    page.goto((out / "index.html").as_uri())
    for status, count in manifest["summary"]["by_status"].items():
        assert page.locator(f'tr[data-status="{status}"]').count() == count
        assert page.locator(f'b[data-count="{status}"]').inner_text() == str(count)
    sub = next(s for s in manifest["sub_items"] if s["sub_item"]["zh"] == "分支管理")
    section = page.locator('section[data-sub-item="分支管理"]')
    assert section.get_attribute("data-level") == str(sub["level_reached"])
    assert "Branch management" in section.inner_text()
    row = page.locator('tr[id="CM-VC-BM-L2-2"]')
    assert row.get_attribute("data-status") == "verified"
    row.locator("a.artefact", has_text="branch-graph.svg").click()
    page.wait_for_load_state()
    assert page.url.endswith("/artefacts/branch-graph.svg")
    assert "12 merged branches" in page.locator("svg").inner_html()
    page.goto((out / "artefacts" / "pipelines.html").as_uri())
    assert page.locator("h1").inner_text().startswith("流水线结构")
    assert ".github/workflows/" in page.locator("p.note").first.inner_text()
    assert all(url.startswith("file://") for url in page.requests), page.requests
