"""Starter projects: pick a template of kind ``project`` and render it into a new folder."""

from __future__ import annotations

import keyword
import sys
from dataclasses import dataclass
from pathlib import Path

from labhooks.errors import LabhooksError
from labhooks.scaffold import repository
from labhooks.scaffold.context import base_context
from labhooks.scaffold.render import list_templates, missing_folders, render, template_info, validate_name
from labhooks.text import words_slug

# Import names a lab's project would shadow even where they are not installed yet: the
# starter projects' own dependencies and the libraries next to them.
WELL_KNOWN_IMPORTS = frozenset({
    "torch", "torchvision", "torchaudio", "torch_geometric", "lightning", "pytorch_lightning",
    "hydra", "omegaconf", "numpy", "scipy", "pandas", "polars", "sklearn", "matplotlib",
    "seaborn", "rdkit", "pymatgen", "matminer", "robocrys", "ase", "transformers",
    "tensorflow", "keras", "jax", "optuna", "mlflow", "tensorboard", "submitit", "wandb",
    "rich", "tqdm", "click", "yaml", "pytest", "labhooks", "pre_commit",
})


@dataclass
class ProjectResult:
    target: Path
    files: list[Path]
    git: repository.Repository
    message: str  # the first commit's subject


def available() -> list[tuple[str, str]]:
    return [(n, template_info(n)["description"]) for n in list_templates("project")]


def _is_installed(package: str) -> bool:
    """Whether ``import package`` finds something installed (the current folder aside:
    that is where the new project is going)."""
    import os
    from importlib.machinery import PathFinder

    here = os.getcwd()
    search = [p for p in sys.path if p and os.path.abspath(p) != here]
    return package in sys.builtin_module_names or PathFinder.find_spec(package, search) is not None


def package_name_for(name: str) -> str:
    """The Python package for project ``name``; refuses one Python could not import or
    that would hide another module (``src/torch/`` would shadow PyTorch)."""
    package = words_slug(name)
    if not package.isidentifier() or keyword.iskeyword(package):
        raise LabhooksError(
            f"cannot make a Python package name from {name!r} (got {package!r}): "
            "pass --name with letters, digits and underscores, not starting with a digit"
        )
    if package in sys.stdlib_module_names:
        shadowed = "the standard-library module"
    elif package in WELL_KNOWN_IMPORTS:
        shadowed = "the well-known library"
    elif _is_installed(package):
        shadowed = "the installed module"
    else:
        return package
    raise LabhooksError(
        f"the package name {package!r} (from {name!r}) would shadow {shadowed} {package!r}: "
        f"pass --name with another name, e.g. --name {package}_model"
    )


def new_project(
    template: str,
    target: Path,
    *,
    name: str | None = None,
    author: str | None = None,
    git: bool = True,
    dry_run: bool = False,
) -> ProjectResult:
    if template not in list_templates("project"):
        known = ", ".join(n for n, _ in available())
        raise LabhooksError(f"no starter project {template!r} (known: {known})")
    target = Path(target)
    validate_name(target.name, what="project folder name")
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise LabhooksError(f"{target} exists and is not empty: choose a new folder")
    name = name or target.resolve().name
    validate_name(name, what="project name")
    context = base_context(author=author)
    context.update(name=name, package=package_name_for(name), template=template)
    where = repository.plan(target, git=git)
    created = missing_folders(target)
    rendered = render(template, target, context, dry_run=dry_run, allow_existing_dir=False)
    result = ProjectResult(target, rendered.files, where, f"Start {name} from the {template} starter")
    if not dry_run:
        repository.record(where, target, rendered.files,
                          f"{result.message}\n\nScaffolded by labhooks new-project.", created)
    return result
