"""The artefacts that are tables: each reads the scan's facts and returns (body HTML, source files) or says
why it has nothing to show. They only format what the collectors found."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from devops_audit.assess.page import esc, table

__all__ = ["Table", "TABLES"]

_SECURITY_KINDS = ("sast", "sca", "secret-scan", "iac-scan", "sbom", "provenance", "signing")
_EVERY_CHANGE = ("push", "pull_request")
_HISTORY_HINT = ("no git history: scan a clone with its history (CI: `actions/checkout` with `fetch-depth: 0`, "
                 "GitLab `GIT_DEPTH: 0`)")


@dataclass
class Table:
    body: str = ""
    sources: list[str] = field(default_factory=list)
    reason: str = ""  # set when there is nothing to show

    @property
    def available(self) -> bool:
        return not self.reason


def _codes(values: list[Any]) -> str:
    return ", ".join(f"<code>{esc(v)}</code>" for v in values) or "—"


def _loc(location: dict[str, Any] | None) -> str:
    return f"{location['path']}:{location['line']}" if location else ""


def configuration_items(facts: dict[str, Any]) -> Table:
    files, ci = facts.get("files"), facts.get("ci") or {}
    if not files:
        return Table(reason="the repository's files could not be read")
    pipelines = sorted({p for pl in ci.get("pipelines", []) for p in pl.get("files", [pl["path"]])})
    rows = [
        ("源代码 Source files", f"{files.get('count', 0)} tracked files; README: {_codes([files.get('readme')] if files.get('readme') else [])}; .gitignore: {'yes' if files.get('gitignore') else 'no'}"),
        ("构建脚本 Build files", _codes(files.get("build_files", []))),
        ("依赖清单与锁文件 Manifests and lockfiles", "<br>".join(
            f"{esc(e['name'])}: {_codes(e.get('manifests', []))} → {_codes(e.get('lockfiles', []))}"
            for e in files.get("ecosystems", [])) or "—"),
        ("流水线 CI definitions", _codes(pipelines)),
        ("部署描述 Deployment descriptors", _codes(files.get("deploy_descriptors", []))),
        ("容器与基础设施 Dockerfiles and IaC", _codes(files.get("dockerfiles", []) + files.get("iac", []))),
        ("数据库变更脚本 Database migrations", _codes(files.get("migrations", []))),
        ("环境配置 Environment configuration", _codes(files.get("env_configs", []))),
        ("代码规范 Linter configuration", _codes(files.get("linter_configs", []))),
        ("依赖更新 Dependency updates", _codes([d["path"] for d in files.get("dependency_updates", [])])),
        ("测试 Tests", f"{files.get('test_files', 0)} test files, e.g. {_codes(files.get('test_sample', []))}"),
        ("构建产物 Committed build outputs", _codes(files.get("committed_artifacts", [])) if files.get(
            "committed_artifacts") else "none"),
    ]
    body = table(["配置项 Configuration item", "版本控制中的文件 Files under version control"], rows, raw=True)
    return Table(body, sorted({*files.get("build_files", []), *pipelines, *files.get("deploy_descriptors", [])}))


def pipelines(facts: dict[str, Any]) -> Table:
    ci = facts.get("ci")
    if not ci or not ci.get("pipelines"):
        return Table(reason="no CI configuration found (GitHub Actions, GitLab CI, Jenkinsfile, Azure Pipelines, "
                            "CircleCI, Bitbucket): commit the pipeline definition")
    parts = []
    for system in sorted({p["system"] for p in ci["pipelines"]}):
        parts.append(f"<h2>{esc(system)}</h2>")
        for pipeline in (p for p in ci["pipelines"] if p["system"] == system):
            jobs = [j for j in ci.get("jobs", []) if j.get("pipeline") == pipeline["path"]]
            triggers = "; ".join(f"{t['kind']} ({t['raw']}{': ' + ', '.join(t['branches']) if t['branches'] else ''})"
                                 f" {_loc(t['location'])}" for t in pipeline.get("triggers", []))
            every = [j["id"] for j in jobs if set(j.get("triggers", [])) & set(_EVERY_CHANGE)]
            parts.append(f"<h3><code>{esc(pipeline['path'])}</code> {esc(pipeline['name'])}</h3>"
                         f"<p>触发 Triggers: {esc(triggers) or '—'}<br>每次变更运行 Runs on every change: "
                         f"{_codes(every)}<br>复用 Reuse: {_codes(pipeline.get('reuse', []))}</p>")
            rows = [(j["id"], j.get("stage", ""), ", ".join(j.get("kinds", [])), ", ".join(j.get("tools", [])),
                     ", ".join(j.get("needs", []) or j.get("upstream", [])), j.get("image", ""),
                     "" if j.get("timeout_minutes") is None else j["timeout_minutes"],
                     _gate(j), _loc(j.get("location"))) for j in jobs]
            parts.append(table(["作业 Job", "阶段 Stage", "做什么 Does", "工具 Tools", "依赖 Needs", "镜像 Image",
                                "超时 Timeout (min)", "门禁 Gate", "位置 Location"], rows))
    sources = sorted({f for p in ci["pipelines"] for f in p.get("files", [p["path"]])})
    return Table("".join(parts), sources)


def _gate(job: dict[str, Any]) -> str:
    notes = []
    if job.get("environment"):
        notes.append(f"environment {job['environment']}")
    if job.get("manual"):
        notes.append("manual approval")
    if job.get("continue_on_error"):
        notes.append("failures ignored (continue-on-error / allow_failure)")
    return "; ".join(notes)


def tests(facts: dict[str, Any]) -> Table:
    files, junit, cov, ci = facts.get("files") or {}, facts.get("tests"), facts.get("coverage"), facts.get("ci") or {}
    test_jobs = [j for j in ci.get("jobs", []) if "test" in j.get("kinds", [])]
    if not (files.get("test_files") or junit or test_jobs):
        return Table(reason="no tests found: no test files, no CI job running a test runner, no JUnit report")
    parts = [f"<p>测试文件 Test files: {files.get('test_files', 0)}; e.g. {_codes(files.get('test_sample', []))}</p>",
             "<h2>流水线中的测试 Tests in the pipelines</h2>",
             table(["作业 Job", "流水线 Pipeline", "工具 Tools", "位置 Location"],
                   [(j["id"], j.get("pipeline", ""), ", ".join(j.get("tools", [])), _loc(j.get("location")))
                    for j in test_jobs]) if test_jobs else "<p>—</p>",
             "<h2>测试报告 Test reports (JUnit)</h2>"]
    sources = [j["pipeline"] for j in test_jobs if j.get("pipeline")]
    if junit:
        parts.append(table(["报告 Report", "用例 Tests", "失败 Failures", "错误 Errors", "跳过 Skipped", "耗时 Time (s)"],
                           [(r["path"], r["tests"], r["failures"], r["errors"], r["skipped"], r["time"])
                            for r in junit.get("reports", [])]))
        parts.append(table(["失败用例 Failing test", "位置 Location"],
                           [(f.get("name", f), _loc(f.get("location"))) if isinstance(f, dict) else (f, "")
                            for f in junit.get("failing", [])[:20]]) if junit.get("failing") else "")
        sources += [r["path"] for r in junit.get("reports", [])]
    else:
        parts.append("<p>未找到 JUnit 报告 No JUnit report found. Tried: "
                     f"{_codes((facts.get('tests') or {}).get('tried', [])[:6])} — pass <code>--evidence junit=PATH</code>.</p>")
    parts.append("<h2>覆盖率 Coverage</h2>")
    if cov and cov.get("reports"):
        parts.append(table(["报告 Report", "格式 Format", "行覆盖率 Line", "分支覆盖率 Branch", "文件 Files"],
                           [(r["path"], r["format"], _pct(r.get("line_rate")), _pct(r.get("branch_rate")),
                             r.get("file_count")) for r in cov["reports"]]))
        sources += [r["path"] for r in cov["reports"]]
    else:
        parts.append("<p>未找到覆盖率报告 No coverage report found — pass <code>--evidence coverage=PATH</code>.</p>")
    thresholds = (cov or {}).get("thresholds", [])
    if thresholds:
        parts.append(table(["阈值 Threshold", "来源 Source", "强制 Enforced", "位置 Location"],
                           [(f"{t['metric']} ≥ {t['value']}", t["source"], t["enforced"], _loc(t.get("location")))
                            for t in thresholds]))
    return Table("".join(parts), sorted(set(sources)))


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def quality(facts: dict[str, Any]) -> Table:
    files, ci, cov = facts.get("files") or {}, facts.get("ci") or {}, facts.get("coverage") or {}
    checks = [j for j in ci.get("jobs", []) if {"lint", "sast"} & set(j.get("kinds", []))]
    if not (files.get("linter_configs") or checks):
        return Table(reason="no code-quality rules (linter configuration) and no lint or static-analysis job found")
    rows = [(j["id"], j.get("pipeline", ""), ", ".join(j.get("kinds", [])), ", ".join(j.get("tools", [])),
             ", ".join(j.get("triggers", [])), "no" if j.get("continue_on_error") else "yes", _loc(j.get("location")))
            for j in checks]
    body = (f"<p>代码规范配置 Quality rules: {_codes(files.get('linter_configs', []))}; pre-commit: "
            f"{_codes([files['precommit']] if isinstance(files.get('precommit'), str) else [])}</p>"
            "<h2>自动化检查 Automated checks</h2>"
            + table(["作业 Job", "流水线 Pipeline", "检查 Checks", "工具 Tools", "触发 Runs on", "阻断 Blocks on failure",
                     "位置 Location"], rows)
            + "<h2>质量门禁 Quality gates</h2>"
            + table(["门禁 Gate", "位置 Location"],
                    [(f"coverage {t['metric']} ≥ {t['value']} ({t['source']})", _loc(t.get("location")))
                     for t in cov.get("thresholds", []) if t.get("enforced")]))
    return Table(body, sorted({*(j["pipeline"] for j in checks if j.get("pipeline")),
                               *(c.split("[")[0] for c in files.get("linter_configs", []))}))


def security(facts: dict[str, Any]) -> Table:
    ci, files, sec = facts.get("ci") or {}, facts.get("files") or {}, facts.get("security") or {}
    steps = [s for s in ci.get("steps", []) if set(s.get("kinds", [])) & set(_SECURITY_KINDS)]
    if not (steps or sec.get("has_results") or sec.get("policy")):
        return Table(reason="no security tool in the pipelines, no scan result and no SECURITY.md found")
    rows = [(", ".join(k for k in s["kinds"] if k in _SECURITY_KINDS), ", ".join(s.get("tools", [])),
             s.get("job", ""), s.get("pipeline", ""), _loc(s.get("location"))) for s in steps]
    policy = sec.get("policy") or {}
    body = ("<h2>流水线中的安全工具 Security tools in the pipelines</h2>"
            + table(["类别 Kind", "工具 Tools", "作业 Job", "流水线 Pipeline", "位置 Location"], rows)
            + f"<p>依赖自动更新 Dependency updates: {_codes([d['path'] for d in files.get('dependency_updates', [])])}"
            f"<br>安全策略 Security policy: {_codes([policy['path']] if policy.get('path') else [])}"
            f"<br>扫描结果 Scan results: {len(sec.get('reports', []))} report(s), {sec.get('total', 0)} finding(s); "
            f"open by severity: {esc(sec.get('open_by_severity', {}))}</p>")
    sources = sorted({*(s["pipeline"] for s in steps if s.get("pipeline")), *([policy["path"]] if policy.get("path") else [])})
    return Table(body, sources)


def scan_results(facts: dict[str, Any]) -> Table:
    sec = facts.get("security") or {}
    if not sec.get("has_results"):
        return Table(reason="no scan result file (SARIF, bandit, semgrep, gitleaks, pip-audit, npm audit, trivy, "
                            "osv-scanner) found: keep the scanners' reports and pass `--evidence sarif=PATH`, or "
                            "run `--run-scanners`")
    reports = sec.get("reports", [])
    rows = [(r.get("path"), r.get("tool", ""), r.get("format", ""), r.get("findings", r.get("count", "")))
            for r in reports]
    top = [(f.get("severity"), f.get("rule", f.get("id", "")), f.get("tool", ""),
            f"{f.get('path', '')}:{f.get('line', '')}", f.get("message", "")[:160]) for f in sec.get("top_findings", [])]
    body = (table(["报告 Report", "工具 Tool", "格式 Format", "发现 Findings"], rows)
            + f"<p>未抑制问题 Open by severity: {esc(sec.get('open_by_severity', {}))}; suppressed: {sec.get('suppressed', 0)}</p>"
            + table(["级别 Severity", "规则 Rule", "工具 Tool", "位置 Location", "说明 Message"], top))
    return Table(body, sorted({r.get("path") for r in reports if r.get("path")}))


def changes(facts: dict[str, Any]) -> Table:
    history = facts.get("history")
    if not history:
        return Table(reason=_HISTORY_HINT)
    protection, owners = facts.get("protection") or {}, facts.get("codeowners") or {}
    rows = [("默认分支 Default branch", f"{history.get('default_branch')} ({history.get('branch_source')})"),
            ("窗口 Window", f"{history['window_start']} … {history['window_end']} ({history['window_days']} days)"),
            ("提交 Commits / merges / authors", f"{history['commit_count']} / {history['merge_count']} / {history['author_count']}"),
            ("经合并请求 Via pull/merge request", _share(history.get("pr_share"))),
            ("关联需求或缺陷 Referencing an issue", _share(history.get("issue_ref_share"))),
            ("签名提交 Signed commits", _share(history.get("signed_share"))),
            ("分支保护 Branch protection", "; ".join(
                f"{r.get('source')}: PR required={r.get('requires_pull_request')}, approvals={r.get('required_approvals')}, "
                f"checks={', '.join(r.get('required_status_checks') or [])}" for r in protection.get("default_branch_rules", []))
             or "no protection evidence in the repository (export rulesets or pass a token)"),
            ("代码责任人 CODEOWNERS", f"{owners.get('path')} covers {_share(owners.get('coverage'))} of files"
             if owners.get("exists") else "none")]
    sample = [(c["sha"][:10], c["time"], c.get("pr") or "", c["subject"], c.get("files"))
              for c in (history.get("timeline") or [])[:30]]
    without = [(c["sha"][:10], c["date"], c["subject"]) for c in history.get("commits_without_issue_ref", [])]
    body = (table(["项 Item", "值 Value"], rows)
            + "<h2>最近合入主干的变更 Latest changes on the default branch</h2>"
            + table(["提交 Commit", "时间 Landed", "PR/MR", "说明 Subject", "文件 Files"], sample)
            + "<h2>未关联需求的提交（样例）Commits without an issue reference (sample)</h2>"
            + table(["提交 Commit", "时间 Date", "说明 Subject"], without))
    sources = [history["ref"], *(r.get("source") for r in protection.get("default_branch_rules", []) if r.get("source")),
               *([owners["path"]] if owners.get("exists") else [])]
    return Table(body, sources)


def _share(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


def releases(facts: dict[str, Any]) -> Table:
    history = facts.get("history")
    if not history:
        return Table(reason=_HISTORY_HINT)
    rows = [(t["name"], t.get("version") or "—", t.get("date") or "", (t.get("commit") or "")[:10],
             "yes" if t.get("release") else "no") for t in history.get("tags", [])]
    median = history.get("median_release_interval_days")
    body = (f"<p>标签 Tags: {history['tag_count']} ({history['semver_tags']} semantic versions); releases in the window: "
            f"{history['release_count']}; median interval: {'—' if median is None else f'{median} days'}</p>"
            + table(["标签 Tag", "版本 Version", "日期 Date", "提交 Commit", "正式发布 Release"], rows))
    return Table(body, [history["ref"], "refs/tags"])


def delivery_metrics(facts: dict[str, Any]) -> Table:
    history = facts.get("history")
    if not history or not history.get("dora"):
        return Table(reason=_HISTORY_HINT)
    dora = history["dora"]
    names = {"deployment_frequency": "部署频率 Deployment frequency", "lead_time_for_changes": "变更前置时间 Lead time",
             "change_failure_rate": "变更失败率 Change failure rate", "time_to_restore": "恢复时间 Time to restore"}
    rows = [(label, "—" if dora[key]["value"] is None else f"{dora[key]['value']} {dora[key]['unit']}",
             dora[key].get("bucket") or "—", dora[key].get("samples"), dora[key].get("basis"))
            for key, label in names.items() if key in dora]
    body = (table(["指标 Metric", "值 Value", "DORA 档位 Bucket", "样本 Samples", "计算方式 How it is computed"], rows)
            + f"<p class='note'>{esc(dora.get('note', ''))}; {esc(dora.get('buckets', ''))}</p>")
    return Table(body, [history["ref"], "refs/tags"])


TABLES = {
    "configuration-items": configuration_items, "pipelines": pipelines, "tests": tests, "quality": quality,
    "security": security, "scan-results": scan_results, "changes": changes, "releases": releases,
    "delivery-metrics": delivery_metrics,
}
