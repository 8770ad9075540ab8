"""The linkage model behind :func:`svduty.linkage.files.link_files`: what each column is, how it is
compared, which pairs are scored and which train the model.

A column's *kind* is inferred from its name first (``surname``, ``date_of_birth``, ``postcode``)
and then from its content (all digits, few distinct values). Each kind has one Splink comparison
(:data:`COMPARISONS`), and the kinds decide the blocking rules: several rules over different
columns, so that a typo in one column does not lose a true pair, each kept under
:data:`MAX_PAIRS_PER_RULE` candidate pairs. A rule that would produce more is narrowed by a coarse
key of another column (an initial, a date's decade or year, a postcode's first characters:
:data:`COARSE_PREFIXES`), in :data:`NARROWINGS` ways on different columns, so that a typo in the
narrowing column does not lose the pair either.

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

import duckdb
import pandas as pd
import splink.comparison_library as cl
from splink import block_on

MAX_PAIRS_PER_RULE = 5_000_000  # a rule that would score more candidate pairs is narrowed
NARROWINGS = 2  # a rule over the limit is narrowed this many ways, each by another column
#: The coarse keys a rule over the limit may be narrowed by: a column's first characters (an
#: initial; a date's decade, year or month; a postcode's area), the shortest enough first.
COARSE_PREFIXES: dict[str, tuple[int, ...]] = {
    "forename": (1, 2, 3), "surname": (1, 2, 3), "name": (1, 2, 3), "date": (3, 4, 7),
    "postcode": (1, 2, 3), "identifier": (2, 4), "address": (1, 2, 3), "text": (1, 2, 3),
}  # fmt: skip
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
_PLAIN_NAME = re.compile(r"[a-z_][a-z0-9_]*")  # a column name SQL reads unquoted
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
    """A rule for candidate pairs: equal values in every column, or two columns swapped.

    ``prefixes`` narrows a column to its first characters, one length per column (0: the whole
    value), for a coarse key such as a surname's initial or the year of a date (empty: every
    column whole).
    """

    columns: tuple[str, ...]
    swapped: bool = False
    prefixes: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if self.prefixes and len(self.prefixes) != len(self.columns):
            raise ValueError("a rule needs one prefix length per column (0: the whole value)")
        if self.swapped and any(self.prefixes):
            raise ValueError("a swapped rule compares whole values")
        if not any(self.prefixes):  # one way to write whole values, so that rules compare equal
            object.__setattr__(self, "prefixes", ())

    def terms(self) -> list[tuple[str, int]]:
        """Each column and how many of its first characters are compared (0: all)."""
        return list(zip(self.columns, self.prefixes or (0,) * len(self.columns), strict=True))

    def narrowed(self, column: str, prefix: int = 0) -> BlockingRule:
        """The rule with one more column, or the first ``prefix`` characters of one.

        Examples:
            >>> BlockingRule(("dob",)).narrowed("surname", 1).describe()
            'same dob and first character of surname'
        """
        keys = [*self.terms(), (column, prefix)]
        return BlockingRule(tuple(c for c, _ in keys), prefixes=tuple(n for _, n in keys))

    def splink_rule(self) -> Any:
        """The rule as Splink takes it (a ``block_on`` creator or SQL).

        Examples:
            >>> BlockingRule(("dob", "surname"), prefixes=(0, 1)).splink_rule().get_blocking_rule(
            ...     "duckdb").blocking_rule_sql
            '(l."dob" = r."dob") AND (SUBSTRING(l.surname, 1, 1) = SUBSTRING(r.surname, 1, 1))'
        """
        if self.swapped:
            a, b = self.columns
            return f'l."{a}" = r."{b}" and l."{b}" = r."{a}"'
        for column, n in self.terms():
            if n and not _PLAIN_NAME.fullmatch(column):  # quoted, Spark would read a string
                raise ValueError(f"a prefix needs a plain SQL column name, not {column!r}")
        return block_on(*(f"substr({c}, 1, {n})" if n else c for c, n in self.terms()))

    def describe(self) -> str:
        """The rule in words, for the documentation of a run.

        Examples:
            >>> BlockingRule(("forename", "surname"), swapped=True).describe()
            'forename and surname swapped'
            >>> BlockingRule(("dob",)).describe()
            'same dob'
            >>> BlockingRule(("forename", "surname", "dob"), prefixes=(0, 0, 4)).describe()
            'same forename and surname and first 4 characters of dob'
        """
        if self.swapped:
            return f"{self.columns[0]} and {self.columns[1]} swapped"

        def key(column: str, n: int) -> str:
            if not n:
                return column
            return f"first {'character' if n == 1 else f'{n} characters'} of {column}"

        return "same " + " and ".join(key(c, n) for c, n in self.terms())


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class PairCounter:
    """Counts the candidate pairs of rules on the same frames, in DuckDB (as Splink's SQL reads
    the keys: ``substr`` for a prefix, nulls matching nothing), the frames loaded once."""

    def __init__(self, frames: Sequence[pd.DataFrame], columns: Sequence[str]) -> None:
        self._con = duckdb.connect(":memory:")
        self._sides = len(frames)
        self._counted: dict[BlockingRule, int] = {}
        columns = list(dict.fromkeys(columns))
        as_text = ", ".join(f"CAST({_quoted(c)} AS VARCHAR) AS {_quoted(c)}" for c in columns)
        for i, frame in enumerate(frames):
            self._con.register("svduty_frame", frame[columns])
            self._con.execute(f"CREATE TABLE side_{i} AS SELECT {as_text} FROM svduty_frame")
            self._con.unregister("svduty_frame")

    def close(self) -> None:
        self._con.close()

    def count(self, rule: BlockingRule) -> int:
        """How many candidate pairs the rule generates (see :func:`count_pairs`)."""
        if rule not in self._counted:
            self._counted[rule] = self._count(rule)
        return self._counted[rule]

    def _count(self, rule: BlockingRule) -> int:
        keys = [f"substr({_quoted(c)}, 1, {n})" if n else _quoted(c) for c, n in rule.terms()]
        # swapped, the right side's second column is compared with the left's first
        right_keys = keys[::-1] if rule.swapped else keys

        def grouped(side: int, exprs: list[str]) -> str:
            select = ", ".join(f"{e} AS k{j}" for j, e in enumerate(exprs))
            present = " AND ".join(f"{e} IS NOT NULL" for e in exprs)
            return f"SELECT {select}, count(*) AS n FROM side_{side} WHERE {present} GROUP BY ALL"

        left = grouped(0, keys)
        if self._sides == 1 and not rule.swapped:
            sql = f"SELECT sum(n * (n - 1)) FROM ({left})"  # each pair twice, as below
        else:
            right = grouped(self._sides - 1, right_keys)
            on = " AND ".join(f"l.k{j} = r.k{j}" for j in range(len(keys)))
            sql = f"SELECT sum(l.n * r.n) FROM ({left}) l JOIN ({right}) r ON {on}"
        row = self._con.execute(sql).fetchone()
        total = int(row[0] or 0) if row else 0
        return total // 2 if self._sides == 1 else total


def count_pairs(frames: Sequence[pd.DataFrame], rule: BlockingRule) -> int:
    """How many candidate pairs a rule generates (one frame: within it; two: between them).

    Examples:
        >>> a = pd.DataFrame({"x": ["1", "1", "2", None]})
        >>> count_pairs([a], BlockingRule(("x",))), count_pairs([a, a], BlockingRule(("x",)))
        (1, 5)
        >>> names = pd.DataFrame({"f": ["ann", "lee"], "s": ["lee", "ann"]})
        >>> count_pairs([names, names.head(1)], BlockingRule(("f", "s"), swapped=True))
        1
        >>> count_pairs([names], BlockingRule(("f", "s"), prefixes=(0, 1)))
        0
        >>> dates = pd.DataFrame({"dob": ["1990-01-01", "1990-12-31", "1991-01-01"]})
        >>> count_pairs([dates], BlockingRule(("dob",), prefixes=(4,)))
        1
    """
    counter = PairCounter(frames, rule.columns)
    try:
        return counter.count(rule)
    finally:
        counter.close()


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


def _narrow(
    counter: PairCounter,
    kinds: dict[str, str],
    rule: BlockingRule,
    pairs: int,
    order: Sequence[str],
    max_pairs: int,
    avoid: frozenset[str] = frozenset(),
) -> tuple[BlockingRule, int]:
    """A rule over ``max_pairs`` narrowed by the coarsest key that brings it under:
    of the columns it lacks (not in ``avoid``), the shortest prefix of each (see
    :data:`COARSE_PREFIXES`) or the whole value that does, the one keeping the most pairs. Where
    none does, the narrowest key is added and the search goes on, up to three columns."""
    while pairs > max_pairs and len(rule.columns) < 3:
        options: list[tuple[BlockingRule, int]] = []
        for column in order:
            if column in rule.columns or column in avoid:
                continue
            coarse = COARSE_PREFIXES.get(kinds[column], ()) if _PLAIN_NAME.fullmatch(column) else ()
            for prefix in (*coarse, 0):
                candidate = rule.narrowed(column, prefix)
                options.append((candidate, counter.count(candidate)))
                if options[-1][1] <= max_pairs:
                    break
        if not options:
            break
        under = [o for o in options if o[1] <= max_pairs]
        rule, pairs = max(under, key=lambda o: o[1]) if under else min(options, key=lambda o: o[1])
    return rule, pairs


def choose_blocking_rules(
    frames: Sequence[pd.DataFrame],
    kinds: dict[str, str],
    max_rules: int = 8,
    max_pairs: int = MAX_PAIRS_PER_RULE,
) -> list[BlockingRule]:
    """Blocking rules for prediction, each under ``max_pairs`` candidate pairs.

    A rule over the limit is narrowed by a coarse key of a column it lacks (an initial, the
    decade or year of a date, the start of a postcode; the whole value where no coarse key is
    enough), the coarsest that brings it under the limit; and again, as a second rule (up to
    :data:`NARROWINGS` in all), by a key of another column, so that a typo in the first key's
    column does not lose the pair. A rule that finds no pair at all is dropped. Several rules over
    different columns keep a pair whose values differ by a typo in one of them.

    Examples:
        >>> df = pd.DataFrame({"first_name": ["ann", "bob"], "surname": ["lee", "ray"],
        ...                    "dob": ["1990-01-01", "1980-02-02"]})
        >>> kinds = {"first_name": "forename", "surname": "surname", "dob": "date"}
        >>> [r.describe() for r in choose_blocking_rules([df, df], kinds)]
        ['same first_name and surname', 'same dob']

        Over the limit, a rule is narrowed twice, by a coarse key of two other columns:

        >>> df = pd.DataFrame({"first_name": ["ann", "amy", "bob", "ben", "cat", "cal"],
        ...                    "surname": ["lee", "lam", "ray", "roe", "ng", "nash"],
        ...                    "dob": ["1990-01-01"] * 6})
        >>> count_pairs([df, df], BlockingRule(("dob",)))
        36
        >>> [r.describe() for r in choose_blocking_rules([df, df], kinds, max_pairs=12)]
        ['same first_name and surname', 'same dob and first character of first_name', \
'same dob and first character of surname']
    """
    distinct = {c: frames[0][c].nunique() for c in kinds}
    by_distinctness = sorted(kinds, key=lambda c: (-distinct[c], c))
    chosen: list[BlockingRule] = []
    preferred, fallbacks = _candidate_rules(kinds)
    counter = PairCounter(frames, list(kinds))
    try:
        for rule in preferred + fallbacks:
            if len(chosen) >= 3 and rule in fallbacks:
                break
            pairs = counter.count(rule)
            variants = [(rule, pairs)]
            if pairs > max_pairs and not rule.swapped:
                variants, added = [], frozenset[str]()
                while len(variants) < NARROWINGS:
                    narrowed, n = _narrow(
                        counter, kinds, rule, pairs, by_distinctness, max_pairs, added
                    )
                    if narrowed == rule:  # no column left to narrow it by
                        break
                    variants.append((narrowed, n))
                    added |= set(narrowed.columns) - set(rule.columns)
            for variant, n in variants:
                if 0 < n <= max_pairs and variant not in chosen and len(chosen) < max_rules:
                    chosen.append(variant)
            if len(chosen) == max_rules:
                break
    finally:
        counter.close()
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
