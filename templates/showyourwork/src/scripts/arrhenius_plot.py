"""Draw the Arrhenius plot of Figure 1 (ms.tex links it with \\script{arrhenius_plot.py}).

showyourwork runs this script to make src/tex/figures/arrhenius.pdf; so can you:
``python src/scripts/arrhenius_plot.py``.
"""

import matplotlib

import paths

# The rc file is read explicitly: matplotlib only looks for one in the working directory.
matplotlib.rc_file(paths.scripts / "matplotlibrc")

import matplotlib.pyplot as plt  # noqa: E402  (after the backend is chosen)
import numpy as np  # noqa: E402

from arrhenius import fit_arrhenius, load_rates  # noqa: E402

temperature, rate = load_rates(paths.data / "rates.csv")
fit = fit_arrhenius(temperature, rate)

inverse_t = 1000.0 / temperature
line_t = np.linspace(inverse_t.min(), inverse_t.max(), 50)

fig, ax = plt.subplots(figsize=(3.4, 2.6))
ax.plot(inverse_t, np.log(rate), "o", label="measured")
ax.plot(line_t, fit.intercept + fit.slope * line_t / 1000.0, "-",
        label=f"fit, $E_a$ = {fit.activation_energy_kj_mol:.1f} kJ/mol")
ax.set_xlabel(r"$1000 / T$ (K$^{-1}$)")
ax.set_ylabel(r"$\ln(k\,/\,\mathrm{s}^{-1})$")
ax.legend(frameon=False)

paths.figures.mkdir(parents=True, exist_ok=True)
# No creation date in the file: the same data make the same PDF, byte for byte.
fig.savefig(paths.figures / "arrhenius.pdf", metadata={"CreationDate": None})
