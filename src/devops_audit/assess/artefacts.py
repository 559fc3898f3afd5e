"""Write every artefact the map names into `DIR/artefacts/`: the tables as HTML pages, the charts as SVG."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from devops_audit.assess.decide import ArtefactState
from devops_audit.assess.mapping import AssessmentMap
from devops_audit.assess.page import bi, page, source_note

__all__ = ["build_artefacts", "ARTEFACT_DIR"]

ARTEFACT_DIR = "artefacts"


def build_artefacts(amap: AssessmentMap, facts: dict[str, Any], commit: str | None, out: Path,
                    lang: str) -> dict[str, ArtefactState]:
    from devops_audit.assess.charts import CHARTS
    from devops_audit.assess.tables import TABLES

    folder = out / ARTEFACT_DIR
    folder.mkdir(parents=True, exist_ok=True)
    history = facts.get("history")
    history_sources = [history["ref"]] if history else []
    states: dict[str, ArtefactState] = {}
    for spec in amap.artefacts.values():
        state = ArtefactState(spec.id, True)
        if spec.id in TABLES:
            found = TABLES[spec.id](facts)
            if found.available:
                title = f"{spec.title.zh} {spec.title.en}"
                body = (f"<h1>{bi(spec.title, lang)}</h1>{source_note(found.sources, commit)}{found.body}"
                        '<p class="note"><a href="../index.html">← index.html</a></p>')
                (folder / spec.file).write_text(page(title, body, lang), encoding="utf-8")
                state.files.append(f"{ARTEFACT_DIR}/{spec.file}")
                state.sources = found.sources
            else:
                state.available, state.reason = False, found.reason
        for file, draw in CHARTS.get(spec.id, []):
            reason = draw(history, folder / file, commit)
            if reason:
                state.available, state.reason = False, state.reason or reason
            else:
                state.files.append(f"{ARTEFACT_DIR}/{file}")
                state.sources = sorted({*state.sources, *history_sources})
        states[spec.id] = state
    return states
