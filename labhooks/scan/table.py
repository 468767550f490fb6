from __future__ import annotations

from array import array
from itertools import repeat
from typing import Iterable

from labhooks.git.records import Commit
from labhooks.scan.records import _UNKNOWN


class BlobTable:
    """Every distinct blob the walk met, in columns; row i is the i-th blob first seen."""

    def __init__(self) -> None:
        self.index: dict[bytes, int] = {}
        self.sizes = array("q")
        self.path_ids = array("l")
        self.commit_ids = array("l")
        self.path_index: dict[bytes, int] = {}  # path -> id, ids counting up from 0
        self._paths: list[bytes] = []
        self.headers: list[bytes] = []  # raw commit headers, see Commit
        self.extra_paths: dict[int, list[int]] = {}
        self.at_head = bytearray()
        self._oids: list[bytes] = []  # by row, kept as rows are added

    def __len__(self) -> int:
        return len(self.sizes)

    def add_commit(self, header: bytes, oids: list[bytes], paths: list[bytes]) -> None:
        """One commit of the walk, newest first: a blob met again in an older commit was
        introduced there (or earlier), under the path it had there."""
        index = self.index
        rows = len(index)
        commit_id = len(self.headers)
        self.headers.append(header)
        fresh: list[bytes] = []
        new_oids = self._oids
        for oid, path in zip(oids, paths):
            row = index.setdefault(oid, rows)
            if row == rows:
                rows += 1
                fresh.append(path)
                new_oids.append(oid)
            else:
                if fresh:  # the rows it may refer to must exist first
                    self._append(fresh, commit_id)
                    fresh = []
                self._seen_again(row, path, commit_id)
        if fresh:
            self._append(fresh, commit_id)

    def _append(self, paths: list[bytes], commit_id: int) -> None:
        intern, known = self.path_index.setdefault, self.path_index
        self.path_ids.extend([intern(path, len(known)) for path in paths])
        self.sizes.extend(repeat(_UNKNOWN, len(paths)))
        self.commit_ids.extend(repeat(commit_id, len(paths)))

    def _path_id(self, path: bytes) -> int:
        return self.path_index.setdefault(path, len(self.path_index))

    def _seen_again(self, row: int, path: bytes, commit_id: int) -> None:
        path_id = self._path_id(path)
        first_id = self.path_ids[row]
        if self.commit_ids[row] == commit_id:
            # The same commit adds it under a second path: the first one stays first.
            if path_id != first_id:
                extra = self.extra_paths.setdefault(row, [])
                if path_id not in extra:
                    extra.append(path_id)
            return
        self.commit_ids[row] = commit_id
        if path_id == first_id:
            return
        extra = self.extra_paths.setdefault(row, [])
        if path_id in extra:
            extra.remove(path_id)
        extra.insert(0, first_id)
        self.path_ids[row] = path_id

    @property
    def paths(self) -> list[bytes]:
        """Every distinct path, by id (dict order is id order)."""
        if len(self._paths) != len(self.path_index):
            self._paths = list(self.path_index)
        return self._paths

    def add_without_commit(self, oid: bytes, path: bytes, size: int | None) -> None:
        self.index[oid] = len(self.sizes)
        self._oids.append(oid)
        self.sizes.append(_UNKNOWN if size is None else size)
        self.path_ids.append(self._path_id(path))
        self.commit_ids.append(-1)

    def fill_sizes(self, blocks: Iterable[list[bytes]]) -> None:
        """Sizes from the store listing's words (``oid, size, oid, size, ...``)."""
        get, sizes = self.index.get, self.sizes
        for words in blocks:
            # Only blob ids are in the index, so trees and commits simply miss.
            for row, size in zip(map(get, words[0::2]), words[1::2]):
                if row is not None:
                    sizes[row] = int(size)

    def mark_head(self, head_blobs: Iterable[bytes]) -> None:
        self.at_head = bytearray(len(self.sizes))
        for oid in head_blobs:
            row = self.index.get(oid)
            if row is not None:
                self.at_head[row] = 1

    # -- reading rows back -------------------------------------------------------------

    def oids(self) -> list[bytes]:
        """Every blob id, by row."""
        return self._oids

    def oid_bytes(self, row: int) -> bytes:
        return self.oids()[row]

    def oid_of(self, row: int) -> str:
        return self.oid_bytes(row).decode()

    def paths_of(self, row: int) -> list[str]:
        ids = [self.path_ids[row], *self.extra_paths.get(row, ())]
        return [self.paths[i].decode("utf-8", "surrogateescape") for i in ids]

    def commit_of(self, row: int) -> Commit | None:
        if self.commit_ids[row] < 0:
            return None
        return Commit.parse(self.headers[self.commit_ids[row]])

    def size_of(self, row: int) -> int | None:
        size = self.sizes[row]
        return None if size == _UNKNOWN else size
