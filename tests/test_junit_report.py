"""JUnit XML: one testcase per indicator, read back with junitparser as CI test tabs would."""

from __future__ import annotations

from gate_support import gate_repo, rendered, scan
from junitparser import Error, Failure, JUnitXml, Skipped


def _cases(xml_text: str, tmp_path) -> dict[str, object]:
    path = tmp_path / "junit.xml"
    path.write_text(xml_text, encoding="utf-8")
    return {case.name.split(" ", 1)[0]: case for suite in JUnitXml.fromfile(str(path)) for case in suite}


def test_one_testcase_per_indicator_with_status_mapping(tmp_path):
    result = scan(gate_repo(tmp_path))
    cases = _cases(rendered(result, "junit"), tmp_path)
    assert set(cases) == {v.indicator.id for v in result.verdicts}
    expected = {"fail": Failure, "error": Error, "not_applicable": Skipped, "unknown": Skipped}
    for verdict in result.verdicts:
        case = cases[verdict.indicator.id]
        assert case.classname == f"{verdict.indicator.area}.{verdict.indicator.domain}"
        kinds = [type(r) for r in case.result]
        if verdict.status == "pass":
            assert kinds == []
        else:
            assert kinds == [expected[verdict.status]], verdict.indicator.id
    unknown = next(v for v in result.verdicts if v.status == "unknown")
    assert cases[unknown.indicator.id].result[0].message.startswith("unknown: ")


def test_failure_lists_each_violation_with_its_location(tmp_path):
    result = scan(gate_repo(tmp_path))
    failure = _cases(rendered(result, "junit"), tmp_path)["SR.BD.03"].result[0]
    assert failure.type == "high"
    assert failure.text.splitlines()[0].startswith(".github/workflows/ci.yml:12: ")
    assert len(failure.text.splitlines()) == 3


def test_suite_totals_add_up(tmp_path):
    result = scan(gate_repo(tmp_path))
    path = tmp_path / "j.xml"
    path.write_text(rendered(result, "junit"))
    xml = JUnitXml.fromfile(str(path))
    counts = result.counts()
    assert xml.tests == len(result.verdicts)
    assert xml.failures == counts["fail"] and xml.errors == counts["error"]
    assert xml.skipped == counts["unknown"] + counts["not_applicable"]
