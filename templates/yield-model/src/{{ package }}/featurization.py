"""Molecule graphs and Morgan fingerprints, computed once per distinct molecule.

A reaction data set reuses few molecules (Buchwald-Hartwig: 51 across 3955
reactions), so every reaction is stored as lists of indices into one table of
distinct molecules. The table is cached on disk, keyed by its content.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

# Bump when the features change, so stale caches are not reused.
FEATURIZER_VERSION = 1

HYBRIDIZATIONS = ("SP", "SP2", "SP3", "SP3D", "SP3D2")
FORMAL_CHARGES = (-2, -1, 0, 1, 2)
DEGREES = tuple(range(7))
HYDROGEN_COUNTS = tuple(range(5))
VALENCES = tuple(range(7))
CHIRAL_TAGS = ("CHI_TETRAHEDRAL_CW", "CHI_TETRAHEDRAL_CCW")
RING_SIZES = tuple(range(3, 9))
BOND_TYPES = ("SINGLE", "DOUBLE", "TRIPLE", "AROMATIC")
BOND_STEREO = ("STEREONONE", "STEREOANY", "STEREOZ", "STEREOE", "STEREOCIS", "STEREOTRANS")


def one_hot(value, choices) -> list[float]:
    """One-hot over ``choices`` plus a last slot for anything else."""
    vec = [0.0] * (len(choices) + 1)
    vec[choices.index(value) if value in choices else len(choices)] = 1.0
    return vec


def split_reaction(rxn: str) -> tuple[list[str], list[str]]:
    """``A.B>C>P`` -> (reactants and agents, products). Agents count as reactants."""
    parts = rxn.strip().split(">")
    if len(parts) != 3:
        raise ValueError(f"not a reaction SMILES (need 'reactants>>products'): {rxn[:80]!r}")
    left = [m for side in parts[:2] for m in side.split(".") if m]
    right = [m for m in parts[2].split(".") if m]
    if not left or not right:
        raise ValueError(f"reaction SMILES without reactants or products: {rxn[:80]!r}")
    return left, right


@lru_cache(maxsize=None)
def parse_molecule(smiles: str):
    from rdkit import Chem, RDLogger

    RDLogger.DisableLog("rdApp.*")
    mol = Chem.MolFromSmiles(smiles)
    if mol is None:
        # Organometallics sometimes fail valence checks; keep what can be perceived.
        mol = Chem.MolFromSmiles(smiles, sanitize=False)
        if mol is None:
            raise ValueError(f"RDKit cannot parse molecule {smiles!r}")
        mol.UpdatePropertyCache(strict=False)
        Chem.SanitizeMol(
            mol,
            Chem.SanitizeFlags.SANITIZE_ALL ^ Chem.SanitizeFlags.SANITIZE_PROPERTIES,
            catchErrors=True,
        )
    return mol


@lru_cache(maxsize=1)
def _feature_factory():
    from rdkit import RDConfig
    from rdkit.Chem import ChemicalFeatures

    return ChemicalFeatures.BuildFeatureFactory(os.path.join(RDConfig.RDDataDir, "BaseFeatures.fdef"))


def _donors_acceptors(mol) -> tuple[set[int], set[int]]:
    donors, acceptors = set(), set()
    try:
        feats = _feature_factory().GetFeaturesForMol(mol)
    except Exception:  # unsanitizable organometallics: no pharmacophore features
        return donors, acceptors
    for feat in feats:
        if feat.GetFamily() == "Donor":
            donors.update(feat.GetAtomIds())
        elif feat.GetFamily() == "Acceptor":
            acceptors.update(feat.GetAtomIds())
    return donors, acceptors


class MoleculeFeaturizer:
    """Atom and bond features; the element one-hot uses the data's own element vocabulary."""

    def __init__(self, elements):
        self.elements = tuple(sorted(set(elements)))

    @classmethod
    def from_smiles(cls, smiles_list) -> "MoleculeFeaturizer":
        elements = {a.GetSymbol() for s in smiles_list for a in parse_molecule(s).GetAtoms()}
        return cls(elements)

    def atom_features(self, atom, donors, acceptors) -> list[float]:
        return (
            one_hot(atom.GetSymbol(), self.elements)
            + one_hot(atom.GetFormalCharge(), FORMAL_CHARGES)
            + one_hot(atom.GetDegree(), DEGREES)
            + one_hot(str(atom.GetHybridization()), HYBRIDIZATIONS)
            + one_hot(atom.GetTotalNumHs(), HYDROGEN_COUNTS)
            + one_hot(atom.GetTotalValence(), VALENCES)
            + [float(atom.GetIdx() in donors), float(atom.GetIdx() in acceptors)]
            + [float(atom.GetIsAromatic()), float(atom.IsInRing())]
            + [float(atom.IsInRingSize(n)) for n in RING_SIZES]
            + one_hot(str(atom.GetChiralTag()), CHIRAL_TAGS)
        )

    @staticmethod
    def bond_features(bond) -> list[float]:
        return (
            one_hot(str(bond.GetBondType()), BOND_TYPES)
            + [float(bond.IsInRing()), float(bond.GetIsConjugated())]
            + one_hot(str(bond.GetStereo()), BOND_STEREO)
        )

    @property
    def atom_dim(self) -> int:
        return (
            len(self.elements) + 1 + len(FORMAL_CHARGES) + 1 + len(DEGREES) + 1
            + len(HYBRIDIZATIONS) + 1 + len(HYDROGEN_COUNTS) + 1 + len(VALENCES) + 1
            + 2 + 2 + len(RING_SIZES) + len(CHIRAL_TAGS) + 1
        )

    @property
    def bond_dim(self) -> int:
        return len(BOND_TYPES) + 1 + 2 + len(BOND_STEREO) + 1

    def graph(self, smiles: str) -> dict[str, torch.Tensor]:
        """Node features, directed edge index (both directions) and edge features."""
        mol = parse_molecule(smiles)
        donors, acceptors = _donors_acceptors(mol)
        x = torch.tensor(
            [self.atom_features(a, donors, acceptors) for a in mol.GetAtoms()], dtype=torch.float32
        ).reshape(-1, self.atom_dim)
        src, dst, feats = [], [], []
        for bond in mol.GetBonds():
            i, j = bond.GetBeginAtomIdx(), bond.GetEndAtomIdx()
            f = self.bond_features(bond)
            src += [i, j]
            dst += [j, i]
            feats += [f, f]
        edge_index = torch.tensor([src, dst], dtype=torch.long).reshape(2, -1)
        edge_attr = torch.tensor(feats, dtype=torch.float32).reshape(-1, self.bond_dim)
        return {"x": x, "edge_index": edge_index, "edge_attr": edge_attr}


def morgan_fingerprint(smiles: str, radius: int = 2, n_bits: int = 1024, counts: bool = False) -> np.ndarray:
    """The Morgan bits of one molecule, or with ``counts`` how often each environment
    occurs in it (capped at 255: they are stored as bytes)."""
    from rdkit.Chem import rdFingerprintGenerator

    gen = rdFingerprintGenerator.GetMorganGenerator(radius=radius, fpSize=n_bits)
    molecule = parse_molecule(smiles)
    if counts:
        return np.minimum(gen.GetCountFingerprintAsNumPy(molecule), 255).astype(np.uint8)
    return gen.GetFingerprintAsNumPy(molecule).astype(np.uint8)


def molecules_by_slot(frame, roles=None) -> list[list[list[str]]]:
    """rows x slots x molecules: one slot per role column (an empty cell: no molecule), or
    without roles a single slot with every reactant. Neither the order nor the number of
    molecules in a reaction SMILES changes which slot a molecule lands in."""
    if roles:
        missing = [r for r in roles if r not in frame.columns]
        if missing:
            from .data import DataError

            raise DataError(f"data.roles names column(s) {missing} that the data lacks; columns are "
                            f"{list(frame.columns)} (give data.roles=null to do without)")
        return [[[str(v)] if isinstance(v, str) and v else [] for v in row]
                for row in frame[list(roles)].itertuples(index=False)]
    return [[split_reaction(r)[0]] for r in frame["rxn"]]


def slot_fingerprints(rows, radius: int = 2, n_bits: int = 1024, counts: bool = False) -> np.ndarray:
    """(rows, slots x n_bits) float32: the Morgan bits (or counts) of each slot's
    molecules, summed, one block of ``n_bits`` per slot (``molecules_by_slot``)."""
    n_slots = len(rows[0]) if rows else 0
    out = np.zeros((len(rows), n_slots * n_bits), dtype=np.float32)
    bits: dict[str, np.ndarray] = {}
    for i, row in enumerate(rows):
        for slot, molecules in enumerate(row):
            for molecule in molecules:
                if molecule not in bits:
                    bits[molecule] = morgan_fingerprint(molecule, radius, n_bits, counts)
                out[i, slot * n_bits:(slot + 1) * n_bits] += bits[molecule]
    return out


@dataclass
class ReactionTable:
    """Distinct molecules and, per reaction, which of them it uses."""

    molecules: list[str]
    reactants: list[list[int]]
    products: list[list[int]]
    graphs: list[dict] = field(default_factory=list)
    fingerprints: np.ndarray | None = None  # (n_molecules, n_bits), uint8
    atom_dim: int = 0
    bond_dim: int = 0
    elements: tuple = ()

    def __len__(self) -> int:
        return len(self.reactants)

    def count_matrix(self, which: str) -> np.ndarray:
        """(n_reactions, n_molecules) multiplicities of each molecule on one side."""
        lists = self.reactants if which == "reactants" else self.products
        counts = np.zeros((len(lists), len(self.molecules)), dtype=np.float32)
        for row, ids in enumerate(lists):
            for i in ids:
                counts[row, i] += 1
        return counts

    def summed_fingerprints(self) -> np.ndarray:
        """Morgan bits summed over every molecule of each reaction (reactants and products)."""
        counts = self.count_matrix("reactants") + self.count_matrix("products")
        return counts @ self.fingerprints.astype(np.float32)


def index_reactions(rxn_smiles) -> ReactionTable:
    index: dict[str, int] = {}
    reactants, products = [], []
    for rxn in rxn_smiles:
        left, right = split_reaction(rxn)
        reactants.append([index.setdefault(m, len(index)) for m in left])
        products.append([index.setdefault(m, len(index)) for m in right])
    return ReactionTable(molecules=list(index), reactants=reactants, products=products)


def _cache_key(molecules, elements, radius, n_bits, counts) -> str:
    payload = json.dumps([FEATURIZER_VERSION, radius, n_bits, counts, list(elements), sorted(molecules)]).encode()
    return hashlib.sha256(payload).hexdigest()[:20]


def featurize_reactions(
    rxn_smiles, *, radius: int = 2, n_bits: int = 1024, counts: bool = False, cache_dir=None, elements=None
) -> ReactionTable:
    """Index the reactions and featurize each distinct molecule once (disk-cached when asked).

    ``elements`` fixes the element vocabulary (a trained model's); by default it is
    taken from the molecules themselves.
    """
    table = index_reactions(list(rxn_smiles))
    featurizer = (
        MoleculeFeaturizer(elements) if elements is not None else MoleculeFeaturizer.from_smiles(table.molecules)
    )
    cache_file = None
    if cache_dir:
        key = _cache_key(table.molecules, featurizer.elements, radius, n_bits, counts)
        cache_file = Path(cache_dir) / f"molecules-{key}.pt"
        if cache_file.is_file():
            stored = torch.load(cache_file, weights_only=True)
            by_smiles = dict(zip(stored["molecules"], range(len(stored["molecules"]))))
            order = [by_smiles[m] for m in table.molecules]
            table.graphs = [stored["graphs"][i] for i in order]
            table.fingerprints = stored["fingerprints"].numpy()[order]
            table.atom_dim, table.bond_dim = stored["atom_dim"], stored["bond_dim"]
            table.elements = tuple(stored["elements"])
            return table
    from .progress import track

    graphs, fingerprints = [], []
    for molecule in track(table.molecules, "featurize molecules", "molecules"):
        graphs.append(featurizer.graph(molecule))
        fingerprints.append(morgan_fingerprint(molecule, radius, n_bits, counts))
    table.graphs, table.fingerprints = graphs, np.stack(fingerprints)
    table.atom_dim, table.bond_dim = featurizer.atom_dim, featurizer.bond_dim
    table.elements = featurizer.elements
    if cache_file is not None:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        # one temporary file per process: DDP ranks featurize the same molecules at once
        tmp = cache_file.with_suffix(f".{os.getpid()}.tmp")
        torch.save(
            {
                "molecules": table.molecules,
                "graphs": table.graphs,
                "fingerprints": torch.from_numpy(table.fingerprints),
                "atom_dim": table.atom_dim,
                "bond_dim": table.bond_dim,
                "elements": list(table.elements),
            },
            tmp,
        )
        os.replace(tmp, cache_file)
    return table
