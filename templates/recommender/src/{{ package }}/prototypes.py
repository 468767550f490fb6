"""A deterministic library of textbook crystal prototypes with element substitutions.

It lets every step run with no downloaded data. Lattice constants are estimated from
atomic radii: good enough for the bonding analysis behind the descriptions, not for
anything quantitative.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

from .structures import Material

_ZB = 4.0 / math.sqrt(3.0)  # zinc blende, fluorite, Heusler: nearest neighbours at a*sqrt(3)/4


@dataclass(frozen=True)
class Prototype:
    name: str
    spacegroup: str
    # fractional coordinates of each Wyckoff site, in the order of the element tuples
    coords: tuple[tuple[float, float, float], ...]
    substitutions: tuple[tuple[str, ...], ...]
    # a = bond_factor * (atomic radius of site i + of site j), (i, j) = bond
    bond_factor: float
    bond: tuple[int, int] = (0, 1)
    lattice_kind: str = "cubic"  # cubic | hexagonal | tetragonal
    c_over_a: float = 1.0


PROTOTYPES: tuple[Prototype, ...] = (
    Prototype(
        "rock salt", "Fm-3m", ((0, 0, 0), (0.5, 0.5, 0.5)),
        (("Pb", "Te"), ("Pb", "Se"), ("Pb", "S"), ("Sn", "Te"), ("Ge", "Te"), ("Ca", "Te"),
         ("Sr", "Te"), ("Ba", "Te"), ("Na", "Cl"), ("K", "Cl"), ("Mg", "O"), ("Ca", "O"),
         ("Li", "F"), ("Ag", "Cl"), ("Sr", "S"), ("Ba", "Se")),
        bond_factor=2.0,
    ),
    Prototype(
        "zinc blende", "F-43m", ((0, 0, 0), (0.25, 0.25, 0.25)),
        (("Zn", "S"), ("Zn", "Se"), ("Zn", "Te"), ("Cd", "Te"), ("Hg", "Te"), ("Ga", "As"),
         ("In", "Sb"), ("Ga", "P"), ("Al", "As"), ("Cu", "Cl")),
        bond_factor=_ZB,
    ),
    Prototype(
        "wurtzite", "P6_3mc", ((1 / 3, 2 / 3, 0), (1 / 3, 2 / 3, 0.375)),
        (("Zn", "O"), ("Ga", "N"), ("Al", "N"), ("Cd", "S"), ("In", "N"), ("Be", "O")),
        bond_factor=math.sqrt(8.0 / 3.0), lattice_kind="hexagonal", c_over_a=1.633,
    ),
    Prototype(
        "cesium chloride", "Pm-3m", ((0, 0, 0), (0.5, 0.5, 0.5)),
        (("Cs", "Cl"), ("Cs", "Br"), ("Tl", "Cl"), ("Ni", "Al"), ("Fe", "Al"), ("Cu", "Zn")),
        bond_factor=2.0 / math.sqrt(3.0),
    ),
    Prototype(
        "fluorite", "Fm-3m", ((0, 0, 0), (0.25, 0.25, 0.25)),
        (("Ca", "F"), ("Sr", "F"), ("Ba", "F"), ("Ce", "O"), ("Zr", "O"), ("Hf", "O"),
         ("Cd", "F"), ("Pb", "F")),
        bond_factor=_ZB,
    ),
    Prototype(
        "perovskite", "Pm-3m", ((0.5, 0.5, 0.5), (0, 0, 0), (0.5, 0, 0)),
        (("Sr", "Ti", "O"), ("Ba", "Ti", "O"), ("Ca", "Ti", "O"), ("K", "Nb", "O"),
         ("La", "Al", "O"), ("Cs", "Pb", "I"), ("Cs", "Sn", "Br"), ("Sr", "Zr", "O")),
        bond_factor=2.0, bond=(1, 2),
    ),
    Prototype(
        # origin choice 1: A on 8a, B on 16d, X on 32e
        "spinel", "Fd-3m", ((0, 0, 0), (0.625, 0.625, 0.625), (0.3875, 0.3875, 0.3875)),
        (("Mg", "Al", "O"), ("Zn", "Al", "O"), ("Fe", "Cr", "O"), ("Co", "Co", "O"),
         ("Zn", "Ga", "O"), ("Mg", "Cr", "O")),
        bond_factor=4.19, bond=(1, 2),
    ),
    Prototype(
        "full Heusler", "Fm-3m", ((0.25, 0.25, 0.25), (0, 0, 0), (0.5, 0.5, 0.5)),
        (("Cu", "Mn", "Al"), ("Co", "Mn", "Si"), ("Fe", "V", "Al"), ("Ni", "Mn", "Ga"),
         ("Co", "Ti", "Sn"), ("Ni", "Mn", "Sn")),
        bond_factor=_ZB,
    ),
    Prototype(
        "half Heusler", "F-43m", ((0.25, 0.25, 0.25), (0, 0, 0), (0.5, 0.5, 0.5)),
        (("Ni", "Ti", "Sn"), ("Co", "Ti", "Sb"), ("Ni", "Zr", "Sn"), ("Fe", "Nb", "Sb"),
         ("Ni", "Hf", "Sn"), ("Co", "Nb", "Sn")),
        bond_factor=_ZB,
    ),
    Prototype(
        "rutile", "P4_2/mnm", ((0, 0, 0), (0.305, 0.305, 0)),
        (("Ti", "O"), ("Sn", "O"), ("Ru", "O"), ("Mn", "O"), ("Mg", "F"), ("Zn", "F")),
        bond_factor=2.3, lattice_kind="tetragonal", c_over_a=0.644,
    ),
)

# distinct stand-in elements, one per Wyckoff site, for the symmetry expansion
_PLACEHOLDERS = ("H", "He", "Li", "Be")


@lru_cache(maxsize=None)
def _unit_cell(prototype: Prototype):
    """The primitive cell for a = 1 with stand-in elements. Expanding a space group is
    slow in pymatgen, so it is done once per prototype and then relabelled and scaled."""
    from pymatgen.core import Lattice, Structure

    # built at a = 5 Å, where pymatgen's site-matching tolerances make sense, then scaled to 1
    a = 5.0
    lattice = {
        "cubic": lambda: Lattice.cubic(a),
        "hexagonal": lambda: Lattice.hexagonal(a, a * prototype.c_over_a),
        "tetragonal": lambda: Lattice.tetragonal(a, a * prototype.c_over_a),
    }[prototype.lattice_kind]()
    placeholders = list(_PLACEHOLDERS[: len(prototype.coords)])
    structure = Structure.from_spacegroup(prototype.spacegroup, lattice, placeholders,
                                          [list(c) for c in prototype.coords]).get_primitive_structure()
    return Structure(Lattice(structure.lattice.matrix / a), structure.species, structure.frac_coords)


def build(prototype: Prototype, elements: tuple[str, ...]):
    from pymatgen.core import Element, Lattice, Structure

    if len(elements) != len(prototype.coords):
        raise ValueError(f"{prototype.name} needs {len(prototype.coords)} elements, got {elements}")
    cell = _unit_cell(prototype)
    i, j = prototype.bond
    radius = [Element(e).atomic_radius or 1.5 for e in elements]
    a = prototype.bond_factor * (radius[i] + radius[j])
    mapping = dict(zip(_PLACEHOLDERS, elements))
    species = [mapping[site.specie.symbol] for site in cell]
    return Structure(Lattice(cell.lattice.matrix * a), species, cell.frac_coords)


def prototype_library(per_prototype: int | None = None, prototypes: list[str] | None = None) -> list[Material]:
    """All prototypes x their substitutions, always in the same order with the same ids.

    ``per_prototype`` keeps the first N substitutions of each prototype (small test
    libraries); ``prototypes`` keeps only the named ones.
    """
    wanted = set(prototypes) if prototypes else None
    if wanted:
        unknown = wanted - {p.name for p in PROTOTYPES}
        if unknown:
            raise ValueError(f"unknown prototypes {sorted(unknown)}; known: {[p.name for p in PROTOTYPES]}")
    materials = []
    for prototype in PROTOTYPES:
        if wanted and prototype.name not in wanted:
            continue
        for elements in prototype.substitutions[:per_prototype]:
            structure = build(prototype, elements)
            materials.append(
                Material(
                    id=f"{prototype.name.replace(' ', '-')}:{site_order_formula(elements, structure)}",
                    structure=structure,
                    properties=toy_properties(structure),
                    meta={"prototype": prototype.name, "source": "prototype"},
                )
            )
    return materials


def site_order_formula(elements: tuple[str, ...], structure) -> str:
    """The reduced formula with elements in Wyckoff-site order: PbTe, MgAl2O4, Cu2MnAl
    (pymatgen orders by electronegativity: TePb)."""
    reduced = structure.composition.reduced_composition
    parts = []
    for symbol in dict.fromkeys(elements):
        amount = reduced[symbol]
        parts.append(symbol + ("" if amount == 1 else f"{amount:g}"))
    return "".join(parts)


def toy_properties(structure) -> dict[str, float]:
    """Cheap, exactly reproducible targets so the ranker has something to learn without
    data: they are geometry and tabulated element data, not DFT properties."""
    comp = structure.composition
    electronegativities = [el.X for el in comp.elements if not math.isnan(el.X)]
    spread = max(electronegativities) - min(electronegativities) if electronegativities else float("nan")
    return {
        "density_g_cm3": float(structure.density),
        "volume_per_atom_a3": float(structure.volume / len(structure)),
        "electronegativity_spread": float(spread),
    }
