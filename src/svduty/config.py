"""Settings, read from the environment (prefix ``SVDUTY_``) or given by the CLI.

Examples:
    >>> from svduty.config import Settings
    >>> Settings(data_dir="/tmp/x").engine
    'duckdb'
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything svduty can be told, with defaults that work on one laptop."""

    model_config = SettingsConfigDict(env_prefix="SVDUTY_", extra="ignore")

    data_dir: Path = Field(
        default=Path("svduty-data"),
        description="Folder of the warehouse (a DuckDB file or Spark tables) and load records.",
    )
    engine: Literal["duckdb", "spark"] = Field(
        default="duckdb",
        description="Analytical engine: embedded DuckDB (default) or Apache Spark.",
    )
    spark_master: str = Field(
        default="local[2]",
        description="Spark master URL, used when engine is 'spark' (e.g. local[2], spark://host:7077).",
    )
    spark_warehouse: Path | None = Field(
        default=None,
        description="Where Spark keeps its tables; defaults to <data_dir>/spark.",
    )
    spark_driver_memory: str = Field(
        default="2g", description="Memory for the Spark driver when Spark runs locally."
    )

    database_url: str | None = Field(
        default=None,
        description=(
            "The operational store (users, agreements, uploads, audit): a SQLAlchemy URL such as "
            "postgresql+psycopg://user@host/db; default: <data_dir>/svduty.sqlite."
        ),
    )

    oidc_issuer: str | None = Field(
        default=None,
        description=(
            "OpenID Connect issuer URL for single sign-on (e.g. https://login.microsoftonline.com/"
            "<tenant>/v2.0); sign-in with it is offered when this and the client id are set."
        ),
    )
    oidc_client_id: str | None = Field(default=None, description="OpenID Connect client id.")
    oidc_client_secret: str | None = Field(
        default=None, description="OpenID Connect client secret (from the environment only)."
    )
    oidc_label: str = Field(
        default="your organisation's account",
        description="How the sign-in page names the single sign-on, e.g. 'NHS.net Connect'.",
    )

    key_dir: Path = Field(
        default=Path.home() / ".config" / "svduty" / "keys",
        description="Folder of the partnership's secret keys; never inside the data folder.",
    )
    key_file: Path | None = Field(
        default=None,
        description="The secret key file itself, if not <key_dir>/svduty-<data folder tag>.key.",
    )

    @property
    def duckdb_path(self) -> Path:
        """The DuckDB warehouse file."""
        return self.data_dir / "warehouse.duckdb"

    @property
    def spark_dir(self) -> Path:
        """The folder of Spark's Parquet tables."""
        return self.spark_warehouse or (self.data_dir / "spark")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings from the environment (cached; tests build their own)."""
    return Settings()
