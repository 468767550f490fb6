"""Encoders: materials -> unit-length vectors, all behind one small interface.
``configs/encoder/*.yaml`` builds one (``_target_``); ``name`` is its run folder.

Every encoder says which view of a material it reads (``needs``): the structure text,
the composition text, the composition or the structure. ``fit`` learns what needs
learning from the library (a vocabulary, nothing for pretrained models); ``encode``
returns float32 rows of length 1 (all-zero rows stay zero).
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np

TEXT, COMPOSITION_TEXT, COMPOSITION, STRUCTURE = "text", "composition_text", "composition", "structure"


def l2_normalise(matrix) -> np.ndarray:
    matrix = np.asarray(matrix, dtype=np.float32)
    if matrix.ndim == 1:
        matrix = matrix[None, :]
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms > 0, norms, 1.0)


class Encoder:
    name = "encoder"
    needs = TEXT

    def named(self, name: str | None) -> None:
        if name:
            self.name = name

    def fit(self, items) -> "Encoder":
        return self

    def encode(self, items) -> np.ndarray:  # pragma: no cover - interface
        raise NotImplementedError

    def save(self, path: Path) -> None:
        with open(path, "wb") as fh:
            pickle.dump(self, fh)

    @staticmethod
    def load(path: Path) -> "Encoder":
        with open(path, "rb") as fh:
            return pickle.load(fh)


class TfidfEncoder(Encoder):
    """TF-IDF over words, optionally reduced by truncated SVD (latent semantic analysis)."""

    name = "tfidf"

    def __init__(self, needs: str = TEXT, *, min_df: int = 1, ngram_max: int = 1, sublinear_tf: bool = True,
                 svd_components: int | None = None, seed: int = 0, name: str | None = None):
        self.named(name)
        self.needs = needs
        self.options = dict(min_df=min_df, ngram_max=ngram_max, sublinear_tf=sublinear_tf)
        self.svd_components = svd_components
        self.seed = seed
        self._vectorizer = None
        self._svd = None

    def fit(self, items):
        from sklearn.feature_extraction.text import TfidfVectorizer

        # Case kept and one-letter tokens allowed: "In", "S", "O" are elements, "in" is not
        self._vectorizer = TfidfVectorizer(
            lowercase=False,
            token_pattern=r"(?u)\b\w+\b",
            min_df=self.options["min_df"],
            ngram_range=(1, self.options["ngram_max"]),
            sublinear_tf=self.options["sublinear_tf"],
            dtype=np.float32,
        )
        matrix = self._vectorizer.fit_transform(list(items))
        if self.svd_components:
            from sklearn.decomposition import TruncatedSVD

            k = min(self.svd_components, matrix.shape[1] - 1, matrix.shape[0] - 1)
            self._svd = TruncatedSVD(n_components=max(k, 1), random_state=self.seed).fit(matrix)
        return self

    def encode(self, items):
        if self._vectorizer is None:
            raise RuntimeError("TfidfEncoder.encode before fit")
        matrix = self._vectorizer.transform(list(items))
        dense = self._svd.transform(matrix) if self._svd is not None else matrix.toarray()
        return l2_normalise(dense)


class HuggingFaceEncoder(Encoder):
    """Any Hugging Face encoder (MatBERT, MatSciBERT, sentence-transformers models) by hub
    name or local folder: token states mean-pooled over the attention mask; texts longer
    than the model window are cut into windows whose vectors are averaged."""

    name = "huggingface"

    def __init__(self, model: str, *, needs: str = TEXT, max_length: int = 512, batch_size: int = 16,
                 local_files_only: bool = True, device: str = "cpu", name: str | None = None):
        self.named(name)
        self.model_name = str(model)
        self.needs = needs
        self.max_length = max_length
        self.batch_size = batch_size
        self.local_files_only = local_files_only
        self.device = device
        self._tokenizer = None
        self._model = None

    def __getstate__(self):
        # pickled as its settings; the weights are reloaded from the name or path
        state = dict(self.__dict__)
        state["_tokenizer"] = state["_model"] = None
        return state

    def _load(self):
        if self._model is None:
            try:
                import torch  # noqa: F401
                from transformers import AutoModel, AutoTokenizer
            except ImportError as exc:
                raise RuntimeError("the Hugging Face encoder needs `pip install transformers`") from exc
            self._tokenizer = AutoTokenizer.from_pretrained(self.model_name, local_files_only=self.local_files_only)
            self._model = AutoModel.from_pretrained(self.model_name, local_files_only=self.local_files_only)
            self._model.eval().to(self.device)

    def windows(self, text: str) -> list[list[int]]:
        """Token ids of each window of at most ``max_length`` tokens, special tokens included."""
        self._load()
        encoded = self._tokenizer(text, max_length=self.max_length, truncation=True,
                                  return_overflowing_tokens=True, add_special_tokens=True)
        ids = encoded["input_ids"]
        return [list(w) for w in ids] if ids and isinstance(ids[0], list) else [list(ids)]

    def pool_windows(self, windows: list[list[int]]) -> np.ndarray:
        """Mean over tokens (attention mask applied) of the last hidden states, one row
        per window, not normalised."""
        import torch

        from .progress import track

        self._load()
        pad = self._tokenizer.pad_token_id or 0
        rows = []
        starts = range(0, len(windows), self.batch_size)
        with torch.inference_mode():
            for start in track(starts, len(starts), f"encoding {len(windows)} windows with {self.model_name}"):
                batch = windows[start:start + self.batch_size]
                width = max(len(w) for w in batch)
                ids = torch.full((len(batch), width), pad, dtype=torch.long)
                mask = torch.zeros((len(batch), width), dtype=torch.long)
                for i, window in enumerate(batch):
                    ids[i, : len(window)] = torch.tensor(window)
                    mask[i, : len(window)] = 1
                states = self._model(input_ids=ids.to(self.device),
                                     attention_mask=mask.to(self.device)).last_hidden_state
                weights = mask.to(states.device).unsqueeze(-1).to(states.dtype)
                rows.append(((states * weights).sum(1) / weights.sum(1).clamp(min=1)).cpu().numpy())
        return np.concatenate(rows).astype(np.float64)

    def encode(self, items):
        texts = list(items)
        owners, windows = [], []
        for row, text in enumerate(texts):
            for window in self.windows(text):
                owners.append(row)
                windows.append(window)
        pooled = self.pool_windows(windows)
        sums = np.zeros((len(texts), pooled.shape[1]))
        np.add.at(sums, owners, pooled)
        counts = np.bincount(owners, minlength=len(texts))
        return l2_normalise(sums / counts[:, None])


def element_table(table: str = "matscholar") -> dict[str, np.ndarray]:
    """Element vectors shipped with matminer: ``matscholar`` (Mat2Vec-style word
    embeddings of element names, Tshitoyan et al. 2019) or ``megnet``."""
    from matminer.utils.data import MatscholarElementData, MEGNetElementData

    source = {"matscholar": MatscholarElementData, "megnet": MEGNetElementData}[table]()
    # each element maps to {"embedding 1": value, ...}: keep the columns in their order
    return {symbol: np.asarray(list(columns.values()), dtype=np.float64)
            for symbol, columns in source.all_element_data.items()}


class Mat2VecEncoder(Encoder):
    """Stoichiometry-weighted mean of element embeddings (the paper's Mat2Vec baseline)."""

    name = "mat2vec"
    needs = COMPOSITION

    def __init__(self, table: str = "matscholar", name: str | None = None):
        self.named(name)
        self.table = table
        self._vectors = None

    def _load(self):
        if self._vectors is None:
            self._vectors = element_table(self.table)

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_vectors"] = None
        return state

    def encode(self, items):
        self._load()
        dim = len(next(iter(self._vectors.values())))
        rows = np.zeros((len(items), dim))
        for row, composition in enumerate(items):
            fractions = composition.fractional_composition
            for element, fraction in fractions.items():
                symbol = getattr(element, "symbol", str(element))
                if symbol not in self._vectors:
                    raise KeyError(f"no {self.table} embedding for element {symbol}")
                rows[row] += fraction * self._vectors[symbol]
        return l2_normalise(rows)


class CrystalNNFingerprintEncoder(Encoder):
    """Site statistics of CrystalNN local-environment fingerprints (matminer)."""

    name = "crystalnn"
    needs = STRUCTURE

    def __init__(self, preset: str = "CrystalNNFingerprint_ops", n_jobs: int | None = 1, name: str | None = None):
        from .cores import available_cores

        self.named(name)
        self.preset = preset
        # matminer featurizes in worker processes: one per core this process may use
        self.n_jobs = n_jobs or available_cores()

    def encode(self, items):
        import warnings

        from matminer.featurizers.structure import SiteStatsFingerprint

        featurizer = SiteStatsFingerprint.from_preset(self.preset)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if self.n_jobs > 1 and len(items) > 1:
                featurizer.set_n_jobs(self.n_jobs)
                rows = featurizer.featurize_many(list(items), ignore_errors=False, pbar=False)
            else:
                from .progress import track

                rows = [featurizer.featurize(s) for s in track(items, len(items), "CrystalNN fingerprints")]
        return l2_normalise(np.nan_to_num(np.asarray(rows, dtype=np.float64)))


def view(material, needs: str, text: str | None = None, composition_text: str | None = None):
    """The input an encoder reads from one material."""
    if needs == TEXT:
        if text is None:
            raise ValueError(f"{material.id}: no description (run the describe step first)")
        return text
    if needs == COMPOSITION_TEXT:
        if composition_text is None:
            raise ValueError(f"{material.id}: no composition text")
        return composition_text
    if needs == COMPOSITION:
        return material.structure.composition
    if needs == STRUCTURE:
        return material.structure
    raise ValueError(f"unknown encoder input {needs!r}")
