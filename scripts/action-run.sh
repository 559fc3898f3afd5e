#!/usr/bin/env bash
# The GitHub Action's scan step (action.yml). Inputs arrive as INPUT_* environment variables, never
# interpolated into this script. Writes the reports, appends the Markdown summary to $GITHUB_STEP_SUMMARY,
# annotates the first failing findings, and sets outputs in $GITHUB_OUTPUT. A failed gate (exit 1) is
# recorded in the `exit-code` output and the step still succeeds, so the SARIF upload runs; the action's
# last step turns `exit-code` into the job result. A usage, target or internal error (exit 2, 3 or 4)
# fails at once. devops-audit runs from the action's own folder (`python -P`: the scanned repository, the
# working folder, cannot shadow a module) with the dependencies action.yml installed from the lockfile;
# DEVOPS_AUDIT names another command to run instead (an installed `devops-audit`).
# On a pull request from a fork the token cannot write security events: `upload-sarif` is then false and
# a notice says why (the reports are still written and the gate still decides).
set -o pipefail

fail() { echo "::error title=devops-audit::$1"; exit 2; }

out_dir="${INPUT_OUTPUT_DIR:-devops-audit-reports}"
case "${INPUT_UPLOAD_SARIF:-true}" in true|false) ;; *) fail "upload-sarif must be true or false";; esac
mkdir -p "$out_dir" || fail "cannot create $out_dir"
sarif="$out_dir/devops-audit.sarif"
json="$out_dir/devops-audit.json"
markdown="$out_dir/devops-audit.md"

args=(scan "${INPUT_PATH:-.}" -f terminal -f "sarif=$sarif" -f "json=$json" -f "markdown=$markdown" --color always)
[ -n "${INPUT_TARGETS:-}" ] && args+=(--target "$INPUT_TARGETS")
[ -n "${INPUT_CONFIG:-}" ] && args+=(--config "$INPUT_CONFIG")
[ -n "${INPUT_SARIF_CATEGORY:-}" ] && args+=(--sarif-category "$INPUT_SARIF_CATEGORY")

# config-ref (pull requests: the base branch): the gate's own configuration comes from that ref, fetched
# when the checkout lacks it (shallow only when the clone already is); a ref that cannot be had fails the step.
if [ -n "${INPUT_CONFIG_REF:-}" ] && [ -z "${INPUT_CONFIG:-}" ]; then
  repo="${INPUT_PATH:-.}"
  base="refs/remotes/origin/$INPUT_CONFIG_REF"
  if ! git -C "$repo" rev-parse --verify -q "$base^{commit}" >/dev/null; then
    depth=()
    [ "$(git -C "$repo" rev-parse --is-shallow-repository 2>/dev/null)" = true ] && depth=(--depth=1)
    git -C "$repo" fetch --quiet --no-tags "${depth[@]}" origin "+refs/heads/$INPUT_CONFIG_REF:$base" \
      || fail "cannot fetch '$INPUT_CONFIG_REF' to read the gate's configuration (config-ref)"
  fi
  args+=(--config-ref "$base")
fi

IFS=', ' read -ra fail_on <<< "${INPUT_FAIL_ON:-}"
for rule in "${fail_on[@]}"; do
  [ -n "$rule" ] && args+=(--fail-on "$rule")
done

IFS=', ' read -ra formats <<< "${INPUT_FORMATS:-}"
for format in "${formats[@]}"; do
  case "$format" in
    ""|terminal|sarif|json|markdown) ;;
    junit) args+=(-f "junit=$out_dir/devops-audit.junit.xml") ;;
    gitlab-codequality|gitlab-sast) args+=(-f "$format=$out_dir/devops-audit.$format.json") ;;
    *) fail "unknown format '$format' (known: sarif, json, markdown, junit, gitlab-codequality, gitlab-sast)" ;;
  esac
done

# extra-args: split on whitespace only; `read -a` neither expands globs nor evaluates anything
read -ra extra <<< "${INPUT_EXTRA_ARGS:-}"
args+=("${extra[@]}")

audit() {
  if [ -n "${DEVOPS_AUDIT:-}" ]; then
    "$DEVOPS_AUDIT" "$@"
  else
    PYTHONPATH="${ACTION_PATH:?}/src" "${PYTHON:-python}" -P -m devops_audit "$@"
  fi
}

audit "${args[@]}"
code=$?
if [ "$code" -gt 1 ]; then
  echo "::error title=devops-audit::the scan could not run (exit code $code); see the log above"
  exit "$code"
fi

if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
  cat "$markdown" >> "$GITHUB_STEP_SUMMARY"
fi

"${PYTHON:-python}" -I - "$json" "$code" "$sarif" "$markdown" "$out_dir" "${INPUT_UPLOAD_SARIF:-true}" <<'PY'
"""Outputs and annotations from the JSON report (annotations: the first 10, GitHub's per-step cap)."""
import json
import os
import sys

report_path, code, sarif, markdown, out_dir, upload = sys.argv[1:]
report = json.load(open(report_path, encoding="utf-8"))


def from_fork():
    """A pull request whose head is another repository: its token is read-only (no security-events)."""
    if os.environ.get("GITHUB_EVENT_NAME") not in ("pull_request", "pull_request_review", "pull_request_review_comment"):
        return False
    try:
        with open(os.environ.get("GITHUB_EVENT_PATH", ""), encoding="utf-8") as handle:
            pull = json.load(handle).get("pull_request") or {}
    except (OSError, ValueError):
        return False
    head, base = (pull.get("head") or {}).get("repo") or {}, (pull.get("base") or {}).get("repo") or {}
    return bool(head.get("fork")) or (head.get("full_name") or "") != (base.get("full_name") or "")


if upload == "true" and from_fork():
    upload = "false"
    print("::notice title=devops-audit::pull request from a fork: its token cannot write security events, so the "
          "SARIF report is not uploaded (it is in the reports folder and the job summary has the findings)")


def escape(text, prop=False):
    text = str(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if prop else text


levels = {area["id"]: area["level"] for area in report["areas"]}
outputs = {
    "sarif": sarif, "json": report_path, "markdown": markdown, "reports-dir": out_dir,
    "exit-code": code, "passed": "true" if report["gate"]["passed"] else "false", "upload-sarif": upload,
    "levels": json.dumps(levels, sort_keys=True),
    **{f"{area.lower()}-level": str(level) for area, level in levels.items()},
}
if os.environ.get("GITHUB_OUTPUT"):
    with open(os.environ["GITHUB_OUTPUT"], "a", encoding="utf-8") as out:
        for key, value in outputs.items():
            out.write(f"{key}={value}\n")

rank = {"critical": 0, "high": 1, "medium": 2, "low": 3, "info": 4}
failing = sorted((i for i in report["indicators"] if i["status"] == "fail" and not i["waiver"]),
                 key=lambda i: (rank[i["severity"]], i["id"]))
shown = 0
for indicator in failing:
    for violation in indicator["violations"] or [None]:
        if shown == 10:
            break
        where = violation or (indicator["locations"] or [{"path": "", "line": 1}])[0]
        message = violation["message"] if violation else indicator["message"]
        level = "error" if indicator["severity"] in ("high", "critical") else "warning"
        place = f"file={escape(where['path'], True)},line={where['line']}," if where["path"] not in ("", ".") else ""
        title = escape(f"{indicator['id']} {indicator['title']}", True)
        print(f"::{level} {place}title={title}::{escape(message)}")
        shown += 1
total = sum(max(1, len(i["violations"])) for i in failing)
if total > shown:
    print(f"::notice title=devops-audit::{total - shown} more findings: see the job summary and the SARIF report")
PY
exit 0
