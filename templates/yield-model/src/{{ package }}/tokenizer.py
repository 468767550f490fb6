"""Regex tokenizer for reaction SMILES with a vocabulary learned from training data."""

from __future__ import annotations

import re
from collections import Counter

import torch

PAD, CLS, UNK = "[PAD]", "[CLS]", "[UNK]"
SPECIALS = (PAD, CLS, UNK)

# Bracket atoms stay whole; two-letter organic-subset halogens before their one-letter
# prefixes; '>>' is one token; ring closures %nn are one token. The final '.'
# alternative catches any other single character, so tokens always re-join to the input.
_TOKEN_PATTERN = re.compile(
    r"\[[^\[\]]+\]|Cl|Br|>>|%\d\d|[BCNOPSFIbcnops]|[()=#\-+\\/:~@?>*$.]|\d|."
)


def tokenize(smiles: str) -> list[str]:
    return _TOKEN_PATTERN.findall(smiles)


class SmilesTokenizer:
    def __init__(self, tokens):
        self.itos = list(SPECIALS) + [t for t in tokens if t not in SPECIALS]
        self.stoi = {t: i for i, t in enumerate(self.itos)}

    @classmethod
    def build(cls, smiles_list, min_count: int = 1) -> "SmilesTokenizer":
        counts = Counter(t for s in smiles_list for t in tokenize(s))
        return cls(sorted(t for t, c in counts.items() if c >= min_count))

    @property
    def pad_id(self) -> int:
        return self.stoi[PAD]

    @property
    def cls_id(self) -> int:
        return self.stoi[CLS]

    @property
    def unk_id(self) -> int:
        return self.stoi[UNK]

    def __len__(self) -> int:
        return len(self.itos)

    def encode(self, smiles: str, max_len: int | None = None) -> list[int]:
        """[CLS] + token ids, truncated to ``max_len`` ids in all."""
        ids = [self.cls_id] + [self.stoi.get(t, self.unk_id) for t in tokenize(smiles)]
        return ids[:max_len] if max_len else ids

    def decode(self, ids) -> str:
        return "".join(self.itos[int(i)] for i in ids if int(i) not in (self.pad_id, self.cls_id))

    def encode_batch(self, smiles_list, max_len: int) -> torch.Tensor:
        """(n, L) ids padded with [PAD]; L is the longest encoded string, at most ``max_len``."""
        encoded = [self.encode(s, max_len) for s in smiles_list]
        width = max(len(e) for e in encoded)
        out = torch.full((len(encoded), width), self.pad_id, dtype=torch.long)
        for row, ids in enumerate(encoded):
            out[row, : len(ids)] = torch.tensor(ids, dtype=torch.long)
        return out

    def to_list(self) -> list[str]:
        return list(self.itos)
