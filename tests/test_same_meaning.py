"""One pipeline written for six CI systems gives the same verdicts (fixtures/same-meaning/README.md).

Where a system cannot express something in its file, the difference is asserted and explained here, so
it is a documented limit rather than a silent one.
"""

from __future__ import annotations

import pytest
from helpers import FIXTURES, scan_dict, verdicts

SYSTEMS = ("github", "gitlab", "jenkins", "azure", "circleci", "bitbucket")

GOOD = {indicator: "pass" for indicator in (
    "CD.BP.01", "CD.BP.02", "CD.BP.04", "CD.CI.01", "CD.CI.04", "CD.CM.03", "CD.TM.01", "CD.TM.06",
    "CD.DR.01", "CD.DR.02", "CD.DR.03", "SR.TC.01")}
BAD = {**{indicator: "fail" for indicator in GOOD}, "CD.BP.01": "pass", "CD.DR.01": "pass", "CD.TM.06": "pass",
       "CD.TM.01": "fail"}

EXCEPTIONS = {
    # Bitbucket schedules are configured in the repository settings; the file cannot say "nightly"
    ("bitbucket", "good", "CD.BP.02"): "fail",
    # CircleCI has no per-job timeout (only `no_output_timeout` per step): jobs cannot declare one
    ("circleci", "good", "CD.CI.04"): "fail",
    # a Jenkinsfile cannot limit which branches or changes a multibranch job builds: every change builds
    ("jenkins", "bad", "CD.CI.01"): "pass",
}


def expected(system: str, variant: str) -> dict[str, str]:
    base = GOOD if variant == "good" else BAD
    return {i: EXCEPTIONS.get((system, variant, i), status) for i, status in base.items()}


@pytest.mark.parametrize("variant", ["good", "bad"])
@pytest.mark.parametrize("system", SYSTEMS)
def test_same_pipeline_same_verdicts(system, variant):
    report = scan_dict(FIXTURES / "same-meaning" / f"{system}-{variant}")
    assert not [e for e in report["inventory"] if e["status"] == "error"]
    found = verdicts(report)
    assert {i: found[i]["status"] for i in GOOD} == expected(system, variant)


@pytest.mark.parametrize("system", SYSTEMS)
def test_the_broken_deploy_is_located_in_each_system(system):
    found = verdicts(scan_dict(FIXTURES / "same-meaning" / f"{system}-bad"))
    (violation,) = found["CD.DR.02"]["violations"]
    assert "deploy" in violation["message"] and violation["line"] > 1
    assert violation["path"] in {".github/workflows/ci.yml", ".gitlab-ci.yml", "Jenkinsfile", "azure-pipelines.yml",
                                 ".circleci/config.yml", "bitbucket-pipelines.yml"}
