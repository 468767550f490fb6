"""What each forge refuses and recommends: the one table the guard and the scan read.

Figures are the forges' own (sources in docs/guard.md, "Limits by forge"). A forge is
picked from the host of a remote's URL, or named with ``git config labhooks.forge NAME``
for a self-hosted instance; an unknown host gets GitHub's rules, the strictest of the
general-purpose forges and what the guard has always applied.

Sizes are bytes, read the way the forge reports them: GitHub's "100.00 MB" refusal is
104,857,600 bytes (see labhooks.sizes), so its GB and MB are powers of 1024 here too.
``None``: the forge has no such rule (or none we could confirm).
"""

from __future__ import annotations

MiB = 1024**2
GiB = 1024**3


class Forge:
    __slots__ = ("key", "name", "file_limit", "file_warning", "push_limit", "repo_recommended",
                 "repo_limit", "lfs_only", "hosts", "source")

    def __init__(self, key: str, name: str, *, file_limit: int, file_warning: int | None,
                 push_limit: int | None, repo_recommended: int | None, repo_limit: int | None,
                 lfs_only: bool, hosts: tuple[str, ...], source: str):
        self.key = key  # what `git config labhooks.forge` takes
        self.name = name  # what reports print
        self.file_limit = file_limit  # a file of this size or more (not stored through LFS) is refused
        self.file_warning = file_warning  # the forge warns from this size
        self.push_limit = push_limit  # one push (its pack) of this size or more fails
        self.repo_recommended = repo_recommended  # stay under this
        self.repo_limit = repo_limit  # strongly recommended, or enforced, ceiling
        self.lfs_only = lfs_only  # big files must go through LFS (or Xet): advice is LFS, not unstage
        self.hosts = hosts
        self.source = source  # where the forge documents these figures

    def __repr__(self) -> str:
        return f"Forge({self.key!r})"


FORGES = {
    forge.key: forge
    for forge in (
        # "ideally less than 1 GB, and less than 5 GB is strongly recommended"
        Forge("github", "GitHub", file_limit=100 * MiB, file_warning=50 * MiB, push_limit=2 * GiB,
              repo_recommended=1 * GiB, repo_limit=5 * GiB, lfs_only=False, hosts=("github.com",),
              source="docs.github.com: About large files on GitHub; Repository limits"),
        Forge("gitlab", "GitLab.com", file_limit=100 * MiB, file_warning=None, push_limit=5 * GiB,
              repo_recommended=None, repo_limit=10 * GiB, lfs_only=False, hosts=("gitlab.com",),
              source="gitlab-org/gitlab#428188 (Free tier file limit); GitLab.com maximum push size"),
        Forge("huggingface", "Hugging Face Hub", file_limit=10 * MiB, file_warning=None, push_limit=None,
              repo_recommended=None, repo_limit=None, lfs_only=True, hosts=("huggingface.co", "hf.co"),
              source="the Hub's refusal: files larger than 10 MiB must use Git LFS (or Xet)"),
        # Atlassian writes "100 MB", "3.5 GB", "2.0 GB" and "4.0 GB" without saying which
        # unit: the decimal reading is the smaller, so nothing Bitbucket may refuse passes
        Forge("bitbucket", "Bitbucket Cloud", file_limit=100 * 1000**2, file_warning=None,
              push_limit=3500 * 1000**2, repo_recommended=2 * 1000**3, repo_limit=4 * 1000**3,
              lfs_only=False, hosts=("bitbucket.org",),
              source="community.atlassian.com: 100 MB limit on files included in pushes; "
                     "bitbucket.org/blog: Git push size limits; support.atlassian.com: Reduce repository size"),
    )
}
GITHUB = FORGES["github"]
DEFAULT = GITHUB
# the git config keys choose() reads: git config --get-regexp takes this
SETTINGS_PATTERN = r"^(labhooks\.forge|remote\..*\.(url|pushurl))$"


def host_of(url: str) -> str:
    """The host a remote URL names: ``https://user@host:port/path``, ``user@host:path``
    (scp-like), ``ssh://host/path``; '' for a local path."""
    if "://" in url:
        rest = url.split("://", 1)[1]
        authority = rest.split("/", 1)[0]
    elif ":" in url.split("/", 1)[0]:
        authority = url.split(":", 1)[0]  # scp-like syntax
    else:
        return ""
    host = authority.rsplit("@", 1)[-1]
    if host.startswith("["):
        return host[1:].split("]", 1)[0].lower()
    return host.split(":", 1)[0].lower()


def forge_for_host(host: str) -> Forge | None:
    host = host.rstrip(".").lower()
    for forge in FORGES.values():
        if any(host == h or host.endswith("." + h) for h in forge.hosts):
            return forge
    return None


def forge_named(name: str) -> Forge | None:
    return FORGES.get(name.strip().lower().replace(" ", "").replace("-", ""))


def names() -> str:
    return ", ".join(FORGES)


class ForgeChoice:
    __slots__ = ("forge", "why")

    def __init__(self, forge: Forge, why: str):
        self.forge = forge
        self.why = why  # what made us pick it, for the report: "remote origin is github.com"


def choose(settings: dict[str, str], remote: str | None = None, url: str | None = None) -> ForgeChoice:
    """The forge whose rules apply, from ``git config`` values (``settings``: lower-cased
    keys, as ``git config --get-regexp`` prints them).

    ``labhooks.forge`` wins. A push is judged by the remote it goes to (its push URL, the
    URL git handed the hook, its fetch URL: the first whose host we know, so a remote
    whose pushes are redirected to a mirror still counts as the forge it names). Without
    a push (commit mode, ``--all``) the strictest forge among all remotes applies: what
    is committed here may be pushed to any of them.
    """
    named = settings.get("labhooks.forge")
    if named is not None:
        forge = forge_named(named)
        if forge is None:
            from labhooks.errors import LabhooksError

            raise LabhooksError(f"git config labhooks.forge: unknown forge {named!r} (known: {names()})", 2)
        return ForgeChoice(forge, "git config labhooks.forge")
    if remote is not None or url is not None:
        candidates = [url, remote] if remote is None else [
            settings.get(f"remote.{remote}.pushurl"), url, settings.get(f"remote.{remote}.url"),
            remote]
        for candidate in candidates:
            host = host_of(candidate) if candidate else ""
            forge = forge_for_host(host) if host else None
            if forge is not None:
                return ForgeChoice(forge, f"{'remote ' + remote if remote else 'the push URL'} is {host}")
        return ForgeChoice(DEFAULT, f"{'remote ' + remote if remote else 'the push URL'} is no forge labhooks "
                           f"knows; GitHub's rules by default (git config labhooks.forge NAME: {names()})")
    best = None
    for key, value in settings.items():
        if key.startswith("remote.") and key.endswith((".url", ".pushurl")):
            host = host_of(value)
            forge = forge_for_host(host) if host else None
            if forge is not None and (best is None or forge.file_limit < best[0].file_limit):
                best = (forge, key[len("remote."):key.rindex(".")], host)
    if best is None:
        return ForgeChoice(DEFAULT, "no remote on a forge labhooks knows")
    return ForgeChoice(best[0], f"remote {best[1]} is {best[2]}")
