"""Starter projects: pick a template of kind ``project`` and render it into a new folder."""

from __future__ import annotations

import keyword
from pathlib import Path

from labhooks import scaffold
from labhooks.context import base_context, python_package_name
from labhooks.errors import LabhooksError


def available() -> list[tuple[str, str]]:
    return [(n, scaffold.template_info(n)["description"]) for n in scaffold.list_templates("project")]


def package_name_for(name: str) -> str:
    package = python_package_name(name)
    if not package.isidentifier() or keyword.iskeyword(package) or not package.isascii():
        raise LabhooksError(
            f"cannot make a Python package name from {name!r} (got {package!r}): "
            "pass --name with letters, digits and underscores, not starting with a digit"
        )
    return package


def new_project(
    template: str,
    target: Path,
    *,
    name: str | None = None,
    author: str | None = None,
    dry_run: bool = False,
) -> scaffold.RenderResult:
    if template not in scaffold.list_templates("project"):
        known = ", ".join(n for n, _ in available())
        raise LabhooksError(f"no starter project {template!r} (known: {known})")
    target = Path(target)
    scaffold.validate_name(target.name, what="project folder name")
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise LabhooksError(f"{target} exists and is not empty: choose a new folder")
    name = name or target.resolve().name
    scaffold.validate_name(name, what="project name")
    context = base_context(author=author)
    context.update(name=name, package=package_name_for(name), template=template)
    return scaffold.render(template, target, context, dry_run=dry_run, allow_existing_dir=False)
