"""The records the git core hands out: objects, index entries, commits, blob origins.

Slotted classes written out by hand, not dataclasses: the guard imports this on every
commit and push, and the dataclasses module alone costs it measurable start-up.
"""

from __future__ import annotations

from operator import itemgetter

# A tree entry of this mode is a submodule's commit, not a blob of this repository.
GITLINK_MODE = "160000"


class Record:
    """A slotted record with the ``repr`` and ``==`` a dataclass would have."""

    __slots__: tuple[str, ...] = ()
    __hash__ = None  # type: ignore[assignment]  # mutable records, compared by value

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"{type(self).__name__}({fields})"

    def __eq__(self, other) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in self.__slots__)


class ObjectRecord(Record):
    __slots__ = ("oid", "type", "size", "path")

    def __init__(self, oid: str, type: str | None, size: int | None, path: str | None):
        self.oid = oid
        self.type = type  # None: missing locally (partial clone), size unknown
        self.size = size
        self.path = path  # first path rev-list saw it under, cut at a newline by git


class IndexEntry(tuple):
    """(mode, oid, stage, path), as ``ls-files --stage`` prints them. A tuple, not a
    slotted record: the commit hook builds one per staged file (10,000 and more), and
    building tuples costs a third less."""

    __slots__ = ()

    def __new__(cls, mode: str, oid: str, stage: str, path: str):
        return tuple.__new__(cls, (mode, oid, stage, path))

    mode = property(itemgetter(0))
    oid = property(itemgetter(1))
    stage = property(itemgetter(2))
    path = property(itemgetter(3))


class Commit(Record):
    """One commit as every report shows it; the guard, the scan and clean-large share it."""

    __slots__ = ("oid", "author", "email", "date", "subject")

    def __init__(self, oid: str, author: str, email: str, date: str, subject: str):
        self.oid = oid
        self.author = author
        self.email = email
        self.date = date  # ISO 8601, the author date
        self.subject = subject

    @property
    def short(self) -> str:
        return self.oid[:10]

    @classmethod
    def parse(cls, raw: bytes) -> "Commit":
        """From a walk's raw header: ``oid\x1fauthor\x1femail\x1fdate\x1fsubject``."""
        fields = raw.decode("utf-8", "replace").split("\x1f")
        fields += [""] * (5 - len(fields))
        return cls(*fields[:5])

    def as_dict(self) -> dict:
        """The documented JSON form (docs/scan.md), in this key order."""
        return {"oid": self.oid, "date": self.date, "author": self.author, "email": self.email,
                "subject": self.subject}


class BlobOrigin(Record):
    __slots__ = ("commit", "paths")

    def __init__(self, commit: Commit, paths: list[str]):
        self.commit = commit
        self.paths = paths  # every path the blob was added or modified under in the walked commits
