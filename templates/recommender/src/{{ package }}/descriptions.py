"""Words for structures: Robocrystallographer descriptions (offline, cached on disk by
structure hash) and composition-only sentences for the composition-vs-structure ablation."""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import warnings
from pathlib import Path

from .structures import structure_hash

# robocrys formats some Miller indices with numpy 2 scalar reprs ("np.int64(0)")
_NUMPY_REPR = re.compile(r"np\.(?:int|float)\d+\((-?[0-9.eE+-]+)\)")


def offline_robocrys() -> None:
    """Switch off robocrys' PubChem lookup for molecule names.

    ``StructureCondenser`` builds ``MoleculeNamer()`` itself with the online lookup on
    and offers no argument to change it, so the condenser module's reference is pointed
    at a subclass that never goes online. Names then come only from robocrys' shipped
    molecule table. Idempotent.
    """
    from robocrys.condense import condenser
    from robocrys.condense.molecule import MoleculeNamer

    if getattr(condenser.MoleculeNamer, "offline", False):
        return

    class OfflineMoleculeNamer(MoleculeNamer):
        offline = True
        # robocrys reloads its gzipped molecule table for every structure (seconds each);
        # the table is read-only, so one copy serves every namer
        _shared_db = None

        def __init__(self, use_online_pubchem: bool = False, name_preference=MoleculeNamer.name_sources):
            cls = type(self)
            if cls._shared_db is None:
                super().__init__(use_online_pubchem=False, name_preference=name_preference)
                cls._shared_db = self.molecule_db
                return
            self.molecule_db = cls._shared_db
            self.matched_molecules = {}
            self.use_online_pubchem = False
            self.name_preference = tuple(list(name_preference) + list(self.name_sources))

        def get_name_from_pubchem(self, smiles):
            return None

    condenser.MoleculeNamer = OfflineMoleculeNamer


class RobocrysDescriber:
    """One Robocrystallographer paragraph per structure."""

    MINERAL_MATCHING = ("aflow", "fingerprint", "off")

    def __init__(self, *, mineral_matching: str = "aflow", describe_oxidation_states: bool = True,
                 describe_bond_lengths: bool = True, symprec: float = 0.01):
        """``mineral_matching``: ``aflow`` is robocrys' default (AFLOW prototype matching,
        then fingerprints; seconds per structure); ``fingerprint`` skips the AFLOW step
        (several times faster, occasionally a looser mineral name); ``off`` names none."""
        if mineral_matching not in self.MINERAL_MATCHING:
            raise ValueError(f"mineral_matching must be one of {self.MINERAL_MATCHING}, not {mineral_matching!r}")
        self.options = {
            "mineral_matching": mineral_matching,
            "describe_oxidation_states": describe_oxidation_states,
            "describe_bond_lengths": describe_bond_lengths,
            "symprec": symprec,
        }
        self._condenser = None
        self._describer = None

    @property
    def fingerprint(self) -> str:
        """Changes whenever the text could change: options or robocrys version."""
        from importlib.metadata import version

        settings = dict(self.options, robocrys=version("robocrys"), kind="robocrys")
        return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]

    def _load(self):
        if self._condenser is None:
            offline_robocrys()
            from robocrys import StructureCondenser, StructureDescriber

            self._condenser = StructureCondenser(symprec=self.options["symprec"],
                                                 mineral_matcher=_mineral_matcher(self.options["mineral_matching"]))
            self._describer = StructureDescriber(
                describe_mineral=self.options["mineral_matching"] != "off",
                describe_oxidation_states=self.options["describe_oxidation_states"],
                describe_bond_lengths=self.options["describe_bond_lengths"],
            )

    def __call__(self, structure) -> str:
        self._load()
        with warnings.catch_warnings():
            # CrystalNN warns for every site without oxidation states; the text is still made
            warnings.simplefilter("ignore")
            condensed = self._condenser.condense_structure(structure)
            text = self._describer.describe(condensed)
        return _NUMPY_REPR.sub(r"\1", text)


def _mineral_matcher(mode: str):
    from robocrys.condense.mineral import MineralMatcher

    if mode == "aflow":
        return MineralMatcher()

    class FingerprintMineralMatcher(MineralMatcher):
        def get_aflow_matches(self, structure):
            return None

    return FingerprintMineralMatcher(use_fingerprint_matching=mode == "fingerprint")


def composition_text(structure) -> str:
    """The composition and nothing about the arrangement of atoms (the paper's ablation)."""
    composition = structure.composition
    reduced = composition.reduced_composition
    parts = [f"{el.symbol}{_amount(reduced[el])}" for el in sorted(reduced.elements, key=lambda e: e.X)]
    fractions = ", ".join(
        f"{el.symbol} {composition.get_atomic_fraction(el) * 100:.1f}%"
        for el in sorted(composition.elements, key=lambda e: e.X)
    )
    return (
        f"{reduced.reduced_formula} has the composition {' '.join(parts)}. "
        f"It contains {len(composition.elements)} elements: {fractions}."
    )


def _amount(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


class DescriptionCache:
    """Texts on disk under ``root/<fingerprint>/<hash[:2]>/<hash>.txt``; writes are atomic.

    Besides saving seconds per structure, it pins each structure's text: robocrys orders
    some phrases ("edge, corner") by Python's per-process hash seed, so describing again
    in a new process can give different wording."""

    def __init__(self, root: Path, fingerprint: str):
        self.root = Path(root) / fingerprint

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.txt"

    def get(self, key: str) -> str | None:
        try:
            return self._path(key).read_text(encoding="utf-8")
        except FileNotFoundError:
            return None

    def put(self, key: str, text: str) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


_WORKER_DESCRIBER: RobocrysDescriber | None = None


def _worker_init(options: dict) -> None:
    global _WORKER_DESCRIBER
    _WORKER_DESCRIBER = RobocrysDescriber(**options)


def _worker_describe(structure_dict: dict) -> str:
    from pymatgen.core import Structure

    return _WORKER_DESCRIBER(Structure.from_dict(structure_dict))


def describe_structures(structures, *, cache_dir: Path | None = None, describer: RobocrysDescriber | None = None,
                        n_jobs: int = 1) -> tuple[list[str], dict[str, int]]:
    """Descriptions in input order, and ``{"hits": .., "misses": ..}`` for the cache.
    Structures not in the cache are described with a progress bar, in ``n_jobs``
    processes; each text is cached as soon as it is made, so an interrupted run keeps
    what it finished."""
    from .progress import track

    describer = describer or RobocrysDescriber()
    cache = DescriptionCache(cache_dir, describer.fingerprint) if cache_dir else None
    keys = [structure_hash(s) for s in structures]
    texts: list[str | None] = [cache.get(k) if cache else None for k in keys]
    missing = [i for i, t in enumerate(texts) if t is None]
    label = f"describing {len(missing)} structures"
    if missing and n_jobs > 1 and len(missing) > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=min(n_jobs, len(missing)), initializer=_worker_init,
                                 initargs=(describer.options,)) as pool:
            done = pool.map(_worker_describe, [structures[i].as_dict() for i in missing])
            for i, text in zip(missing, track(done, len(missing), label)):
                texts[i] = text
                if cache:
                    cache.put(keys[i], text)
    else:
        for i in track(missing, len(missing), label):
            texts[i] = describer(structures[i])
            if cache:
                cache.put(keys[i], texts[i])
    return texts, {"hits": len(structures) - len(missing), "misses": len(missing)}
