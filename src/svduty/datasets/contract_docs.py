"""The feed contracts as a page for partner data officers (docs/contracts.md), from the code.

``python -m svduty.datasets.contract_docs > docs/contracts.md`` rewrites it; a test fails when it
drifts from the contracts.
"""

from __future__ import annotations

from svduty.datasets.contract import Column, Contract
from svduty.datasets.partners import FEEDS
from svduty.datasets.police_uk import KINDS

ROW_RULES = {
    "required": "an empty value where one is required",
    "type": "a value that is not of the column's type (number, True/False, ISO date)",
    "range": "a number outside the declared bounds",
    "format": "a value not matching the declared pattern",
    "allowed-value": "a value outside the declared list",
    "field-length": "a value longer than the declared maximum",
    "formula": "free text starting with =, +, -, @ or a control character (spreadsheet formula)",
    "check-digit": "an NHS number whose modulus 11 check digit is wrong",
    "field-count": "a row with more or fewer fields than the header",
    "encoding": "a row that is not valid UTF-8",
    "csv-syntax": "a row that is not valid CSV (an unclosed quote); the lines after it are re-read",
}
FILE_RULES = {
    "empty": "the file is empty",
    "no-rows": "the file has a header but no rows (loading it would empty a month)",
    "not-csv": "the file is binary or its first line is not text",
    "encoding": "the file is UTF-16 (save as UTF-8; a UTF-8 byte-order mark is accepted)",
    "header": "the header is not exactly the declared one (missing, extra, reordered or "
    "differently separated columns)",
    "file-name": "a file not named as police.uk names them whose rows do not say its month",
    "wrong-feed": "a partner file given as another feed (its header is that feed's)",
    "unknown-kind": "neither the file name nor the header says which feed the file is",
    "unsafe-path": "an archive member whose path leaves its folder (absolute, or with '..')",
    "too-large": "a file or archive member over 1 GiB",
    "not-zip": "a .zip that cannot be read",
    "not-found": "no such file or folder",
    "missing": "an extract given to `svduty link-files` that does not exist",
    "id-column": "an extract for `svduty link-files` without the id column named",
    "field-count": "an extract row with more or fewer fields than its header",
    "column": "a column to compare that is missing from one of the extracts",
    "id-empty": "an extract with records whose id is empty",
    "id-unique": "an extract whose ids repeat",
    "pair": "a ground-truth file of linked pairs whose row does not hold two ids",
    "review-header": "a clerical review file for `svduty link-review` without a column it needs",
    "review-label": "a clerical review row whose is_match is not 1 or 0 (or is empty)",
    "review-value": "a clerical review row whose probability, band, accepted or weight is unusable",
    "file-missing": "an interventions register, returns or proposals file that does not exist",
    "not-xlsx": "a register, returns or proposals .xlsx that cannot be read as a workbook",
    "missing-columns": "a register, returns or proposals file without a column it needs "
    "(docs/commissioning.md)",
}


def _checks(c: Column) -> str:
    parts = ["**identifier**"] if c.identifier else []
    if c.required:
        parts.append("required")
    if c.type != "string":
        parts.append(f"{c.type} ({c.format})" if c.format else c.type)
    if c.check:
        parts.append(f"{c.check[0]} check")
    if c.minimum is not None or c.maximum is not None:
        parts.append(f"{c.minimum} to {c.maximum}")
    if c.pattern:
        parts.append(f"matches `{c.pattern}`")
    if c.allowed:
        parts.append(f"one of {len(c.allowed)} values")
    if c.text:
        parts.append("no formula")
    parts.append(f"at most {c.max_length:,} characters")
    return "; ".join(parts)


def _contract(contract: Contract) -> list[str]:
    lines = [f"## `{contract.feed}`", "", contract.description + ".", ""]
    lines += ["| column | warehouse name | checks |", "|---|---|---|"]
    lines += [
        f"| {c.header} | `{c.name}` | {_checks(c).replace('|', chr(92) + '|')} |"
        for c in contract.columns
    ]
    lines.append("")
    if contract.rules:
        lines += ["Rules across columns:", ""]
        lines += [f"- `{r.name}` ({r.column}): {r.message}." for r in contract.rules]
        lines.append("")
    allowed = [c for c in contract.columns if c.allowed]
    for c in allowed:
        lines += [f"Values of {c.header}: " + "; ".join(sorted(c.allowed or ())) + ".", ""]
    return lines


def render() -> str:
    """The page, as Markdown."""
    lines = [
        "# Feed contracts",
        "",
        "Generated from the contracts in `src/svduty/datasets/` by",
        "`python -m svduty.datasets.contract_docs > docs/contracts.md`; a test fails on drift.",
        "",
        "A row that breaks any rule goes to quarantine, one entry per broken rule, with the file,",
        "the row (the line it starts on, the header being line 1), the column, the rule and a",
        "message; the rest of the file still loads. A file that cannot be read as the feed is",
        "refused whole, with its reason, and recorded in the load history.",
        "",
        "Row rules:",
        "",
        *[f"- `{k}`: {v}" for k, v in ROW_RULES.items()],
        "",
        "File rules (the whole file is refused):",
        "",
        *[f"- `{k}`: {v}" for k, v in FILE_RULES.items()],
        "",
    ]
    for kind in KINDS.values():
        lines += _contract(kind.contract)
    lines += [
        "# Partner feeds",
        "",
        "One file a month per feed, named `<feed>-YYYY-MM.csv`, loaded with",
        "`svduty ingest <feed> PATH... [--org ORG]`. Columns marked **identifier** are split off",
        "at ingestion, sealed in the linkage store and never stored in the warehouse; the record",
        "and person references are kept only as keyed pseudonyms (`record_key`, `person_key`),",
        "with the age at the event computed from the date of birth before it is dropped.",
        "",
    ]
    for feed in FEEDS.values():
        lines += _contract(feed.contract)
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":  # pragma: no cover
    print(render(), end="")
