"""The Lightning data module every ``configs/data/*.yaml`` builds: read, split, featurize, batch."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import lightning as L
import numpy as np
import torch
from torch.utils.data import DataLoader

from .data import DataError, ReactionCollator, SplitData, download_buchwald_hartwig, fixed_split, load_csv, random_split
from .featurization import featurize_reactions, molecules_by_slot, slot_fingerprints
from .tokenizer import SmilesTokenizer


# the settings that featurize rows as a checkpoint's model saw them
FEATURIZATION = ("radius", "n_bits", "counts", "max_len")


@dataclass
class PreparedData:
    """Every reaction of a split, featurized once: rows [0, n_train) train, then
    validation, then test."""

    table: object
    tokenizer: SmilesTokenizer
    tokens: torch.Tensor
    fingerprints: torch.Tensor
    targets: torch.Tensor  # standardized yields
    yields: np.ndarray  # raw yields
    n_train: int
    n_val: int
    y_mean: float
    y_std: float
    fingerprint_roles: list  # the role columns of the fingerprint blocks; empty: summed

    @property
    def train_rows(self) -> np.ndarray:
        return np.arange(self.n_train)

    @property
    def val_rows(self) -> np.ndarray:
        return np.arange(self.n_train, self.n_train + self.n_val)

    @property
    def test_rows(self) -> np.ndarray:
        return np.arange(self.n_train + self.n_val, len(self.yields))


def prepare(split: SplitData, *, radius=2, n_bits=1024, counts=False, max_len=512, cache_dir=None,
            tokenizer=None, elements=None, y_stats=None, fingerprint_roles=None) -> PreparedData:
    """Featurize all rows; the vocabulary and the yield scaling come from training rows only.

    The fingerprint features are one Morgan block per role column in ``fingerprint_roles``
    (a ligand's bits never mix with an additive's), or without roles the bits of every
    molecule of the reaction summed."""
    frames = [split.train] + ([split.val] if split.val is not None else []) + [split.test]
    rxn = [r for f in frames for r in f["rxn"]]
    yields = np.concatenate([f["yield"].to_numpy() for f in frames]).astype(np.float64)
    n_train, n_val = len(split.train), 0 if split.val is None else len(split.val)
    table = featurize_reactions(rxn, radius=radius, n_bits=n_bits, counts=counts, cache_dir=cache_dir,
                                elements=elements)
    tokenizer = tokenizer or SmilesTokenizer.build(rxn[:n_train])
    tokens = tokenizer.encode_batch(rxn, max_len)
    if fingerprint_roles:
        rows = [slots for f in frames for slots in molecules_by_slot(f, fingerprint_roles)]
        fingerprints = torch.from_numpy(slot_fingerprints(rows, radius, n_bits, counts))
    else:
        fingerprints = torch.from_numpy(table.summed_fingerprints())
    if y_stats is None:
        y_mean = float(yields[:n_train].mean())
        y_std = float(yields[:n_train].std()) or 1.0
    else:
        y_mean, y_std = y_stats
    targets = torch.tensor((yields - y_mean) / y_std, dtype=torch.float32)
    return PreparedData(table, tokenizer, tokens, fingerprints, targets, yields, n_train, n_val, y_mean, y_std,
                        list(fingerprint_roles or []))


def _group_values(train, group: str) -> np.ndarray:
    if group not in train.columns:
        raise DataError(f"data.val_group={group!r} is not a column; columns are {list(train.columns)}")
    values = train[group].fillna("").astype(str).to_numpy()
    if len(np.unique(values)) < 2:
        raise DataError(f"data.val_group={group!r} has one value on the training rows: nothing to hold out by it")
    return values


def validation_rows(train, fraction: float, seed: int, group: str | None = None) -> np.ndarray:
    """A mask of about ``fraction`` of the training rows: random rows, or with ``group``
    whole groups of that column (in a seeded order, until the share is reached)."""
    rng = np.random.default_rng(seed)
    wanted = int(round(fraction * len(train)))
    mask = np.zeros(len(train), dtype=bool)
    if not group:
        mask[rng.permutation(len(train))[:wanted]] = True
        return mask
    values = _group_values(train, group)
    distinct = np.unique(values)
    for value in distinct[rng.permutation(len(distinct))][:-1]:
        if mask.sum() >= wanted:
            break
        mask |= values == value
    return mask


def validation_fold(train, folds: int, fold: int, group: str | None = None, seed: int = 0) -> np.ndarray:
    """A mask of fold ``fold % folds`` of the training rows cut into ``folds`` folds: random
    rows, or whole groups of ``group`` dealt out in turn. ``seed`` fixes the cut, so runs
    that differ in ``fold`` alone hold out disjoint folds (an ensemble's members do)."""
    if int(folds) < 2:
        raise DataError(f"data.val_folds={folds} must be 2 or more (or null for no folds)")
    rng = np.random.default_rng(seed)
    if not group:
        fold_of = np.empty(len(train), dtype=int)
        fold_of[rng.permutation(len(train))] = np.arange(len(train)) % folds
        return fold_of == fold % folds
    values = _group_values(train, group)
    distinct = np.unique(values)
    if len(distinct) < folds:
        raise DataError(f"data.val_group={group!r} has {len(distinct)} values on the training rows, "
                        f"fewer than data.val_folds={folds}")
    fold_of_value = dict(zip(distinct[rng.permutation(len(distinct))], np.arange(len(distinct)) % folds))
    return np.array([fold_of_value[v] == fold % folds for v in values], dtype=bool)


class ReactionDataModule(L.LightningDataModule):
    """One reaction CSV (or three) and how to split it.

    Where the rows come from, in order of precedence:
      * ``train_path`` + ``test_path`` (+ ``val_path``): separate files, used as given;
      * ``path`` + ``splits_file`` + ``split``: a fixed split in the ``splits.json`` format;
      * ``path`` alone: a seeded random split (``test_fraction``, ``split_seed`` or ``seed``).
    Relative paths are read inside ``root`` when it is given. A validation share of
    the training rows (``val_fraction``) is held out when no validation rows are given;
    with ``val_group`` (a column, e.g. ``additive``) it is made of whole groups, so that
    validation meets components training never saw, as an out-of-sample test split does.
    With ``val_folds`` the training rows are cut into that many folds instead, the same
    cut for every run of a split, and the run holds out fold ``val_fold``: the members of
    an ensemble, one fold each, are validated on different rows (``ensemble.py`` pools them).
    ``name`` is what every output calls the data set.
    """

    def __init__(
        self,
        name: str,
        path: str | None = None,
        root: str | None = None,
        splits_file: str | None = None,
        split: str | None = None,
        train_path: str | None = None,
        val_path: str | None = None,
        test_path: str | None = None,
        rxn_column: str = "rxn",
        yield_column: str = "yield",
        yield_scale: str = "percent",
        roles: list[str] | None = None,
        test_fraction: float = 0.3,
        split_seed: int | None = None,
        val_fraction: float = 0.0,
        val_group: str | None = None,
        val_folds: int | None = None,
        val_fold: int = 0,
        seed: int = 0,
        limit_train: int | None = None,
        limit_test: int | None = None,
        download: bool = False,
        batch_size: int = 64,
        num_workers: int = 0,
        with_graphs: bool = True,
        radius: int = 2,
        n_bits: int = 1024,
        counts: bool = False,
        max_len: int = 512,
        fingerprints: str = "summed",
        cache_dir: str | None = None,
    ):
        super().__init__()
        self.save_hyperparameters(logger=False)
        self.name = name
        self.roles = list(roles) if roles else None
        self.split: SplitData | None = None
        self.prepared: PreparedData | None = None
        self._restored: dict | None = None

    def _path(self, value) -> Path:
        path = Path(value)
        root = self.hparams.root
        return path if path.is_absolute() or not root else Path(root) / path

    def prepare_data(self):
        h = self.hparams
        if h.download and h.path and not self._path(h.path).is_file():
            if self.name != "buchwald_hartwig":
                raise DataError(f"data.download only knows the Buchwald-Hartwig source, not {self.name!r}")
            download_buchwald_hartwig(self._path(h.path).parent)

    def load(self) -> SplitData:
        """The rows, split as configured (read once)."""
        if self.split is not None:
            return self.split
        h = self.hparams
        read = lambda p: load_csv(self._path(p), h.rxn_column, h.yield_column, h.yield_scale)  # noqa: E731
        if h.train_path or h.test_path:
            if not (h.train_path and h.test_path):
                raise DataError("data.train_path and data.test_path go together (data.val_path is optional)")
            split = SplitData(h.split or "given", read(h.train_path), read(h.test_path),
                              read(h.val_path) if h.val_path else None)
        elif not h.path:
            raise DataError("give data.path (one CSV) or data.train_path and data.test_path")
        elif h.splits_file:
            if not h.split:
                raise DataError("data.splits_file needs data.split, the name of one of its splits")
            split = fixed_split(read(h.path), self._path(h.splits_file), h.split)
        else:
            seed = h.split_seed if h.split_seed is not None else h.seed
            split = random_split(read(h.path), h.test_fraction, seed)
        if h.limit_train:
            split.train = split.train.iloc[: int(h.limit_train)].reset_index(drop=True)
        if h.limit_test:
            split.test = split.test.iloc[: int(h.limit_test)].reset_index(drop=True)
        if split.val is None and (h.val_fraction or h.val_folds):
            if h.val_folds:
                cut = h.split_seed if h.split_seed is not None else 0
                held_out = validation_fold(split.train, int(h.val_folds), int(h.val_fold), h.val_group, cut)
            else:
                held_out = validation_rows(split.train, h.val_fraction, h.seed, h.val_group)
            if held_out.any():
                split.val = split.train[held_out].reset_index(drop=True)
                split.train = split.train[~held_out].reset_index(drop=True)
        if len(split.train) < 2 or len(split.test) < 1:
            raise DataError(f"data {self.name!r}: {len(split.train)} training and {len(split.test)} test rows is too few")
        self.split = split
        return split

    def setup(self, stage: str | None = None):
        if self.prepared is not None:
            return
        h, restored = self.hparams, self._restored or {}
        if h.fingerprints not in ("by_role", "summed"):
            raise DataError(f"data.fingerprints must be 'by_role' or 'summed', not {h.fingerprints!r}")
        # a trained model's blocks, whatever this config says: its input width depends on them
        roles = restored.get("fingerprint_roles", self.roles if h.fingerprints == "by_role" else None)
        # and its featurization: other Morgan bits or another token length would feed the
        # trained weights inputs they never saw, without any error
        for name in FEATURIZATION:
            if name in restored:
                h[name] = restored[name]
        self.prepared = prepare(
            self.load(), radius=h.radius, n_bits=h.n_bits, counts=h.counts, max_len=h.max_len, cache_dir=h.cache_dir,
            tokenizer=SmilesTokenizer(restored["vocabulary"]) if restored else None,
            elements=restored.get("elements"),
            y_stats=(restored["y_mean"], restored["y_std"]) if restored else None,
            fingerprint_roles=roles,
        )
        p = self.prepared
        self.collate = ReactionCollator(p.table, p.tokens, p.fingerprints, p.targets, with_graphs=h.with_graphs)

    @property
    def dims(self) -> dict:
        """What the networks' sizes depend on; the configs read them as ``${dims.NAME}``."""
        self.setup()
        p = self.prepared
        return {"atom_dim": p.table.atom_dim, "bond_dim": p.table.bond_dim, "vocab_size": len(p.tokenizer),
                "pad_id": p.tokenizer.pad_id, "n_bits": self.hparams.n_bits, "max_len": self.hparams.max_len,
                "fingerprint_dim": int(p.fingerprints.shape[1])}

    def state_dict(self) -> dict:
        """Saved in every checkpoint: what featurizing new rows the same way needs."""
        p = self.prepared
        if p is None:
            return {}
        return {"vocabulary": p.tokenizer.to_list(), "elements": list(p.table.elements),
                "y_mean": p.y_mean, "y_std": p.y_std, "fingerprint_roles": p.fingerprint_roles,
                **{name: self.hparams[name] for name in FEATURIZATION}}

    def load_state_dict(self, state: dict) -> None:
        # On resume Lightning restores this after setup(): the same training rows gave
        # the same vocabulary, so only a module not yet featurized takes it.
        if state and self.prepared is None:
            self._restored = dict(state)

    def _loader(self, rows, shuffle):
        h = self.hparams
        return DataLoader(rows.tolist(), batch_size=h.batch_size, shuffle=shuffle, collate_fn=self.collate,
                          num_workers=h.num_workers, persistent_workers=h.num_workers > 0)

    def train_dataloader(self):
        return self._loader(self.prepared.train_rows, True)

    def val_dataloader(self):
        # An empty list: no validation loop at all.
        return self._loader(self.prepared.val_rows, False) if self.prepared.n_val else []

    def test_dataloader(self):
        return self._loader(self.prepared.test_rows, False)
