"""The linkage model behind :func:`svduty.linkage.files.link_files`: what each column is, how it is
compared, which pairs are scored and which train the model.

A column's *kind* is inferred from its name first (``surname``, ``date_of_birth``, ``postcode``)
and then from its content (all digits, few distinct values). Each kind has one Splink comparison
(:data:`COMPARISONS`), and the kinds decide the blocking rules: several rules over different
columns, so that a typo in one column does not lose a true pair, each kept under
:data:`MAX_PAIRS_PER_RULE` candidate pairs by adding a column when it would produce more.

Notes:
    The model is Fellegi and Sunter's (1969, "A theory for record linkage", JASA 64:1183-1210) as
    Splink implements it: u probabilities from random pairs, m probabilities by expectation
    maximisation on blocked pairs (Winkler 1988, "Using the EM algorithm for weight computation
    in the Fellegi-Sunter model of record linkage", Proceedings of the Section on Survey Research
    Methods, American Statistical Association), no labels needed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
import splink.comparison_library as cl
from splink import block_on

MAX_PAIRS_PER_RULE = 5_000_000  # a rule that would score more candidate pairs is narrowed
CATEGORY_MAX_VALUES = 30  # a column whose 30 commonest values are 95% of all is a category

_DATE_PATTERNS = (
    re.compile(r"^\d{4}-\d{2}-\d{2}$"),
    re.compile(r"^(1[89]|20)\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])$"),  # yyyymmdd
    re.compile(r"^\d{1,2}[/.-]\d{1,2}[/.-]\d{4}$"),
)
_NAME_TOKENS = {
    "forename": {"given", "first", "forename", "forenames", "fname", "christian", "middle"},
    "surname": {"surname", "last", "family", "lname", "lastname", "familyname"},
    "name": {"name", "fullname"},
}
_ADDRESS_TOKENS = {
    "address", "addr", "street", "road", "suburb", "town", "city", "locality", "district",
    "county", "village", "line", "house", "building", "flat",
}  # fmt: skip
_IDENTIFIER_TOKENS = {"nhs", "ssn", "nino", "pnc", "upn", "uln", "passport", "licence"}

#: The comparison each kind of column gets, and the words the docs use for it.
COMPARISONS: dict[str, str] = {
    "forename": "name: exact, Jaro-Winkler >= 0.92, 0.88, 0.7 (term-frequency adjusted)",
    "surname": "name: exact, Jaro-Winkler >= 0.92, 0.88, 0.7 (term-frequency adjusted)",
    "name": "name: exact, Jaro-Winkler >= 0.92, 0.88, 0.7 (term-frequency adjusted)",
    "date": "date as text: exact, Damerau-Levenshtein <= 1, <= 2",
    "postcode": "postcode without spaces: exact, Damerau-Levenshtein <= 1, <= 2",
    "identifier": "long number: exact, Damerau-Levenshtein <= 1, <= 2",
    "number": "short number: exact or not",
    "address": "address text: exact, Jaro-Winkler >= 0.9, 0.7",
    "category": "category: exact or not",
    "text": "text: exact, Jaro-Winkler >= 0.9, 0.7",
}


def _tokens(column: str) -> set[str]:
    return {t for t in re.split(r"[^a-z0-9]+", column.lower()) if t}


def _share(values: pd.Series, pattern: str) -> float:
    return float(values.str.fullmatch(pattern).mean()) if len(values) else 0.0


def looks_like_dates(values: pd.Series) -> bool:
    """Whether nearly all (95%) of the non-empty values are dates written in a common way.

    Examples:
        >>> looks_like_dates(pd.Series(["1990-01-31", "19851207", "02/03/1970"]))
        True
        >>> looks_like_dates(pd.Series(["1990-01-31", "not a date"]))
        False
        >>> looks_like_dates(pd.Series(["73456789", "12345678"]))  # 8 digits, not dates
        False
    """
    values = values.dropna().astype(str)
    if values.empty:
        return False
    hits = pd.Series(False, index=values.index)
    for pattern in _DATE_PATTERNS:
        hits |= values.str.match(pattern)
    return bool(hits.mean() >= 0.95)


def classify_column(column: str, values: pd.Series) -> str:
    """The kind of a comparison column (a key of :data:`COMPARISONS`), from its name and values.

    The name decides where it is clear (``dob``, ``postcode``, ``surname``, ``address_1``); the
    content decides otherwise: digits (``identifier`` from five digits up, else ``number``),
    dates, few distinct values (``category``), and free ``text`` for the rest.

    Args:
        column: the column's name.
        values: its non-empty, normalised values (a sample is enough).

    Examples:
        >>> s = pd.Series
        >>> classify_column("Date of birth", s(["19800101"])), classify_column("surname", s(["x"]))
        ('date', 'surname')
        >>> classify_column("soc_sec_id", s(["1234567", "7654321"]))
        'identifier'
        >>> classify_column("street_number", s(["12", "7"])), classify_column("suburb", s(["a"]))
        ('number', 'address')
        >>> classify_column("sex", s(["f", "m"] * 50)), classify_column("notes", s(["a", "b"]))
        ('category', 'text')
    """
    tokens = _tokens(column)
    joined = "".join(sorted(tokens))
    values = values.dropna().astype(str)
    if "dob" in tokens or "birth" in column.lower():
        return "date"
    if tokens & {"postcode", "postal", "zip", "pcode"} or "postcode" in column.lower():
        return "postcode"
    if tokens & _IDENTIFIER_TOKENS:
        return "identifier"
    if len(values) and _share(values, r"\d+") >= 0.95 and not looks_like_dates(values):
        return "identifier" if values.str.len().median() >= 5 else "number"
    if tokens & _ADDRESS_TOKENS:
        return "address"
    for kind in ("forename", "surname", "name"):
        if tokens & _NAME_TOKENS[kind] or joined in _NAME_TOKENS[kind]:
            return kind
    if "date" in tokens or looks_like_dates(values):
        return "date"
    counts = values.value_counts()
    common = counts.iloc[:CATEGORY_MAX_VALUES].sum()  # typos add rare values to a category
    if len(values) and common >= 0.95 * len(values) and len(counts) <= 0.2 * len(values):
        return "category"
    return "text"


def comparison_for(column: str, kind: str) -> Any:
    """The Splink comparison for a column of the given kind.

    Examples:
        >>> type(comparison_for("surname", "surname")).__name__
        'NameComparison'
    """
    if kind in ("forename", "surname", "name"):
        return cl.NameComparison(column).configure(term_frequency_adjustments=True)
    if kind in ("date", "postcode", "identifier"):
        return cl.DamerauLevenshteinAtThresholds(column, [1, 2])
    if kind in ("number", "category"):
        return cl.ExactMatch(column)
    if kind in ("address", "text"):
        return cl.JaroWinklerAtThresholds(column, [0.9, 0.7])
    raise ValueError(f"unknown column kind {kind!r}; expected one of {sorted(COMPARISONS)}")


@dataclass(frozen=True)
class BlockingRule:
    """A rule for candidate pairs: equal values in every column, or two columns swapped."""

    columns: tuple[str, ...]
    swapped: bool = False

    def splink_rule(self) -> Any:
        """The rule as Splink takes it (a ``block_on`` creator or SQL)."""
        if self.swapped:
            a, b = self.columns
            return f'l."{a}" = r."{b}" and l."{b}" = r."{a}"'
        return block_on(*self.columns)

    def describe(self) -> str:
        """The rule in words, for the documentation of a run.

        Examples:
            >>> BlockingRule(("forename", "surname"), swapped=True).describe()
            'forename and surname swapped'
            >>> BlockingRule(("dob",)).describe()
            'same dob'
        """
        if self.swapped:
            return f"{self.columns[0]} and {self.columns[1]} swapped"
        return "same " + " and ".join(self.columns)


def count_pairs(frames: Sequence[pd.DataFrame], rule: BlockingRule) -> int:
    """How many candidate pairs a rule generates (one frame: within it; two: between them).

    Examples:
        >>> a = pd.DataFrame({"x": ["1", "1", "2", None]})
        >>> count_pairs([a], BlockingRule(("x",))), count_pairs([a, a], BlockingRule(("x",)))
        (1, 5)
        >>> names = pd.DataFrame({"f": ["ann", "lee"], "s": ["lee", "ann"]})
        >>> count_pairs([names, names.head(1)], BlockingRule(("f", "s"), swapped=True))
        1
    """
    cols = list(rule.columns)
    left = frames[0][cols].dropna()
    right = frames[-1][cols].dropna()
    if rule.swapped:  # the right side's second column is compared with the left's first
        right = right[cols[::-1]].set_axis(cols, axis=1)
    n_left = left.value_counts().rename("n_left")
    n_right = right.value_counts().rename("n_right")
    if len(frames) == 1 and not rule.swapped:
        return int((n_left * (n_left - 1) // 2).sum())
    joined = pd.merge(n_left, n_right, left_index=True, right_index=True)
    total = int((joined["n_left"] * joined["n_right"]).sum())
    return total // 2 if len(frames) == 1 else total


def _candidate_rules(kinds: dict[str, str]) -> tuple[list[BlockingRule], list[BlockingRule]]:
    """Rules in order of preference (names, dates, identifiers, postcode, number and address),
    and fallbacks on single other columns for a file without the usual ones."""

    def of(*wanted: str) -> list[str]:
        return [c for c, k in kinds.items() if k in wanted]

    rules: list[BlockingRule] = []
    forenames, surnames = of("forename"), of("surname")
    if forenames and surnames:
        rules.append(BlockingRule((forenames[0], surnames[0])))
        rules.append(BlockingRule((forenames[0], surnames[0]), swapped=True))
    rules += [BlockingRule((c,)) for c in of("name") + surnames[:1] if not forenames]
    rules += [BlockingRule((c,)) for c in of("date") + of("identifier") + of("postcode")]
    numbers, addresses = of("number"), of("address")
    if numbers and addresses:
        rules.append(BlockingRule((numbers[0], addresses[0])))
    used = {c for r in rules for c in r.columns}
    fallbacks = [BlockingRule((c,)) for c in kinds if c not in used and kinds[c] != "category"]
    return rules, fallbacks


def choose_blocking_rules(
    frames: Sequence[pd.DataFrame], kinds: dict[str, str], max_rules: int = 8
) -> list[BlockingRule]:
    """Blocking rules for prediction, each under :data:`MAX_PAIRS_PER_RULE` candidate pairs.

    A rule over the limit is narrowed by adding the most distinctive column it lacks; a rule that
    finds no pair at all is dropped. Several rules over different columns keep a pair whose
    values differ by a typo in one of them.

    Examples:
        >>> df = pd.DataFrame({"first_name": ["ann", "bob"], "surname": ["lee", "ray"],
        ...                    "dob": ["1990-01-01", "1980-02-02"]})
        >>> kinds = {"first_name": "forename", "surname": "surname", "dob": "date"}
        >>> [r.describe() for r in choose_blocking_rules([df, df], kinds)]
        ['same first_name and surname', 'same dob']
    """
    distinct = {c: frames[0][c].nunique() for c in kinds}
    by_distinctness = sorted(kinds, key=lambda c: (-distinct[c], c))
    chosen: list[BlockingRule] = []
    preferred, fallbacks = _candidate_rules(kinds)
    for rule in preferred + fallbacks:
        if len(chosen) >= 3 and rule in fallbacks:
            break
        pairs = count_pairs(frames, rule)
        extra = [c for c in by_distinctness if c not in rule.columns]
        while pairs > MAX_PAIRS_PER_RULE and extra and not rule.swapped and len(rule.columns) < 3:
            rule = BlockingRule((*rule.columns, extra.pop(0)))
            pairs = count_pairs(frames, rule)
        if 0 < pairs <= MAX_PAIRS_PER_RULE and rule not in chosen:
            chosen.append(rule)
        if len(chosen) == max_rules:
            break
    return chosen


def choose_training_rules(
    rules: Sequence[BlockingRule], kinds: dict[str, str], max_rules: int = 3
) -> list[BlockingRule]:
    """Two or three blocking rules for expectation maximisation.

    Splink cannot estimate m for a column its training rule blocks on, so the rules are chosen
    with disjoint columns: each comparison is then estimated in at least one session. Rules on a
    near-unique identifier come last (their pairs are nearly all matches, which teaches EM little
    about non-matches), and so does the swapped-names rule (it is not a plain equality).

    Examples:
        >>> kinds = {"f": "forename", "s": "surname", "dob": "date", "pc": "postcode"}
        >>> rules = [BlockingRule(("f", "s")), BlockingRule(("dob",)), BlockingRule(("pc",))]
        >>> [r.describe() for r in choose_training_rules(rules, kinds)]
        ['same dob', 'same f and s', 'same pc']
    """
    preference = {"date": 0, "forename": 1, "surname": 1, "name": 1, "postcode": 2, "identifier": 4}

    def rank(rule: BlockingRule) -> tuple[int, int]:
        return (max(preference.get(kinds[c], 3) for c in rule.columns), len(rule.columns))

    plain = sorted((r for r in rules if not r.swapped), key=rank)
    chosen: list[BlockingRule] = []
    for rule in plain:
        if len(chosen) == max_rules:
            break
        if not any(set(rule.columns) & set(r.columns) for r in chosen):
            chosen.append(rule)
    return chosen


def parameters_table(settings: dict[str, Any]) -> pd.DataFrame:
    """The trained model, one row per comparison level: m, u and the match weight log2(m/u).

    Args:
        settings: the model as Splink writes it (``linker.misc.save_model_to_json()``).

    Examples:
        >>> model = {"comparisons": [{"output_column_name": "dob", "comparison_levels": [
        ...     {"label_for_charts": "null", "is_null_level": True},
        ...     {"label_for_charts": "exact", "m_probability": 0.9, "u_probability": 0.1}]}]}
        >>> parameters_table(model)[["level", "match_weight"]].to_dict("records")
        [{'level': 'exact', 'match_weight': 3.17}]
    """
    rows = []
    for comparison in settings.get("comparisons", []):
        for level in comparison["comparison_levels"]:
            if level.get("is_null_level"):
                continue
            m, u = level.get("m_probability"), level.get("u_probability")
            trained = isinstance(m, float | int) and isinstance(u, float | int) and m > 0 and u > 0
            weight = round(math.log2(m / u), 2) if trained else None
            rows.append(
                {
                    "comparison": comparison["output_column_name"],
                    "level": level.get("label_for_charts", level.get("sql_condition")),
                    "m_probability": m,
                    "u_probability": u,
                    "match_weight": weight,
                }
            )
    columns = ["comparison", "level", "m_probability", "u_probability", "match_weight"]
    return pd.DataFrame(rows, columns=columns)
