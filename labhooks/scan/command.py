"""``labhooks scan``."""

import click

from labhooks.errors import LabhooksError


@click.command("scan")
@click.argument("revs", nargs=-1, metavar="[REV-RANGE]...")
@click.option("--all", "all_refs", is_flag=True, help="Every ref (the default).")
@click.option("--max", "max_size", metavar="SIZE",
              help="Only blobs of at least SIZE (e.g. 100M), and what stripping them would save.")
@click.option("--top", metavar="N", help="Show N rows (default 20; 0 = all; with --max: all).")
@click.option("--by", default="blob", show_default=True, metavar="blob|path|ext|dir|author",
              help="List blobs, or totals per path, extension, directory or author.")
@click.option("--format", "fmt", default="table", show_default=True, metavar="table|json|csv|html",
              help="Output format; json and csv are documented records (docs/scan.md); html is "
                   "one self-contained page with a treemap, growth over time and forge limits.")
@click.option("-o", "--output", metavar="FILE", help="Write the report to FILE (whole or not at all).")
@click.option("--force", is_flag=True, help="With -o: replace FILE if it exists.")
@click.option("--wide", is_flag=True, help="Tables show every column in full, however wide the terminal.")
@click.option("--progress/--no-progress", default=None,
              help="Show the walk's progress on stderr (default: when stderr is a terminal).")
@click.pass_obj
def command(obj, revs, all_refs, max_size, top, by, fmt, output, force, wide, progress):
    """Report where the weight in a history is: biggest blobs, where they came from, totals."""
    # Options are checked here and by scan(), not by click, so every bad input is one
    # line and exit 2.
    from labhooks.scan import render
    from labhooks.scan.core import scan
    from labhooks.scan.progress import WalkProgress
    from labhooks.sizes import parse_size

    if fmt not in render.FORMATS:
        raise LabhooksError(f"--format must be one of {', '.join(render.FORMATS)}, not {fmt!r}")
    if fmt == "html" and by != "blob":
        raise LabhooksError("--format html shows blobs and their folders: leave out --by")
    if force and output is None:
        raise LabhooksError("--force goes with -o FILE")
    top_rows = None
    if top is not None:
        if not top.strip().isdigit():
            raise LabhooksError(f"--top must be a whole number (0 = all), not {top!r}")
        top_rows = int(top)
    limit = parse_size(max_size) if max_size is not None else None
    mode = "auto" if progress is None else ("on" if progress else "off")
    early = (obj or {}).get("store_listing")  # started by the entry point, see labhooks.__main__
    with WalkProgress(mode) as on_progress:
        result = scan(revs, all_refs=all_refs, max_size=limit, top=top_rows, by=by,
                      on_progress=on_progress, store_listing=early, figures=fmt == "html")
    if output is not None:
        render.write_report_file(result, fmt, output, force)
    else:
        render.write_report(result, fmt, wide=wide)
    return 0
