"""Reaction-yield data: CSV loading, named data sets with published splits, batching."""

from __future__ import annotations

import json
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


class DataError(ValueError):
    """Input that cannot be used as given; the entry points print its one line and exit 2."""


@dataclass
class SplitData:
    """A data set cut into train, (optional) validation and test rows; ``rxn`` and ``yield`` columns."""

    name: str
    train: pd.DataFrame
    test: pd.DataFrame
    val: pd.DataFrame | None = None


def check_yields(values, column: str, scale: str = "percent") -> np.ndarray:
    """Yields as percentages 0-100; a fraction column is converted only when asked."""
    y = np.asarray(values, dtype=float)
    if scale not in ("percent", "fraction"):
        raise DataError(f"data.yield_scale must be 'percent' or 'fraction', not {scale!r}")
    if scale == "fraction":
        if y.min() < 0 or y.max() > 1:
            raise DataError(
                f"yield column {column!r} has values outside 0-1 ({y.min():g} to {y.max():g}) but "
                "data.yield_scale=fraction: leave yield_scale=percent for percentages"
            )
        return y * 100.0
    if y.min() < 0 or y.max() > 100:
        raise DataError(
            f"yield column {column!r} has values outside 0-100 ({y.min():g} to {y.max():g}): "
            "yields must be percentages"
        )
    if len(y) > 1 and y.max() <= 1.0:
        raise DataError(
            f"yield column {column!r} looks like fractions (every value within 0-1): multiply it by 100, "
            "or pass data.yield_scale=fraction to convert"
        )
    return y


def load_csv(path, rxn_column: str = "rxn", yield_column: str = "yield", yield_scale: str = "percent") -> pd.DataFrame:
    path = Path(path)
    if not path.is_file():
        raise DataError(f"data file not found: {path}")
    frame = pd.read_csv(path)
    missing = [c for c in (rxn_column, yield_column) if c not in frame.columns]
    if missing:
        raise DataError(f"{path}: missing column(s) {missing}; columns are {list(frame.columns)}")
    frame = frame.rename(columns={rxn_column: "rxn", yield_column: "yield"})
    frame = frame.dropna(subset=["rxn", "yield"]).reset_index(drop=True)
    if frame.empty:
        raise DataError(f"{path}: no rows with both a reaction and a yield")
    try:
        frame["yield"] = check_yields(frame["yield"].astype(float), yield_column, yield_scale)
    except ValueError as exc:
        if isinstance(exc, DataError):
            raise
        raise DataError(f"{path}: yield column {yield_column!r} is not numeric") from None
    return frame


def fixed_split(frame: pd.DataFrame, splits_file, split: str) -> SplitData:
    """Rows in the order of ``splits_file[split]``: first ``n_train`` train, then ``n_val``
    validation (0 if absent), the rest test. The format of ``splits.json``:
    ``{"splits": {"NAME": {"n_train": 2767, "order": [row numbers...]}}}``."""
    with open(splits_file, encoding="utf-8") as fh:
        splits = json.load(fh)["splits"]
    if split not in splits:
        raise DataError(f"{splits_file}: unknown split {split!r}; known: {', '.join(splits)}")
    spec = splits[split]
    order = np.asarray(spec["order"], dtype=int)
    if len(order) and (order.min() < 0 or order.max() >= len(frame) or len(set(order.tolist())) != len(order)):
        raise DataError(f"{splits_file}: split {split!r} lists row numbers that are repeated or not in the data")
    n_train, n_val = int(spec["n_train"]), int(spec.get("n_val", 0))
    rows = lambda part: frame.iloc[part].reset_index(drop=True)  # noqa: E731
    val = rows(order[n_train:n_train + n_val]) if n_val else None
    return SplitData(split, rows(order[:n_train]), rows(order[n_train + n_val:]), val)


def random_split(frame: pd.DataFrame, test_fraction: float, seed: int, name: str = "random") -> SplitData:
    """A seeded random train/test cut."""
    order = np.random.default_rng(seed).permutation(len(frame))
    n_test = max(1, int(round(test_fraction * len(frame))))
    test, train = order[:n_test], order[n_test:]
    return SplitData(
        name, frame.iloc[train].reset_index(drop=True), frame.iloc[test].reset_index(drop=True)
    )


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
