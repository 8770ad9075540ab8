"""The ``svduty`` command line.

Every command takes the global ``--data-dir`` and ``--engine``. Errors svduty raises on purpose
become one line on stderr and exit code 1; quarantined rows are not errors.
"""

from __future__ import annotations

import csv
import json
import logging
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from svduty import __version__
from svduty.config import Settings
from svduty.errors import SvdutyError

app = typer.Typer(
    name="svduty",
    help="Data sharing, needs assessment and evaluation for Serious Violence Duty partnerships.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
reference_app = typer.Typer(help="Reference data: boundaries, lookups, population, deprivation.")
ingest_app = typer.Typer(help="Load partner extracts into the warehouse (validated, quarantined).")
app.add_typer(reference_app, name="reference")
app.add_typer(ingest_app, name="ingest")

out = Console()
err = Console(stderr=True)


class State:
    """What the global options set, for the commands."""

    settings: Settings


state = State()


def _version(value: bool) -> None:
    if value:
        print(f"svduty {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir", "-d", help="Data folder (default: $SVDUTY_DATA_DIR or ./svduty-data)."
        ),
    ] = None,
    engine: Annotated[
        str | None,
        typer.Option(help="Engine: duckdb (default, embedded) or spark.", show_default=False),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log each step.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """svduty: share partner data safely and assess serious violence."""
    overrides: dict[str, Any] = {}
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    if engine is not None:
        if engine not in ("duckdb", "spark"):
            raise typer.BadParameter("choose duckdb or spark", param_hint="--engine")
        overrides["engine"] = engine
    state.settings = Settings(**overrides)
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    for noisy in ("py4j", "pyspark"):
        logging.getLogger(noisy).setLevel(logging.ERROR)


def _connect() -> Any:
    from svduty.warehouse import connect

    return connect(state.settings)


def _print_json(obj: Any) -> None:
    print(json.dumps(obj, indent=2, default=str))


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )


@reference_app.command("load")
def reference_load(
    src: Annotated[
        Path, typer.Argument(help="Folder laid out as ONS/MHCLG publish (e.g. ../shared/data).")
    ],
) -> None:
    """Load LSOA 2021 boundaries, geography lookups, Census 2021 population and the IoD.

    Looks in SRC/geography, SRC/lookups, SRC/population and SRC/imd. The reference area is the
    LSOAs of the boundary file. All reference tables are replaced in one atomic step.
    """
    from svduty.reference import load_reference

    con = _connect()
    with err.status("Loading reference data..."):
        results = load_reference(con, src)
    table = Table("dataset", "file", "rows", title="Reference data loaded")
    for r in results:
        table.add_row(r.feed.removeprefix("reference-"), r.file_name, f"{r.rows_loaded:,}")
    out.print(table)


def _run_ingest(label: str, paths: list[Path], as_json: bool, load: Any) -> None:
    """Find files, load them with ``load(con, sources, refused, progress)``, report."""
    from svduty.ingest.sources import find_sources

    con = _connect()
    sources, refused = find_sources(paths)
    with _progress() as progress:
        task = progress.add_task(f"Loading {label} files", total=len(sources))

        def advance(_: Any) -> None:
            progress.advance(task)

        report = load(con, sources, refused, advance)
    if as_json:
        _print_json({"results": [r.as_json() for r in report.results], **report.totals()})
    else:
        table = Table("file", "status", "read", "loaded", "quarantined", "already present")
        for r in report.results:
            table.add_row(
                escape(r.file_name),
                r.status,
                f"{r.rows_read:,}",
                f"{r.rows_loaded:,}",
                f"{r.rows_quarantined:,}",
                f"{r.rows_already_present:,}",
            )
        t = report.totals()
        table.add_section()
        table.add_row(
            f"{len(report.results)} files",
            "",
            f"{t['rows_read']:,}",
            f"{t['rows_loaded']:,}",
            f"{t['rows_quarantined']:,}",
            f"{t['rows_already_present']:,}",
        )
        out.print(table)
        if t["rows_quarantined"]:
            out.print("Quarantined rows: [bold]svduty quarantine[/bold] lists them with reasons.")
    for r in report.refused:
        err.print(
            f"[red]refused:[/red] {escape(r.source)}: {escape(r.message)}",
            highlight=False,
            soft_wrap=True,
        )
    if report.refused:
        raise typer.Exit(1)


PathsArg = Annotated[
    list[Path], typer.Argument(help="CSV files, folders of them, or archives (.zip).")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the load results as JSON.")]


@ingest_app.command("police-uk")
def ingest_police_uk_cmd(paths: PathsArg, as_json: JsonOpt = False) -> None:
    """Load police.uk street, outcomes and stop-and-search files.

    Each row is checked against the declared contract; invalid rows go to quarantine with file,
    row, column, rule and message. Each file loads atomically, and loading the same file again
    adds nothing. Exits 1 if any file was refused as a whole (the others are still loaded).
    """
    from svduty.ingest.police_uk import ingest_police_uk

    _run_ingest("police.uk", paths, as_json, ingest_police_uk)


def _partner_command(name: str, description: str, org: str) -> Any:
    def command(
        paths: PathsArg,
        sender: Annotated[
            str, typer.Option("--org", help="The partner organisation sending the files.")
        ] = org,
        as_json: JsonOpt = False,
    ) -> None:
        from svduty.ingest.partners import ingest_feed

        def load(con: Any, sources: Any, refused: Any, progress: Any) -> Any:
            return ingest_feed(con, state.settings, name, sources, refused, sender, progress)

        _run_ingest(name, paths, as_json, load)

    command.__doc__ = (
        f"Load {description} extracts ({name}-YYYY-MM.csv, one a month).\n\n"
        "Rows are checked against the feed's contract (docs/contracts.md) and invalid ones\n"
        "quarantined. Direct identifiers never reach the warehouse: they are sealed in the\n"
        "linkage store, and the warehouse keeps keyed pseudonyms and the age at the event."
    )
    return command


def _register_partner_commands() -> None:
    from svduty.datasets.partners import FEEDS

    for feed in FEEDS.values():
        ingest_app.command(feed.name)(
            _partner_command(feed.name, feed.contract.description, feed.org)
        )


_register_partner_commands()


FromOpt = Annotated[
    str | None,
    typer.Option("--from", help="The first month (YYYY-MM); default: the first loaded."),
]
ToOpt = Annotated[
    str | None, typer.Option("--to", help="The last month (YYYY-MM); default: the last loaded.")
]
AreaOpt = Annotated[
    str | None,
    typer.Option(help="One partnership area or local authority (code or name); default: all."),
]
DefinitionOpt = Annotated[
    Path | None,
    typer.Option(help="A local definition of serious violence (TOML); default: svduty's."),
]
SeedOpt = Annotated[int, typer.Option(help="Random seed: the same seed, the same partnership.")]
YearsOpt = Annotated[int, typer.Option(min=1, max=10, help="Years of data from 2024-01.")]
ScaleOpt = Annotated[float, typer.Option(min=0.01, max=100.0, help="Multiplies every volume.")]


@app.command("synth")
def synth_cmd(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to write the partnership into.")],
    seed: SeedOpt = 1,
    years: YearsOpt = 2,
    scale: ScaleOpt = 1.0,
) -> None:
    """Write a synthetic partnership: reference files, one file a month per partner feed in
    each agency's export format, and truth/ (the true person behind every record, the planted
    effects). The names, dates of birth and NHS numbers in it are made up."""
    from svduty.synth import generate

    with err.status("Generating..."):
        summary = generate(out_dir, seed=seed, years=years, scale=scale)
    out.print(f"Synthetic partnership written to {escape(str(out_dir))}")
    _print_json(summary)


@app.command("demo")
def demo_cmd(
    seed: SeedOpt = 1,
    years: YearsOpt = 2,
    scale: ScaleOpt = 1.0,
) -> None:
    """Generate the synthetic partnership and load it, feed by feed, into the data folder.

    The generated files (made-up identifiers) stay outside the data folder and are deleted
    after loading; the data folder keeps the warehouse, the sealed linkage store and demo.json.
    People are then linked across the feeds (as svduty link does), for svduty cohorts.
    """
    from svduty.demo import run_demo

    con = _connect()
    with err.status("Demo partnership...") as status:
        record = run_demo(
            con, state.settings, seed, years, scale, step=lambda s: status.update(escape(s))
        )
    table = Table("feed", "read", "loaded", "quarantined", title="Demo partnership loaded")
    for name, t in record["feeds"].items():
        table.add_row(
            name, f"{t['rows_read']:,}", f"{t['rows_loaded']:,}", f"{t['rows_quarantined']:,}"
        )
    out.print(table)
    linked = record["linkage"]
    out.print(
        f"{linked['records']:,} person records linked into {linked['clusters']:,} people "
        f"({linked['seconds']:.1f} s).",
        highlight=False,
    )
    if record["refused"]:
        raise SvdutyError(f"{record['refused']} demo file(s) were refused: see svduty status")


@app.command("kinds")
def kinds_cmd(
    definition: DefinitionOpt = None,
    by_month: Annotated[bool, typer.Option("--by-month", help="One row per month too.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Serious violence by kind and source, under a local definition (docs/definition.md).

    Kinds overlap (a knife robbery is both), so the `all` row counts distinct records.
    """
    from svduty.analysis.definition import load_definition
    from svduty.analysis.kinds import counts_by_kind

    spec = load_definition(definition)
    rows = counts_by_kind(_connect(), spec, by=("month",) if by_month else ())
    if as_json:
        _print_json({"definition_version": spec.version, "counts": rows})
        return
    table = Table(
        "source", *(["month"] if by_month else []), "kind", "count",
        title=f"Serious violence by kind ({escape(spec.name)}, version {escape(spec.version)})",
    )  # fmt: skip
    for r in rows:
        month = [str(r["month"])[:7]] if by_month else []
        table.add_row(r["source"], *month, r["kind"], f"{r['count']:,}")
    out.print(table)


@app.command("forecast")
def forecast_cmd(
    definition: DefinitionOpt = None,
    month: Annotated[
        str | None,
        typer.Option(
            help="Forecast this month (YYYY-MM) from the data before it; default: the month "
            "after the data end."
        ),
    ] = None,
    area: AreaOpt = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print a JSON list of {lsoa, score}, highest first.")
    ] = False,
) -> None:
    """Expected serious violence in each LSOA next month, and how well such forecasts did.

    The score is the expected count of serious violence records (all kinds, all sources) in
    the month, from the months before it only (docs/forecast.md). Places only, never people.
    The table shows the top 20 and the backtest's Predictive Accuracy Index over the 6 months
    before the forecast month, with 5% of the land area selected by expected density.
    """
    import datetime as dt

    from svduty.analysis.definition import load_definition
    from svduty.analysis.forecast import NotEnoughHistory, backtest, forecast_details
    from svduty.analysis.scope import Scope, parse_month

    spec = load_definition(definition)
    target = parse_month(month) if month else None
    con = _connect()
    scope = Scope(area=area).resolve(con)
    with err.status("Forecasting..."):
        result = forecast_details(con, spec, target, scope)
    if as_json:
        _print_json([{"lsoa": r["lsoa"], "score": r["score"]} for r in result["lsoas"]])
        return
    where = f", {escape(scope.area_name)}" if scope.area_name else ""
    table = Table(
        "rank", "LSOA", "name", "expected", "per km²", "last month", "last 12 months",
        title=f"Expected serious violence, {result['month']}{where} (top 20)",
    )  # fmt: skip
    for rank, r in enumerate(result["lsoas"][:20], start=1):
        table.add_row(
            str(rank), r["lsoa"], escape(r["lsoa_name"]), f"{r['score']:.1f}",
            f"{r['density']:.1f}", f"{r['last_month']:,}", f"{r['last_12_months']:,}",
        )  # fmt: skip
    out.print(table)
    p = result["parameters"]
    out.print(
        f"{len(result['lsoas']):,} LSOAs, from {result['history']['first']} to "
        f"{result['history']['last']}; half-life {p['half_life']} month(s), recent weight "
        f"{p['recent_weight']}, long-run mean over up to {p['long_run_months']} months.",
        highlight=False,
    )
    first = dt.date.fromisoformat(result["month"] + "-01")
    before = Scope(scope.start, (first - dt.timedelta(days=1)).replace(day=1), scope.area)
    try:
        with err.status("Backtesting..."):
            test = backtest(con, spec, months=6, scope=before.resolve(con))
    except NotEnoughHistory as e:
        out.print(f"No backtest: {escape(str(e))}.", highlight=False)
        return
    rows = {r["method"]: r for r in test["summary"] if r["coverage"] == 0.05}
    if "forecast" in rows:
        out.print(
            f"Backtest, {test['months'][0]} to {test['months'][-1]}: PAI at 5% of the area "
            f"{rows['forecast']['pai']:.1f} (last 12 months' density "
            f"{rows['last_12_months_density']['pai']:.1f}, perfect foresight "
            f"{rows['perfect_foresight']['pai']:.1f}); PEI {rows['forecast']['pei']:.2f}.",
            highlight=False,
        )


@app.command("sna")
def sna_cmd(
    out_dir: Annotated[
        Path,
        typer.Option(
            "--out", help="The folder to write report.html, report.pdf and figures.json into."
        ),
    ],
    start: FromOpt = None,
    end: ToOpt = None,
    area: AreaOpt = None,
    public: Annotated[
        bool,
        typer.Option(
            "--public",
            help="The version for publication: no count from 1 to 4, no total that can be "
            "differenced back to a suppressed count.",
        ),
    ] = False,
    definition: DefinitionOpt = None,
    pdf: Annotated[
        bool, typer.Option("--pdf/--no-pdf", help="Print report.pdf with Chromium.")
    ] = True,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the paths written and the summary as JSON.")
    ] = False,
) -> None:
    """Write the Strategic Needs Assessment: report.html, report.pdf and figures.json.

    Which kinds of serious violence happen, trends with negative binomial intervals, where
    (rates, concentration, Gi* hotspots), when, who, risk factors, the Home Office success
    measures, data quality per partner and a place forecast with its backtest (docs/sna.md).
    The HTML is self-contained (charts and maps inline) and opens offline.
    """
    from svduty.analysis.definition import load_definition
    from svduty.analysis.scope import Scope
    from svduty.reports.sna import write_sna

    spec = load_definition(definition)
    scope = Scope.from_options(start, end, area)
    con = _connect()
    with err.status("Strategic Needs Assessment...") as status:
        written = write_sna(
            con, spec, scope, out_dir, public=public, pdf=pdf,
            step=lambda s: status.update(escape(s)),
        )  # fmt: skip
    if as_json:
        _print_json({k: str(v) for k, v in written.items()})
        return
    kind = "public " if public else ""
    out.print(f"The {kind}assessment is written:", highlight=False)
    for what, path in written.items():
        out.print(f"  {what:5} {escape(str(path))}", highlight=False)


@app.command("encode")
def encode_cmd(
    source: Annotated[
        str,
        typer.Argument(help="A person-level partner feed (police-crime, istv...) or 'csv'."),
    ],
    path: Annotated[Path, typer.Argument(help="The partner's file.", exists=True, dir_okay=False)],
    secret_file: Annotated[
        Path,
        typer.Option(
            "--secret-file",
            help="The partnership's linkage secret (32 bytes or more), kept outside the data.",
        ),
    ],
    out_file: Annotated[Path, typer.Option("--out", help="Where to write the encodings.")],
    id_column: Annotated[
        str | None,
        typer.Option("--id-column", help="With 'csv': the column of each record's reference."),
    ] = None,
    columns: Annotated[
        str | None,
        typer.Option(help="With 'csv': the columns to encode, comma-separated (default: all)."),
    ] = None,
) -> None:
    """Encode identifiers at the partner's site: keyed Bloom-filter encodings for the hub.

    Names, date of birth and postcode become keyed Bloom-filter encodings, exact identifiers
    and blocking keys keyed hashes: the file written holds no identifier, and only holders of
    the secret can make matching encodings (docs/privacy-preserving-linkage.md). Link encoded
    files with ``svduty link-files --mode encoded``. A feed's file also carries the feed's name
    and the partner's record (and person) references, so that the hub can attach each encoding
    to its own records and link all the feeds.
    """
    from svduty.datasets.partners import FEEDS
    from svduty.privacy.bloom import encode_feed_file, encode_file

    if source == "csv":
        if not id_column:
            raise typer.BadParameter("--id-column is needed with 'csv'", param_hint="--id-column")
        chosen: list[str] | None = (
            [c.strip() for c in columns.split(",") if c.strip()] if columns else None
        )
        out_file.parent.mkdir(parents=True, exist_ok=True)
        rows = encode_file(path, out_file, id_column, secret_file, chosen)
    elif source in FEEDS and FEEDS[source].person_level:
        # the feed's name and its record (and person) references travel with the encodings, so
        # that the hub can attach them to its rows (`svduty link --mode encoded`)
        out_file.parent.mkdir(parents=True, exist_ok=True)
        rows = encode_feed_file(source, path, out_file, secret_file)
    else:
        known = ", ".join(n for n, f in FEEDS.items() if f.person_level)
        raise typer.BadParameter(f"{source!r}: use 'csv' or a person-level feed: {known}")
    out.print(f"{rows:,} records encoded into {escape(str(out_file))}", highlight=False)


@app.command("link-files")
def link_files_cmd(
    files: Annotated[
        list[Path],
        typer.Argument(
            help="One file to deduplicate, or two to link.", exists=True, dir_okay=False
        ),
    ],
    out_file: Annotated[
        Path, typer.Option("--out", help="Where to write the pairs (id_l,id_r,match_probability).")
    ],
    id_column: Annotated[
        str | None,
        typer.Option("--id-column", help="The column of each record's id (trusted mode)."),
    ] = None,
    columns: Annotated[
        str | None,
        typer.Option(help="The columns to compare, comma-separated (default: all but the id)."),
    ] = None,
    threshold: Annotated[
        float, typer.Option(help="The lowest match probability written.", min=0.0, max=1.0)
    ] = 0.5,
    mode: Annotated[
        str, typer.Option(help="'trusted' (identifiers) or 'encoded' (from svduty encode).")
    ] = "trusted",
    clusters_file: Annotated[
        Path | None, typer.Option("--clusters", help="Also write the person table (clusters).")
    ] = None,
    model_file: Annotated[
        Path | None,
        typer.Option(
            "--model", help="Trusted mode: also write the model and its quality estimates (JSON)."
        ),
    ] = None,
    review: Annotated[
        int | None,
        typer.Option(
            help="Also draw this many pairs for clerical review, by match-probability band.",
            min=1,
        ),
    ] = None,
    review_out: Annotated[
        Path | None,
        typer.Option("--review-out", help="Where to write the review sample (with --review)."),
    ] = None,
) -> None:
    """Link two extracts, or deduplicate one: a Fellegi-Sunter model trained without labels.

    Writes one row per pair judged a match or near-match, ``id_l,id_r,match_probability``,
    from ``--threshold`` up (docs/linkage.md). ``--mode encoded`` links files of keyed
    Bloom-filter encodings made by ``svduty encode``, never seeing a name. ``--review N
    --review-out FILE`` writes a clerical review sample to label and read back with
    ``svduty link-review`` (docs/linkage-quality.md).
    """
    from svduty.linkage.review import SCORED_FLOOR, estimate_quality, review_sample, write_review

    if len(files) not in (1, 2):
        raise typer.BadParameter("give one file (deduplication) or two (linkage)")
    if (review is None) != (review_out is None):
        raise typer.BadParameter("give --review N and --review-out FILE together")
    right = files[1] if len(files) == 2 else None
    floor = min(SCORED_FLOOR, threshold)
    if mode == "trusted":
        from svduty.linkage.files import (
            link_files,
            read_extract,
            write_clusters,
            write_model,
            write_pairs,
        )
        from svduty.linkage.review import with_record_values

        if not id_column:
            raise typer.BadParameter("--id-column is needed", param_hint="--id-column")
        chosen = [c.strip() for c in columns.split(",") if c.strip()] if columns else None
        with err.status("Linking..."):
            result = link_files(files[0], right, id_column, chosen, threshold)
        write_pairs(result, out_file)
        pairs = result.pairs
        if clusters_file:
            write_clusters(result, clusters_file)
        if model_file:
            write_model(result, model_file)
        estimates = result.estimates
        if review is not None and review_out is not None and result.scored is not None:
            sample = review_sample(result.scored, review, threshold, floor)
            frames = [read_extract(f, id_column) for f in files]
            sample = with_record_values(
                sample, frames[0], frames[1] if right else None, id_column, list(result.columns)
            )
            write_review(sample, review_out)
    elif mode == "encoded":
        from svduty.linkage.encoded import link_encoded

        if model_file:
            raise typer.BadParameter("--model is for trusted mode", param_hint="--model")
        with err.status("Linking encodings..."):
            # for review, every pair from the floor up: the model does not depend on threshold
            scored, clusters = link_encoded(files[0], right, floor if review else threshold)
            if review and clusters_file and floor < threshold:
                _, clusters = link_encoded(files[0], right, threshold)
        scored = scored[["id_l", "id_r", "match_probability"]]
        pairs = scored[scored["match_probability"] >= threshold]
        out_file.parent.mkdir(parents=True, exist_ok=True)
        pairs.to_csv(out_file, index=False)
        if clusters_file:
            clusters.to_csv(clusters_file, index=False)
        estimates = None
        if review is not None and review_out is not None:
            estimates = estimate_quality(scored["match_probability"], threshold, floor)
            write_review(review_sample(scored, review, threshold, floor), review_out)
    else:
        raise typer.BadParameter(f"{mode!r}: use 'trusted' or 'encoded'", param_hint="--mode")
    out.print(f"{len(pairs):,} pairs written to {escape(str(out_file))}", highlight=False)
    if estimates and estimates["precision"] is not None:
        out.print(
            f"Model estimates (no labels): precision {estimates['precision']:.4f}, recall "
            f"{estimates['recall']:.4f} among candidate pairs (docs/linkage-quality.md).",
            highlight=False,
        )
    if review_out is not None:
        out.print(
            f"Review sample written to {escape(str(review_out))}: fill is_match with 1 or 0, "
            "then run svduty link-review on it.",
            highlight=False,
        )


@app.command("link-review")
def link_review_cmd(
    path: Annotated[
        Path, typer.Argument(help="The review sample, is_match filled in.", dir_okay=False)
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the estimates as JSON.")] = False,
) -> None:
    """Precision and recall from a labelled clerical review sample, with 95% intervals.

    Reads the file ``svduty link-files --review N --review-out FILE`` wrote, once an analyst
    has set ``is_match`` to 1 (same person) or 0 (different people) on every row, and estimates
    precision per match-probability band and overall, and recall among the scored pairs,
    weighting each pair by its sampling weight (docs/linkage-quality.md).
    """
    from svduty.linkage.review import read_review, review_quality

    quality = review_quality(read_review(path))
    if as_json:
        _print_json(quality)
        return

    def interval(q: dict[str, Any]) -> str:
        if q["estimate"] is None:
            return "no pair to estimate it from"
        return f"{q['estimate']:.4f} (95% CI {q['low']:.4f} to {q['high']:.4f})"

    table = Table(title=f"Clerical review: {quality['labelled']:,} pairs labelled")
    for name in ("band", "accepted", "pairs", "labelled", "matches", "share matching", "95% CI",
                 "mean model p"):  # fmt: skip
        table.add_column(name, justify="left" if name == "band" else "right")
    for b in quality["bands"]:
        table.add_row(
            escape(b["band"]), "yes" if b["accepted"] else "no", f"{b['pairs']:,.0f}",
            str(b["labelled"]), str(b["matches"]), f"{b['precision']:.3f}",
            f"{b['low']:.3f}-{b['high']:.3f}", f"{b['mean_probability']:.3f}",
        )  # fmt: skip
    out.print(table)
    out.print(f"Precision: {interval(quality['precision'])}", highlight=False)
    out.print(f"Recall among the scored pairs: {interval(quality['recall'])}", highlight=False)
    if quality["f1"] is not None:
        out.print(f"F1: {quality['f1']:.4f}", highlight=False)


@app.command("link")
def link_cmd(
    threshold: Annotated[
        float,
        typer.Option(help="The match probability from which two records are one person."),
    ] = 0.9,
    engine: Annotated[
        str | None,
        typer.Option(
            "--engine",
            help="Score the pairs on duckdb or spark (default: the data folder's engine).",
            show_default=False,
        ),
    ] = None,
    new_only: Annotated[
        bool,
        typer.Option(
            "--new-only",
            help="Link only the records not yet linked, with the saved model (incremental).",
        ),
    ] = False,
    mode: Annotated[
        str,
        typer.Option(
            help="'trusted' (the sealed identifiers of the linkage store) or 'encoded' (the "
            "partners' files of svduty encode, given with --encodings)."
        ),
    ] = "trusted",
    encodings: Annotated[
        list[Path] | None,
        typer.Option(
            "--encodings",
            help="With --mode encoded: a file of encodings, or a folder of them (repeatable).",
            exists=True,
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Link people across the partner feeds, inside the linkage store.

    Splink (trained without labels) links the person records of every person-level feed by
    their sealed identifiers, and writes to the warehouse table person_links a stable
    pseudonymous person key for every record; nothing else leaves the linkage store. People
    already linked keep their keys when new months arrive. With --new-only, only the pairs
    with a new record are scored, with the model the last full run saved; known people are
    never split, so relink in full now and then (docs/linkage.md).

    With --mode encoded, the hub links the partners' keyed Bloom-filter encodings (svduty
    encode FEED FILE, run at each partner) and never sees a name
    (docs/privacy-preserving-linkage.md).
    """
    if mode not in ("trusted", "encoded"):
        raise typer.BadParameter(f"{mode!r}: use 'trusted' or 'encoded'", param_hint="--mode")
    if (mode == "encoded") != bool(encodings):
        raise typer.BadParameter(
            "--encodings goes with --mode encoded, and --mode encoded needs it",
            param_hint="--encodings",
        )
    if mode == "encoded":
        if new_only or engine:
            raise typer.BadParameter(
                "--new-only and --engine are for the trusted mode", param_hint="--mode"
            )
        from svduty.linkage.people_encoded import link_people_encoded

        con = _connect()
        with err.status("Linking the partners' encodings..."):
            summary = link_people_encoded(con, state.settings, encodings or [], threshold)
        if as_json:
            _print_json(summary)
            return
        out.print(
            f"{summary['encodings']:,} encodings from {summary['files']} files linked "
            f"{summary['records']:,} person records into {summary['clusters']:,} people "
            f"(threshold {threshold}; {summary['seconds']:.1f} s); keys in the warehouse table "
            "person_links.",
            highlight=False,
        )
        missing = summary["records_without_encoding"] + summary["unmatched_encodings"]
        if missing:
            err.print(
                f"{summary['records_without_encoding']:,} warehouse records had no encoding and "
                f"{summary['unmatched_encodings']:,} encodings matched no loaded record: "
                "encode and load the same files.",
                highlight=False,
            )
        return
    from svduty.linkage.people import link_people

    chosen = engine or state.settings.engine or "duckdb"
    if chosen not in ("duckdb", "spark"):
        raise typer.BadParameter("choose duckdb or spark", param_hint="--engine")
    con = _connect()
    with err.status("Linking people across feeds..."):
        summary = link_people(con, state.settings, threshold, engine=chosen, incremental=new_only)
    if as_json:
        _print_json(summary)
        return
    if summary["mode"] == "incremental":
        how = (
            f"{summary['new_records']:,} new records linked incrementally "
            f"({summary['pairs_scored']:,} pairs scored); "
        )
    elif summary["fallback"]:
        how = f"linked in full ({summary['fallback']}); "
    else:
        how = ""
    out.print(
        f"{how}{summary['records']:,} person records from {len(summary['feeds'])} feeds linked "
        f"into {summary['clusters']:,} people (threshold {threshold}; {chosen}; "
        f"{summary['seconds']:.1f} s); keys in the warehouse table person_links.",
        highlight=False,
    )


@app.command("cohorts")
def cohorts_cmd(
    start: FromOpt = None,
    end: ToOpt = None,
    area: AreaOpt = None,
    definition: DefinitionOpt = None,
    lookback: Annotated[
        int, typer.Option(help="Months of contacts counted before a first knife offence.", min=1)
    ] = 12,
    public: Annotated[
        bool,
        typer.Option("--public", help="Apply the disclosure control of the public assessment."),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
) -> None:
    """Count people across agencies: repeat victims and suspects, victims who are also
    suspects, and what agencies knew of under-25s before their first knife offence.

    People are counted by the person keys of svduty link (run it first); no name is used, and
    no person is scored (docs/cohorts.md). With --public, no count from 1 to 4 is shown.
    """
    from svduty.analysis.cohorts import cohorts
    from svduty.analysis.definition import load_definition
    from svduty.analysis.scope import Scope

    spec = load_definition(definition)
    con = _connect()
    scope = Scope.from_options(start, end, area).resolve(con)
    with err.status("Counting people across agencies..."):
        figures = cohorts(con, spec, scope, lookback=lookback)
    if public:
        from svduty.reports.public import public_cohorts

        figures = public_cohorts(figures)
    if as_json:
        _print_json(figures)
        return
    if not figures.get("available"):
        out.print(escape(figures["note"]), highlight=False)
        raise typer.Exit(0)
    _print_cohorts(figures)


def _count(value: Any) -> str:
    return "*" if value is None else f"{value:,}"


def _pct(value: Any) -> str:
    return "*" if value is None else f"{100 * value:.0f}%"


def _print_cohorts(f: dict[str, Any]) -> None:
    from rich.table import Table

    out.print(f"{_count(f['people'])} linked people with records in the period.", highlight=False)
    t = Table(title="Repeat victims and suspects of serious violence")
    for h in ("Group", "People", "Two or more", "Share"):
        t.add_column(h, justify="left" if h == "Group" else "right")
    for r in f["repeats"]:
        t.add_row(
            escape(r["label"]), _count(r["people"]), _count(r["people_repeat"]),
            _pct(r["share_repeat"]),
        )  # fmt: skip
    out.print(t)
    t = Table(title="Victims who are also suspects")
    for h in ("Age", "Victims", "Suspects", "Both"):
        t.add_column(h, justify="left" if h == "Age" else "right")
    for r in f["victim_suspects"]:
        t.add_row(r["group"], _count(r["victims"]), _count(r["suspects"]), _count(r["people"]))
    out.print(t)
    k = f["knife_under_25"]
    t = Table(
        title=f"{_count(k['people'])} under-25s at their first knife offence: known in the "
        f"{k['lookback_months']} months before"
    )
    for h in ("Contact", "People", "Share", "Median months before"):
        t.add_column(h, justify="left" if h == "Contact" else "right")
    for r in k["known_before"]:
        months = r.get("median_months")
        t.add_row(
            escape(r["label"]), _count(r["people"]), _pct(r["share"]),
            "-" if months is None else f"{months:.1f}",
        )  # fmt: skip
    out.print(t)
    t = Table(title="The order in which agencies met them")
    t.add_column("Pathway")
    t.add_column("People", justify="right")
    for r in k["pathways"]:
        t.add_row(escape(r["pathway"]), _count(r["people"]))
    out.print(t)


@app.command("status")
def status_cmd(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """What is loaded, by feed and month, with quarantine counts and coverage checks."""
    from svduty.ingest.status import status

    con = _connect()
    s = status(con)
    if as_json:
        _print_json(s)
        return
    if not s["loads"]:
        out.print("The warehouse is empty: run [bold]svduty ingest police-uk PATH[/bold].")
    table = Table("feed", "month", "rows", "quarantined", title="Loaded, by feed and month")
    for r in s["loads"]:
        table.add_row(r["feed"], r["month"], f"{r['rows']:,}", f"{r['quarantined']:,}")
    out.print(table)
    cov = Table(
        "feed",
        "sender",
        "months",
        "missing",
        "unusual",
        "no location",
        "outside area",
        title="Coverage",
    )
    for c in s["coverage"]:
        outside = c.get("share_outside_reference_area")
        cov.add_row(
            c["feed"],
            c["org"],
            f"{c['first_month']} to {c['last_month']}",
            ", ".join(c["missing_months"]) or "none",
            ", ".join(f"{u['month']} ({u['rows']:,})" for u in c["unusual_months"]) or "none",
            f"{c['share_without_location']:.1%}" if "share_without_location" in c else "",
            "no reference data"
            if "share_without_lsoa" in c and outside is None
            else (f"{outside:.2%}" if outside is not None else "n/a"),
        )
    out.print(cov)
    if s["quarantine"]:
        q = Table("feed", "rule", "entries", "files", title="Quarantine by rule")
        for r in s["quarantine"]:
            q.add_row(r["feed"], r["rule"], f"{r['entries']:,}", f"{r['files']:,}")
        out.print(q)
    ref = s["reference"]
    out.print(
        f"Reference: {ref['ref_lsoa']:,} LSOAs in the area, {ref['ref_population']:,} population "
        f"rows, {ref['ref_imd']:,} deprivation rows."
        if ref["ref_lsoa"]
        else "Reference data: not loaded (svduty reference load DIR)."
    )


@app.command("quarantine")
def quarantine_cmd(
    feed: Annotated[str | None, typer.Option(help="Only this feed.")] = None,
    rule: Annotated[str | None, typer.Option(help="Only this rule.")] = None,
    limit: Annotated[int, typer.Option(help="Most entries to list (0: all).")] = 50,
    export: Annotated[
        Path | None, typer.Option(help="Write all matching entries, raw records too, to a CSV.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Rows refused by validation: counts by rule, then file, row, column, rule and reason."""
    from svduty.datasets.csvfile import neutralise
    from svduty.ingest.status import quarantine_by_rule, quarantine_entries

    con = _connect()
    counts = quarantine_by_rule(con)
    if feed:
        counts = [c for c in counts if c["feed"] == feed]
    if rule:
        counts = [c for c in counts if c["rule"] == rule]
    if export is not None:
        rows = quarantine_entries(con, feed, rule, None)
        with open(export, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            cols = ["feed", "org", "month", "source", "row", "column", "rule", "message", "raw"]
            w.writerow(cols)
            for r in rows:
                w.writerow([neutralise(r[c]) for c in cols])
        err.print(f"{len(rows):,} entries written to {export}")
    entries = quarantine_entries(con, feed, rule, limit or None)
    for e in entries:
        e.pop("raw", None)
    if as_json:
        _print_json({"by_rule": counts, "entries": entries})
        return
    if not counts:
        out.print("Nothing is in quarantine.")
        return
    t = Table("feed", "rule", "entries", "files", title="Quarantine by rule")
    for c in counts:
        t.add_row(c["feed"], c["rule"], f"{c['entries']:,}", f"{c['files']:,}")
    out.print(t)
    e_table = Table("file", "row", "column", "rule", "message")
    e_table.columns[0].overflow = "fold"
    for e in entries:
        e_table.add_row(
            escape(e["source"]), str(e["row"]), escape(e["column"]), e["rule"], escape(e["message"])
        )
    out.print(e_table)


# The command groups that register themselves on ``app``.
from svduty import (  # noqa: E402,F401
    cli_commissioning,  # interventions, funding
    cli_evaluate,  # evaluate
    cli_monitoring,  # monitoring report
    cli_platform,  # users, orgs, agreements, audit, retention, serve
)


def run() -> None:
    """Entry point that turns svduty's errors into one line and exit code 1."""
    try:
        app()
    except SvdutyError as e:
        err.print(f"[red]error:[/red] {escape(str(e))}", highlight=False, soft_wrap=True)
        sys.exit(1)


if __name__ == "__main__":  # pragma: no cover
    run()
