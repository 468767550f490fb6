"""Reaction-yield data: CSV loading, named data sets with published splits, batching."""

from __future__ import annotations

import json
import os
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

# Public source of the Buchwald-Hartwig data with the published split orders
# (Ahneman et al. 2018 / Sandfort et al. 2020, as redistributed by rxn_yields, MIT).
BH_SOURCE_URL = (
    "https://raw.githubusercontent.com/rxn4chemistry/rxn_yields/master/"
    "data/Buchwald-Hartwig/Dreher_and_Doyle_input_data.xlsx"
)
BH_FULLCV_TRAIN = 2767
BH_SPLITS = [f"FullCV_{i:02d}" for i in range(1, 11)] + [f"Test{i}" for i in range(1, 5)]
BH_TEST_TRAIN = {"Test1": 3057, "Test2": 3055, "Test3": 3058, "Test4": 3055}


@dataclass
class SplitData:
    """A data set cut into train and test rows; ``rxn`` and ``yield`` columns."""

    name: str
    train: pd.DataFrame
    test: pd.DataFrame


def load_csv(path, rxn_column: str = "rxn", yield_column: str = "yield") -> pd.DataFrame:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"data file not found: {path}")
    frame = pd.read_csv(path)
    missing = [c for c in (rxn_column, yield_column) if c not in frame.columns]
    if missing:
        raise ValueError(f"{path}: missing column(s) {missing}; columns are {list(frame.columns)}")
    frame = frame.rename(columns={rxn_column: "rxn", yield_column: "yield"})
    frame = frame.dropna(subset=["rxn", "yield"]).reset_index(drop=True)
    frame["yield"] = frame["yield"].astype(float)
    return frame


def random_split(frame: pd.DataFrame, test_fraction: float, seed: int, name: str = "random") -> SplitData:
    order = np.random.default_rng(seed).permutation(len(frame))
    n_test = max(1, int(round(test_fraction * len(frame))))
    test, train = order[:n_test], order[n_test:]
    return SplitData(
        name, frame.iloc[train].reset_index(drop=True), frame.iloc[test].reset_index(drop=True)
    )


def bh_root(root) -> Path:
    """The Buchwald-Hartwig folder: ``root`` if given, else $YIELD_DATA_DIR/buchwald_hartwig."""
    if root:
        return Path(root)
    base = os.environ.get("YIELD_DATA_DIR")
    if not base:
        raise FileNotFoundError("set data.root or the YIELD_DATA_DIR environment variable")
    return Path(base) / "buchwald_hartwig"


def load_buchwald_hartwig(root, split: str, download: bool = False) -> SplitData:
    """Rows of ``reactions.csv`` in the order of ``splits.json[split]``: first n_train train, rest test."""
    root = Path(root)
    if not (root / "reactions.csv").is_file() or not (root / "splits.json").is_file():
        if not download:
            raise FileNotFoundError(
                f"Buchwald-Hartwig data not found in {root} (need reactions.csv and splits.json); "
                "point data.root at a copy or set data.download=true when online"
            )
        download_buchwald_hartwig(root)
    frame = load_csv(root / "reactions.csv")
    with open(root / "splits.json", encoding="utf-8") as fh:
        splits = json.load(fh)["splits"]
    if split not in splits:
        raise KeyError(f"unknown split {split!r}; known: {', '.join(splits)}")
    spec = splits[split]
    order = np.asarray(spec["order"], dtype=int)
    n_train = int(spec["n_train"])
    train = frame.iloc[order[:n_train]].reset_index(drop=True)
    test = frame.iloc[order[n_train:]].reset_index(drop=True)
    return SplitData(split, train, test)


def _bh_reaction_smiles(components: pd.DataFrame) -> list[str]:
    """Reaction SMILES in the published layout from the four varied components.

    aryl halide . 4-methylaniline . Pd precatalyst . ligand . base . additive >> product.
    The Pd precatalyst is written as published: re-canonicalizing it with a current
    RDKit changes its string (and so its tokens).
    """
    from rdkit import Chem
    from rdkit.Chem import AllChem

    amine = "Cc1ccc(N)cc1"
    precatalyst = "O=S(=O)(O[Pd]1c2ccccc2-c2ccccc2N~1)C(F)(F)F"
    coupling = AllChem.ReactionFromSmarts(
        "[Cl,Br,I][c:1].[NH2:2][c:3]>>[c:1][NH:2][c:3]"
    )
    amine_mol = Chem.MolFromSmiles(amine)

    def canon(s):
        return Chem.MolToSmiles(Chem.MolFromSmiles(s))

    product_of: dict[str, str] = {}
    out = []
    for row in components.itertuples(index=False):
        halide = row.aryl_halide
        if halide not in product_of:
            products = coupling.RunReactants((Chem.MolFromSmiles(halide), amine_mol))
            mol = products[0][0]
            Chem.SanitizeMol(mol)
            product_of[halide] = Chem.MolToSmiles(mol)
        reactants = [canon(halide), amine, precatalyst, canon(row.ligand), canon(row.base), canon(row.additive)]
        out.append(".".join(reactants) + ">>" + product_of[halide])
    return out


def download_buchwald_hartwig(root, url: str = BH_SOURCE_URL) -> Path:
    """Fetch the public spreadsheet and write ``reactions.csv`` + ``splits.json`` into ``root``.

    Needs network access and ``openpyxl``.
    """
    with tempfile.TemporaryDirectory() as tmp:
        sheet_file = Path(tmp) / "bh.xlsx"
        with urllib.request.urlopen(url, timeout=120) as response, open(sheet_file, "wb") as fh:
            fh.write(response.read())
        sheets = pd.read_excel(sheet_file, sheet_name=None)
    return write_buchwald_hartwig(sheets, root, source=url)


def write_buchwald_hartwig(sheets: dict, root, source: str = "") -> Path:
    """Spreadsheet sheets (one per split, rows in split order) -> ``reactions.csv`` + ``splits.json``.

    Rows of ``reactions.csv`` follow the FullCV_01 sheet; a row's identity across
    sheets is its (ligand, additive, base, aryl halide) combination.
    """
    rename = {"Ligand": "ligand", "Additive": "additive", "Base": "base", "Aryl halide": "aryl_halide", "Output": "yield"}
    key_columns = ["ligand", "additive", "base", "aryl_halide"]

    def clean(sheet):
        return sheet.rename(columns=rename).dropna(subset=key_columns + ["yield"]).reset_index(drop=True)

    base = clean(sheets["FullCV_01"])
    row_of = {tuple(r): i for i, r in enumerate(base[key_columns].itertuples(index=False))}
    if len(row_of) != len(base):
        raise ValueError("Buchwald-Hartwig sheets: component combinations are not unique; cannot align splits")
    base["rxn"] = _bh_reaction_smiles(base)
    splits = {}
    for name in BH_SPLITS:
        if name not in sheets:
            continue
        order = [row_of[tuple(r)] for r in clean(sheets[name])[key_columns].itertuples(index=False)]
        if sorted(order) != list(range(len(base))):
            raise ValueError(f"Buchwald-Hartwig sheet {name} does not hold the same reactions as FullCV_01")
        splits[name] = {"n_train": BH_TEST_TRAIN.get(name, BH_FULLCV_TRAIN), "order": order}
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    base[key_columns + ["rxn", "yield"]].to_csv(root / "reactions.csv", index=False)
    with open(root / "splits.json", "w", encoding="utf-8") as fh:
        json.dump({"description": f"written from {source or 'spreadsheet sheets'}", "splits": splits}, fh)
    return root


def load_split(cfg, seed: int) -> SplitData:
    """The ``data`` config -> train/test frames."""
    if cfg.name == "buchwald_hartwig":
        data = load_buchwald_hartwig(bh_root(cfg.root), cfg.split, download=bool(cfg.download))
    else:
        frame = load_csv(cfg.path, cfg.rxn_column, cfg.yield_column)
        data = random_split(frame, cfg.test_fraction, cfg.split_seed if cfg.split_seed is not None else seed)
    if cfg.get("limit_train"):
        data.train = data.train.iloc[: int(cfg.limit_train)].reset_index(drop=True)
    if cfg.get("limit_test"):
        data.test = data.test.iloc[: int(cfg.limit_test)].reset_index(drop=True)
    return data


class ReactionCollator:
    """Turns a list of reaction row numbers into one batch.

    Graphs: only the distinct molecules of the batch are stacked, and per-reaction
    count matrices map molecule embeddings back to reactions.
    """

    def __init__(self, table, tokens, fingerprints, targets, *, with_graphs=True):
        self.table = table
        self.tokens = tokens
        self.fingerprints = fingerprints
        self.targets = targets
        self.with_graphs = with_graphs
        self._graph_data = None

    def _graphs(self):
        if self._graph_data is None:
            from torch_geometric.data import Data

            self._graph_data = [Data(**g) for g in self.table.graphs]
        return self._graph_data

    def __call__(self, rows) -> dict:
        rows = torch.as_tensor(rows, dtype=torch.long)
        batch = {"rows": rows, "y": self.targets[rows]}
        if self.tokens is not None:
            tokens = self.tokens[rows]
            width = int(tokens.ne(0).sum(1).max())  # pad id is 0: drop all-pad columns
            batch["tokens"] = tokens[:, :width]
        if self.fingerprints is not None:
            batch["fingerprints"] = self.fingerprints[rows]
        if self.with_graphs:
            from torch_geometric.data import Batch

            molecules = sorted({m for r in rows.tolist() for m in self.table.reactants[r] + self.table.products[r]})
            position = {m: i for i, m in enumerate(molecules)}
            reactant_counts = torch.zeros(len(rows), len(molecules))
            product_counts = torch.zeros(len(rows), len(molecules))
            for b, r in enumerate(rows.tolist()):
                for m in self.table.reactants[r]:
                    reactant_counts[b, position[m]] += 1
                for m in self.table.products[r]:
                    product_counts[b, position[m]] += 1
            graphs = self._graphs()
            batch["graphs"] = Batch.from_data_list([graphs[m] for m in molecules])
            batch["reactant_counts"] = reactant_counts
            batch["product_counts"] = product_counts
        return batch
