"""``tandem mapping``: check mapping files, and preview what one makes of a sample record."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
import xmltodict

import mappings
from canonical.errors import InvalidRecord
from mappings.engine import FROM_CANONICAL, CompiledMapping, compile_file
from mappings.engine.check import check_file, check_tree
from mappings.engine.yamlio import DataFileError, read_yaml

MAPPINGS_ROOT = Path(mappings.__file__).parent

mapping_app = typer.Typer(
    help="Mapping files: check them, preview one on a sample record", no_args_is_help=True
)


@mapping_app.command("check")
def check(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="files or directories (default: every mapping Tandem ships)"),
    ] = None,
) -> None:
    """Check every mapping file, value map and part; exit 1 listing the problems."""
    files: list[Path] = []
    problems: list[str] = []
    for root in paths or [MAPPINGS_ROOT]:
        if not root.exists():
            typer.echo(f"error: {root} does not exist", err=True)
            raise typer.Exit(2)
        found, wrong = check_tree(root)
        files += found
        problems += [str(p) for p in wrong]
    for problem in problems:
        typer.echo(problem)
    if problems:
        typer.echo(f"{len(problems)} problem(s) in {len(files)} file(s)", err=True)
        raise typer.Exit(1)
    typer.echo(f"{len(files)} file(s) checked, no problems")


def _read_sample(path: Path) -> Any:
    suffix = path.suffix.lower()
    try:
        if suffix == ".xml":
            parsed = xmltodict.parse(path.read_bytes(), disable_entities=True)
            return next(iter(parsed.values())) if len(parsed) == 1 else parsed
        if suffix in (".yaml", ".yml"):
            return read_yaml(path)
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, DataFileError) as exc:  # xmltodict/json errors are ValueErrors
        raise ValueError(f"{path}: cannot be read as a sample record ({exc})") from exc


def _params(pairs: list[str]) -> dict[str, str]:
    params: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise typer.BadParameter(f"{pair!r}: write NAME=VALUE", param_hint="--param")
        params[name] = value
    return params


def _preview(mapping: CompiledMapping, sample: Any, params: dict[str, str]) -> dict[str, Any]:
    record = sample
    if mapping.direction == FROM_CANONICAL and isinstance(sample, dict):
        record = mapping.model.model_validate(sample)
    outcome = mapping.run(record, params)
    if mapping.direction == FROM_CANONICAL:
        if outcome.errors:
            raise mapping.invalid(record, outcome.errors)
        return {"key": outcome.key, "record": outcome.values}
    model, errors = mapping.finish(outcome)
    if model is None:
        raise mapping.invalid(record, errors)
    return {"key": outcome.key, "record": model.model_dump(mode="json", exclude_none=True)}


@mapping_app.command("preview")
def preview(
    mapping_file: Annotated[Path, typer.Argument(help="a *.to_canonical / *.from_canonical file")],
    sample_file: Annotated[Path, typer.Argument(help="a sample record: .json, .xml or .yaml")],
    param: Annotated[
        list[str] | None, typer.Option("--param", "-p", help="a mapping parameter, NAME=VALUE")
    ] = None,
) -> None:
    """Print what MAPPING_FILE makes of SAMPLE_FILE, or every error naming the field.

    The mapping file is checked first, as ``tandem mapping check`` checks it: a mistake in it
    (a canonical field that does not exist...) is reported as such, before the sample is read.
    """
    if not mapping_file.is_file():
        typer.echo(f"error: {mapping_file} does not exist", err=True)
        raise typer.Exit(2)
    problems = [str(p) for p in check_file(mapping_file)]
    compiled, compile_problems = compile_file(mapping_file.resolve())
    if compiled is None and not problems:
        problems = [f"{mapping_file}: {problem}" for problem in compile_problems]
    if problems or compiled is None:
        for problem in problems:
            typer.echo(problem, err=True)
        typer.echo(f"{len(problems)} problem(s) in {mapping_file}; nothing previewed", err=True)
        raise typer.Exit(1)
    try:
        result = _preview(compiled, _read_sample(sample_file), _params(param or []))
    except ValueError as exc:  # InvalidRecord is not one; pydantic's ValidationError is
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    except InvalidRecord as exc:
        what = " ".join(p for p in (exc.source, exc.entity, exc.record_id or "<no id>") if p)
        typer.echo(f"{what}: {len(exc.errors)} error(s)", err=True)
        for error in exc.errors:
            typer.echo(f"  {error}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(json.dumps(result, indent=2, ensure_ascii=False, default=str))
