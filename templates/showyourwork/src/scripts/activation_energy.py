"""Write the fitted activation energy (kJ/mol) for \\variable{output/activation_energy.txt}.

Run by the ``activation_energy`` rule in the Snakefile (showyourwork or plain
snakemake), or by hand: ``python src/scripts/activation_energy.py``.
"""

import paths
from arrhenius import fit_arrhenius, load_rates

temperature, rate = load_rates(paths.data / "rates.csv")
fit = fit_arrhenius(temperature, rate)

target = paths.output / "activation_energy.txt"
target.parent.mkdir(parents=True, exist_ok=True)
target.write_text(f"{fit.activation_energy_kj_mol:.1f}\n", encoding="utf-8")
