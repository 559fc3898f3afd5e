"""`pre-commit run [hook]` (and `prek run`): the hooks of `.pre-commit-config.yaml`, each read as a command
made of its id, its repository and its `entry`, so `gitleaks`, `bandit` or `ruff` hooks are recognised."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from devops_audit.collectors.ci.follow.model import Call, Definitions, Target, options_and_words
from devops_audit.yamlsafe import line_of, load_documents

NAME = "pre-commit"
FILES = (".pre-commit-config.yaml", ".pre-commit-config.yml")
_WITH_VALUE = frozenset({"-c", "--config", "--hook-stage", "--from-ref", "--to-ref", "--files", "--source",
                         "--origin", "-s", "-o"})


def match(argv: tuple[str, ...]) -> Call | None:
    if argv[0] not in ("pre-commit", "prek") or len(argv) < 2 or argv[1] != "run":
        return None
    options, words = options_and_words(argv[2:], _WITH_VALUE)
    file = options.get("-c") or options.get("--config")
    return Call(NAME, (file,) if file else FILES, tuple(words[:1]))


@lru_cache(maxsize=8)
def config(text: str) -> Any:
    """The loaded configuration, once per text (pre-commit.ci and `pre-commit run` both read it)."""
    documents = load_documents(text)
    return documents[0] if documents else None


@lru_cache(maxsize=8)
def parse(text: str, path: str) -> Definitions:
    config_ = config(text)
    repos = config_.get("repos") if isinstance(config_, dict) else None
    targets: dict[str, Target] = {}
    for repo in repos if isinstance(repos, list) else ():
        hooks = repo.get("hooks") if isinstance(repo, dict) else None
        for index, hook in enumerate(hooks if isinstance(hooks, list) else ()):
            if not isinstance(hook, dict) or not hook.get("id"):
                continue
            hook_id = str(hook["id"])
            line = line_of(hooks, index)
            words = [hook_id, str(repo.get("repo") or ""), str(hook.get("entry") or "")]
            target = targets.setdefault(hook_id, Target(hook_id, line))
            target.commands.append((" ".join(w for w in words if w), line))
    return Definitions(targets, tuple(targets))
