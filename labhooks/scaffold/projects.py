"""Starter projects: pick a template of kind ``project`` and render it into a new folder."""

from __future__ import annotations

import keyword
from pathlib import Path

from labhooks.errors import LabhooksError
from labhooks.scaffold.context import base_context, python_package_name
from labhooks.scaffold.render import (
    RenderResult,
    list_templates,
    render,
    template_info,
    validate_name,
)


def available() -> list[tuple[str, str]]:
    return [(n, template_info(n)["description"]) for n in list_templates("project")]


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
) -> RenderResult:
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
    return render(template, target, context, dry_run=dry_run, allow_existing_dir=False)
