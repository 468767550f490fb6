"""The material libraries a ``configs/data/*.yaml`` builds: each has a ``name`` (its
artifacts folder), the ``tasks`` (property columns) the ranker learns, and ``load()``."""

from __future__ import annotations

from pathlib import Path

from .artifacts import StepError
from .structures import Material


class PrototypeLibrary:
    """Textbook prototypes x element substitutions (``prototypes.py``): no data needed."""

    def __init__(self, name: str = "prototypes", tasks: list[str] | None = None, per_prototype: int | None = None,
                 prototypes: list[str] | None = None):
        self.name = name
        self.tasks = list(tasks or [])
        self.per_prototype = per_prototype
        self.prototypes = list(prototypes) if prototypes else None

    def load(self) -> list[Material]:
        from .prototypes import prototype_library

        try:
            return prototype_library(self.per_prototype, self.prototypes)
        except ValueError as exc:
            raise StepError(str(exc)) from None


class FileLibrary:
    """``*.cif`` / pymatgen ``*.json`` structures in a folder, with an optional CSV of
    properties (one row per file stem)."""

    def __init__(self, structures_dir: str, name: str = "files", properties: str | None = None, id_column: str = "id",
                 tasks: list[str] | None = None, split: str | None = None, split_column: str = "split",
                 limit: int | None = None):
        self.name = name
        self.structures_dir = Path(structures_dir)
        self.properties = Path(properties) if properties else None
        self.id_column = id_column
        self.tasks = list(tasks or [])
        self.split = split
        self.split_column = split_column
        self.limit = limit

    def load(self) -> list[Material]:
        from .structures import load_directory

        try:
            return load_directory(self.structures_dir, self.properties, id_column=self.id_column, tasks=self.tasks,
                                  split=self.split, split_column=self.split_column, limit=self.limit)
        except (FileNotFoundError, ValueError) as exc:
            raise StepError(str(exc)) from None


class MaterialsProjectLibrary:
    """Straight from the Materials Project (``mp-api``, ``MP_API_KEY`` and the network)."""

    def __init__(self, name: str = "materials_project", tasks: list[str] | None = None,
                 chemsys: list[str] | None = None, material_ids: list[str] | None = None, limit: int | None = None):
        self.name = name
        self.tasks = list(tasks or [])
        self.chemsys = list(chemsys) if chemsys else None
        self.material_ids = list(material_ids) if material_ids else None
        self.limit = limit

    def load(self) -> list[Material]:
        from .structures import load_materials_project

        try:
            return load_materials_project(material_ids=self.material_ids, chemsys=self.chemsys,
                                          fields=tuple(self.tasks), limit=self.limit)
        except RuntimeError as exc:
            raise StepError(str(exc)) from None
