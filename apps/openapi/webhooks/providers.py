"""Git host payloads -> the engine's TriggerEvent. Pure: headers and decoded JSON in, facts out.

Push: branch or tag, the head commit, the pusher and the changed files (the union of the commits'
added, modified and removed files; unknown when the host truncated the commit list). Pull and merge
requests: the source branch as `ref`, the target as `base_ref`, the action in GitHub's words, and
whether the source lives in a fork. Their payloads list no files, so `paths_known` is False.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from apps.openapi.choices import Provider
from apps.process.language import TriggerEvent

ZERO_SHA = "0" * 40
GITLAB_ACTIONS = {"open": "opened", "reopen": "reopened", "close": "closed", "merge": "merged"}
GITEA_ACTIONS = {"synchronized": "synchronize", "label_updated": "labeled", "label_cleared": "unlabeled"}


@dataclass
class ParsedEvent:
    event: str  # the host's own name of the event, for the record
    trigger: TriggerEvent | None = None
    ignored: str = ""  # why nothing is started, when trigger is None
    fork: bool = False
    repository: str = ""  # clone URL of the repository holding the commit
    repository_urls: set[str] = field(default_factory=set)  # every URL naming the target repository
    paths_known: bool = True


def detect_provider(headers) -> str | None:
    """Gitea and Forgejo also send GitHub's headers, so they are recognised first."""
    if headers.get("X-Forgejo-Event") or headers.get("X-Gitea-Event"):
        return Provider.GITEA
    if headers.get("X-Gitlab-Event"):
        return Provider.GITLAB
    if headers.get("X-GitHub-Event"):
        return Provider.GITHUB
    return None


def delivery_id(provider: str, headers) -> str:
    names = {
        Provider.GITHUB: ("X-GitHub-Delivery",),
        Provider.GITLAB: ("Idempotency-Key", "X-Gitlab-Event-UUID"),
        Provider.GITEA: ("X-Forgejo-Delivery", "X-Gitea-Delivery", "X-GitHub-Delivery"),
    }[provider]
    return next((headers[name] for name in names if headers.get(name)), "")[:100]


def event_name(provider: str, headers) -> str:
    if provider == Provider.GITEA:
        return headers.get("X-Forgejo-Event") or headers.get("X-Gitea-Event") or ""
    if provider == Provider.GITLAB:
        return headers.get("X-Gitlab-Event", "")
    return headers.get("X-GitHub-Event", "")


def parse(provider: str, headers, payload: dict) -> ParsedEvent:
    name = event_name(provider, headers)
    if not isinstance(payload, dict):
        return ParsedEvent(event=name, ignored="ignored: the body is not a JSON object")
    parser = PARSERS[provider]
    return parser(name, payload)


def _text(value) -> str:
    return value if isinstance(value, str) else ""


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def _changed_files(commits, complete: bool) -> tuple[tuple, bool]:
    if not isinstance(commits, list) or not commits or not complete:
        return (), False
    files: dict[str, None] = {}
    for commit in commits:
        for key in ("added", "modified", "removed"):
            for path in _dict(commit).get(key) or []:
                if isinstance(path, str):
                    files[path] = None
    return tuple(files), True


def _push(
    name: str, *, ref: str, sha: str, actor: str, commits, complete: bool, repo: dict, urls
) -> ParsedEvent:
    if not ref.startswith(("refs/heads/", "refs/tags/")):
        return ParsedEvent(event=name, ignored=f"ignored: ref '{ref}' is neither a branch nor a tag")
    if not sha or sha == ZERO_SHA:
        return ParsedEvent(event=name, ignored=f"ignored: '{ref}' was deleted")
    is_tag = ref.startswith("refs/tags/")
    files, known = ((), True) if is_tag else _changed_files(commits, complete)
    trigger = TriggerEvent(
        event="tag" if is_tag else "push", ref=ref, sha=sha, actor=actor, changed_files=files
    )
    clone = _text(repo.get("clone_url")) or _text(repo.get("git_http_url"))
    return ParsedEvent(event=name, trigger=trigger, repository=clone, repository_urls=urls, paths_known=known)


def _urls(*repos: dict) -> set[str]:
    keys = ("clone_url", "git_http_url", "git_ssh_url", "ssh_url", "html_url", "web_url", "url", "homepage")
    return {_text(repo.get(key)) for repo in repos for key in keys if _text(repo.get(key))}


def _pull_request(
    name: str,
    *,
    action: str,
    source: str,
    target: str,
    sha: str,
    actor: str,
    fork: bool,
    head_repo: dict,
    base_urls: set[str],
) -> ParsedEvent:
    if not source or not target:
        return ParsedEvent(event=name, ignored="ignored: the pull request names no branches")
    trigger = TriggerEvent(
        event="pull_request",
        ref=f"refs/heads/{source}",
        base_ref=f"refs/heads/{target}",
        sha=sha,
        actor=actor,
        action=action,
    )
    clone = _text(head_repo.get("clone_url")) or _text(head_repo.get("git_http_url"))
    return ParsedEvent(
        event=name, trigger=trigger, fork=fork, repository=clone, repository_urls=base_urls, paths_known=False
    )


def _ignored(name: str) -> ParsedEvent:
    if name.lower() in ("ping", "system hook"):
        return ParsedEvent(event=name, ignored="ignored: ping (the webhook is set up)")
    return ParsedEvent(event=name, ignored=f"ignored: event '{name}' starts no builds")


def parse_github(name: str, payload: dict) -> ParsedEvent:
    repo = _dict(payload.get("repository"))
    actor = _text(_dict(payload.get("sender")).get("login")) or _text(
        _dict(payload.get("pusher")).get("name")
    )
    if name == "push":
        after = "" if payload.get("deleted") else _text(payload.get("after"))
        return _push(
            name,
            ref=_text(payload.get("ref")),
            sha=after,
            actor=actor,
            commits=payload.get("commits"),
            complete=True,
            repo=repo,
            urls=_urls(repo),
        )
    if name == "pull_request":
        pull = _dict(payload.get("pull_request"))
        head, base = _dict(pull.get("head")), _dict(pull.get("base"))
        head_repo, base_repo = _dict(head.get("repo")), _dict(base.get("repo"))
        fork = not head_repo or head_repo.get("full_name") != base_repo.get("full_name")
        return _pull_request(
            name,
            action=_text(payload.get("action")),
            source=_text(head.get("ref")),
            target=_text(base.get("ref")),
            sha=_text(head.get("sha")),
            actor=actor,
            fork=fork,
            head_repo=head_repo,
            base_urls=_urls(base_repo, repo),
        )
    return _ignored(name)


def parse_gitlab(name: str, payload: dict) -> ParsedEvent:
    kind = payload.get("object_kind")
    project = _dict(payload.get("project")) or _dict(payload.get("repository"))
    if kind in ("push", "tag_push"):
        commits = payload.get("commits")
        total = payload.get("total_commits_count")
        complete = isinstance(commits, list) and (not isinstance(total, int) or total <= len(commits))
        sha = _text(payload.get("checkout_sha")) or _text(payload.get("after"))
        if _text(payload.get("after")) == ZERO_SHA:
            sha = ""
        return _push(
            name,
            ref=_text(payload.get("ref")),
            sha=sha,
            actor=_text(payload.get("user_username")),
            commits=commits,
            complete=complete,
            repo=project,
            urls=_urls(project),
        )
    if kind == "merge_request":
        attrs = _dict(payload.get("object_attributes"))
        action = _text(attrs.get("action"))
        if action == "update":
            action = "synchronize" if attrs.get("oldrev") else "edited"
        source, target = _dict(attrs.get("source")), _dict(attrs.get("target"))
        fork = attrs.get("source_project_id") != attrs.get("target_project_id")
        return _pull_request(
            name,
            action=GITLAB_ACTIONS.get(action, action),
            source=_text(attrs.get("source_branch")),
            target=_text(attrs.get("target_branch")),
            sha=_text(_dict(attrs.get("last_commit")).get("id")),
            actor=_text(_dict(payload.get("user")).get("username")),
            fork=fork,
            head_repo=source,
            base_urls=_urls(target, project),
        )
    return _ignored(name)


def parse_gitea(name: str, payload: dict) -> ParsedEvent:
    repo = _dict(payload.get("repository"))
    sender = _dict(payload.get("sender"))
    pusher = _dict(payload.get("pusher"))
    actor = _text(sender.get("login")) or _text(pusher.get("login")) or _text(pusher.get("username"))
    if name == "push":
        return _push(
            name,
            ref=_text(payload.get("ref")),
            sha=_text(payload.get("after")),
            actor=actor,
            commits=payload.get("commits"),
            complete=True,
            repo=repo,
            urls=_urls(repo),
        )
    if name == "pull_request":
        pull = _dict(payload.get("pull_request"))
        head, base = _dict(pull.get("head")), _dict(pull.get("base"))
        head_repo, base_repo = _dict(head.get("repo")), _dict(base.get("repo"))
        fork = head.get("repo_id") != base.get("repo_id") or head_repo.get("full_name") != base_repo.get(
            "full_name"
        )
        action = _text(payload.get("action"))
        return _pull_request(
            name,
            action=GITEA_ACTIONS.get(action, action),
            source=_text(head.get("ref")),
            target=_text(base.get("ref")),
            sha=_text(head.get("sha")),
            actor=actor,
            fork=fork,
            head_repo=head_repo,
            base_urls=_urls(base_repo, repo),
        )
    return _ignored(name)


PARSERS = {Provider.GITHUB: parse_github, Provider.GITLAB: parse_gitlab, Provider.GITEA: parse_gitea}
