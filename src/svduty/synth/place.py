"""The fictional county of Synthshire: small areas, wards, authorities, people and deprivation.

The county is a grid of 20 by 15 square-ish cells (0.02 degrees of longitude by 0.2/15 degrees of
latitude, about 1.4 km a side at 52 degrees north) between longitude -1.2 and -0.8 and latitude
52.0 and 52.2. Each cell is one LSOA. Six towns anchor six local authorities: every cell belongs to
the town nearest to it, so each authority is a contiguous block. Deprivation follows urbanity
(town centres are the most deprived) plus spatially smoothed noise, so it clusters as it does in
real places. The layout is fixed; populations and deprivation vary with the seed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from svduty.synth.names import WARD_WORDS

COLS, ROWS = 20, 15
LON0, LAT0 = -1.2, 52.0
DLON, DLAT = 0.02, 0.2 / ROWS
WARDS_PER_AUTHORITY = 8
POSTCODES_PER_LSOA = 12
ENGLAND_LSOA21 = 33_755  # LSOAs in England (2021): the denominator of IoD 2025 ranks
AGE_GROUPS = (
    "Aged 15 years and under",
    "Aged 16 to 24 years",
    "Aged 25 to 34 years",
    "Aged 35 to 49 years",
    "Aged 50 to 64 years",
    "Aged 65 years and over",
)
# The shares of each age group in an average English LSOA (Census 2021, rounded).
AGE_SHARES = np.array([0.185, 0.105, 0.13, 0.19, 0.19, 0.20])
IMD_DOMAINS = (
    "IMD", "Income", "Employment", "Education", "Health", "Crime", "Housing_and_Services",
    "Environment",
)  # fmt: skip
# How closely each domain follows the overall index (correlation of the latent scores).
_DOMAIN_RHO = (1.0, 0.95, 0.92, 0.8, 0.8, 0.7, 0.2, 0.35)
PFA = ("E23900001", "Synthshire")
_UNIT_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"  # the letters Royal Mail uses in the inward code


@dataclass(frozen=True)
class Town:
    """A town: its name (also its local authority's), postcode area, centre cell and size."""

    name: str
    area: str
    col: int
    row: int
    size: float


TOWNS = (
    Town("Northam", "NM", 5, 10, 1.0),
    Town("Eastbrook", "EB", 15, 11, 0.9),
    Town("Westmere", "WY", 3, 3, 0.75),
    Town("Southfield", "SQ", 10, 3, 0.7),
    Town("Kingsford", "KF", 17, 4, 0.65),
    Town("Ashby", "AY", 11, 8, 0.55),
)
PERSISTENT_TOWNS = (0, 1, 2)  # town-centre night-time economies: persistent violence hotspots
EMERGING_TOWNS = (3, 4)  # an area next to these town centres becomes a hotspot in year two
INTERVENTION_TOWN = 1  # the partnership that runs the youth violence programme
COUNTY_LINES_TOWNS = (5, 3, 2)  # the local drug markets supplied by the county line


@dataclass(frozen=True)
class Place:
    """Every LSOA of the county, one entry per array, ordered by code.

    Attributes:
        code, name: LSOA 2021 code (E019xxxxx, a fictional range) and name.
        col, row: the grid cell.
        la: index into :data:`TOWNS` of the local authority.
        ward: index into ``ward_code`` and ``ward_name``.
        residents: (n, 6) usual residents by :data:`AGE_GROUPS`.
        urbanity: 0 (open country) to about 1 (a town centre).
        imd_score, imd_rank, imd_decile: (n, 8) by :data:`IMD_DOMAINS`.
        deprivation: the income deprivation domain score standardised over the county's
            LSOAs (mean 0, SD 1), the measure every planted deprivation effect uses. Not the
            overall IMD score: that includes the crime domain, which counts the crimes themselves.
        postcodes: (n, :data:`POSTCODES_PER_LSOA`) postcodes in the LSOA.
        persistent, emerging, county_lines: LSOA indices of the planted places.
    """

    code: np.ndarray
    name: np.ndarray
    col: np.ndarray
    row: np.ndarray
    la: np.ndarray
    ward: np.ndarray
    ward_code: np.ndarray
    ward_name: np.ndarray
    residents: np.ndarray
    urbanity: np.ndarray
    imd_score: np.ndarray
    imd_rank: np.ndarray
    imd_decile: np.ndarray
    deprivation: np.ndarray
    postcodes: np.ndarray
    persistent: np.ndarray
    emerging: np.ndarray
    county_lines: np.ndarray

    @property
    def n(self) -> int:
        """How many LSOAs."""
        return len(self.code)

    @property
    def population(self) -> np.ndarray:
        """All usual residents of each LSOA."""
        return self.residents.sum(axis=1)

    @property
    def la_code(self) -> list[str]:
        """Local authority codes, by town."""
        return [f"E079{i + 1:05d}" for i in range(len(TOWNS))]

    @property
    def csp_code(self) -> list[str]:
        """Community safety partnership codes, by town (one partnership per authority)."""
        return [f"E229{i + 1:05d}" for i in range(len(TOWNS))]

    def la_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """First and one-past-last LSOA index of each authority (LSOAs are ordered by it)."""
        first = np.searchsorted(self.la, np.arange(len(TOWNS)), side="left")
        last = np.searchsorted(self.la, np.arange(len(TOWNS)), side="right")
        return first, last

    def points(self, rng: np.random.Generator, lsoa: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Random longitude and latitude inside each given LSOA (kept off its edges)."""
        u = rng.uniform(0.05, 0.95, (2, len(lsoa)))
        lon = LON0 + (self.col[lsoa] + u[0]) * DLON
        lat = LAT0 + (self.row[lsoa] + u[1]) * DLAT
        return lon.round(6), lat.round(6)

    def ring(self, i: int) -> list[list[float]]:
        """The cell's boundary, anticlockwise as RFC 7946 asks."""
        w, s = LON0 + self.col[i] * DLON, LAT0 + self.row[i] * DLAT
        e, n = w + DLON, s + DLAT
        corners = [(w, s), (e, s), (e, n), (w, n), (w, s)]
        return [[round(x, 6), round(y, 6)] for x, y in corners]


def _smooth_noise(rng: np.random.Generator) -> np.ndarray:
    """Gaussian noise averaged over each cell's 3x3 neighbourhood, restandardised: nearby cells
    are alike, as deprivation is."""
    raw = rng.standard_normal((ROWS + 2, COLS + 2))
    out = sum(raw[dr : dr + ROWS, dc : dc + COLS] for dr in range(3) for dc in range(3))
    out = np.asarray(out)
    return ((out - out.mean()) / out.std()).ravel()


def _phi(z: np.ndarray) -> np.ndarray:
    """The standard normal distribution function."""
    return np.array([0.5 * (1 + math.erf(v / math.sqrt(2))) for v in z.ravel()]).reshape(z.shape)


def _wards(col: np.ndarray, row: np.ndarray, la: np.ndarray) -> np.ndarray:
    """Split each authority into wards: seeds by farthest-point sampling from the town centre,
    each cell to its nearest seed. Deterministic, and the wards come out compact."""
    ward = np.zeros(len(col), dtype=np.int64)
    for t, town in enumerate(TOWNS):
        cells = np.flatnonzero(la == t)
        xy = np.stack([col[cells], row[cells]], axis=1).astype(float)
        seeds = [int(np.argmin(((xy - (town.col, town.row)) ** 2).sum(axis=1)))]
        for _ in range(min(WARDS_PER_AUTHORITY, len(cells)) - 1):
            d = np.min([((xy - xy[s]) ** 2).sum(axis=1) for s in seeds], axis=0)
            seeds.append(int(np.argmax(d)))
        d = np.stack([((xy - xy[s]) ** 2).sum(axis=1) for s in seeds], axis=1)
        ward[cells] = t * WARDS_PER_AUTHORITY + np.argmin(d, axis=1)
    return ward


def _postcodes(rng: np.random.Generator, la: np.ndarray) -> np.ndarray:
    """Postcodes: the town's area, a district and sector from the LSOA's place in its authority,
    and distinct unit letters, so no postcode is in two LSOAs."""
    out = np.empty((len(la), POSTCODES_PER_LSOA), dtype=object)
    letters = np.array([a + b for a in _UNIT_LETTERS for b in _UNIT_LETTERS])
    for i in range(len(la)):
        k = int(np.sum(la[:i] == la[i]))
        district, sector = 1 + k // 10, k % 10
        units = letters[rng.choice(len(letters), POSTCODES_PER_LSOA, replace=False)]
        out[i] = [f"{TOWNS[la[i]].area}{district} {sector}{u}" for u in units]
    return out


def _imd(rng: np.random.Generator, latent: np.ndarray) -> tuple[np.ndarray, ...]:
    """Scores, national ranks (1 = most deprived of England's 33,755) and deciles of the eight
    domains, from a latent deprivation score on England's standard normal scale."""
    n = len(latent)
    z = np.empty((n, len(IMD_DOMAINS)))
    for d, rho in enumerate(_DOMAIN_RHO):
        z[:, d] = rho * latent + math.sqrt(1 - rho**2) * _smooth_noise(rng)[:n]
    rank = np.clip(np.round(1 + (ENGLAND_LSOA21 - 1) * (1 - _phi(z))), 1, ENGLAND_LSOA21)
    decile = np.ceil(rank * 10 / ENGLAND_LSOA21).astype(np.int64)
    score = np.empty_like(z)
    score[:, 0] = np.exp(2.83 + 0.62 * z[:, 0])  # IMD: median about 17, as in England
    score[:, 1] = np.clip(0.11 * np.exp(0.6 * z[:, 1]), 0, 1)  # share income deprived
    score[:, 2] = np.clip(0.08 * np.exp(0.55 * z[:, 2]), 0, 1)  # share employment deprived
    score[:, 3] = np.exp(2.9 + 0.7 * z[:, 3])
    score[:, 4] = z[:, 4]  # health and crime are published as standardised scores
    score[:, 5] = z[:, 5]
    score[:, 6] = np.exp(3.0 + 0.3 * z[:, 6])
    score[:, 7] = np.exp(2.9 + 0.5 * z[:, 7])
    return score.round(3), rank.astype(np.int64), decile


def build_place(rng: np.random.Generator) -> Place:
    """Build the county.

    Args:
        rng: the random generator (populations and deprivation; the layout is fixed).
    """
    row, col = np.divmod(np.arange(ROWS * COLS), COLS)
    dist2 = np.stack([(col - t.col) ** 2 + (row - t.row) ** 2 for t in TOWNS], axis=1)
    la = np.argmin(dist2, axis=1)
    sizes = np.array([t.size for t in TOWNS])
    sigma2 = (1.6**2) * sizes
    urbanity = np.max(sizes * np.exp(-dist2 / (2 * sigma2)), axis=1)
    ward = _wards(col, row, la)
    # Order by authority, ward, then north to south and west to east: codes run within each
    # authority as real ones roughly do.
    order = np.lexsort((col, -row, ward, la))
    col, row, la, ward, urbanity = col[order], row[order], la[order], ward[order], urbanity[order]
    n = len(order)
    code = np.array([f"E019{i + 1:05d}" for i in range(n)], dtype=object)
    name = np.empty(n, dtype=object)
    for t, town in enumerate(TOWNS):
        idx = np.flatnonzero(la == t)
        for k, i in enumerate(idx):
            name[i] = f"{town.name} {k // 5 + 1:03d}{'ABCDE'[k % 5]}"
    ward_ids = np.unique(ward)
    ward = np.searchsorted(ward_ids, ward)
    ward_name = np.empty(len(ward_ids), dtype=object)
    words = iter(WARD_WORDS)
    for w, wid in enumerate(ward_ids):
        t, k = divmod(int(wid), WARDS_PER_AUTHORITY)
        ward_name[w] = f"{TOWNS[t].name} Central" if k == 0 else next(words)
    ward_code = np.array([f"E059{i + 1:05d}" for i in range(len(ward_ids))], dtype=object)

    latent = -0.9 + 2.6 * urbanity + 0.45 * _smooth_noise(rng)[order]
    score, rank, decile = _imd(rng, latent)
    # The score as published (rounded), so an analysis of the reference files sees the same.
    income = score[:, IMD_DOMAINS.index("Income")]
    deprivation = (income - income.mean()) / income.std()

    total = np.clip(np.round(rng.normal(1700, 260, n)), 1200, 2500).astype(np.int64)
    shift = np.stack([0 * urbanity, 0.05 * urbanity, 0.03 * urbanity, 0 * urbanity,
                      -0.02 * urbanity, -0.06 * urbanity], axis=1)  # fmt: skip
    shares = np.clip(AGE_SHARES + shift, 0.02, None)
    shares /= shares.sum(axis=1, keepdims=True)
    # Each LSOA's own mix scatters around the expected one, as real ones do.
    shares = np.array([rng.dirichlet(600 * s) for s in shares])
    residents = np.array([rng.multinomial(t, s) for t, s in zip(total, shares, strict=True)])

    def cell(t: int, dc: int = 0) -> int:
        return int(np.flatnonzero((col == TOWNS[t].col + dc) & (row == TOWNS[t].row))[0])

    persistent = np.array([cell(t) for t in PERSISTENT_TOWNS])
    emerging = np.array([cell(t, 1) for t in EMERGING_TOWNS])
    taken = set(persistent.tolist()) | set(emerging.tolist())
    lines = []
    for t in COUNTY_LINES_TOWNS:
        idx = [i for i in np.flatnonzero(la == t)[np.argsort(-latent[la == t])] if i not in taken]
        lines.append(int(idx[0]))
    return Place(
        code=code,
        name=name,
        col=col,
        row=row,
        la=la,
        ward=ward,
        ward_code=ward_code,
        ward_name=ward_name,
        residents=residents,
        urbanity=urbanity,
        imd_score=score,
        imd_rank=rank,
        imd_decile=decile,
        deprivation=deprivation,
        postcodes=_postcodes(rng, la),
        persistent=persistent,
        emerging=emerging,
        county_lines=np.array(lines),
    )
