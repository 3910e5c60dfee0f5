"""Service settings, from DALSERVER_* environment variables (pydantic-settings)."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DALSERVER_", env_file=None)

    # With no URL, dalserver runs its own PostgreSQL cluster under `home`.
    database_url: str | None = None
    home: Path = Path(".dalserver")
    archive_dir: Path | None = None  # products; default: <home>/archive
    database_name: str = "dalserver"

    host: str = "127.0.0.1"
    port: int = 8000
    base_url: str | None = None  # public URL; default http://<host>:<port>
    ivoid_authority: str = "dalserver.demo"
    title: str = "dalserver demo archive"

    maxrec_default: int = 10_000
    maxrec_hard: int = 10_000_000
    statement_timeout_seconds: float = 60.0
    fetch_batch_bytes: int = 4 << 20  # results leave the database in batches of about this size
    catalog_ttl_seconds: float = 5.0
    pool_max_size: int = 10

    @property
    def public_url(self) -> str:
        return (self.base_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def archive_root(self) -> Path:
        return (self.archive_dir or self.home / "archive").absolute()

    @property
    def schema_extension_dirs(self) -> tuple[Path, ...]:
        extra = self.home / "schemas"
        return (extra,) if extra.is_dir() else ()
