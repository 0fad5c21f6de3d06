"""Settings: declared once, read from ``UNITRACE_*`` environment variables, frozen.

Nothing reads the environment at import time: the CLI and ``create_app`` call
``Settings()`` (or receive one) and pass it down. Every field is documented in
``docs/settings.md``; a test fails when one is not.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Runtime configuration of one unitrace installation."""

    model_config = SettingsConfigDict(env_prefix="UNITRACE_", frozen=True, extra="ignore")

    database_url: str = Field(
        default="sqlite:///./unitrace.db",
        description="SQLAlchemy URL of the database: sqlite:///path or postgresql://user@host/db.",
    )
    data_dir: Path = Field(
        default=Path("./data"),
        description="Directory for stored files (Certificates of Analysis, uploads).",
    )
    resolver_base_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Public base URL printed in QR codes (short URLs and GS1 Digital Link).",
    )
    host: str = Field(default="127.0.0.1", description="Address `unitrace serve` binds to.")
    port: int = Field(default=8000, description="Port `unitrace serve` listens on.")
    max_commission_quantity: int = Field(
        default=1_000_000,
        ge=1,
        description="Largest number of units one commissioning request may create.",
    )
    session_hours: int = Field(
        default=12, ge=1, description="Lifetime of a web login session, in hours."
    )
    secure_cookies: bool = Field(
        default=False,
        description="Mark the session cookie Secure (set true whenever served over HTTPS).",
    )
    login_rate_limit: int = Field(
        default=10,
        ge=1,
        description="Failed logins allowed per client address and email per 15 minutes.",
    )
    max_upload_bytes: int = Field(
        default=20 * 1024 * 1024,
        ge=1024,
        description="Largest accepted upload (for example a COA PDF), in bytes.",
    )
    webhook_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        le=120,
        description="How long one webhook POST may take before it counts as failed, in seconds.",
    )
    webhook_max_attempts: int = Field(
        default=8,
        ge=1,
        le=50,
        description="Attempts at one webhook delivery (retried with backoff) before it fails.",
    )
    webhook_allow_http: bool = Field(
        default=False,
        description="Accept plain http:// webhook URLs (local testing only); https otherwise.",
    )

    return_window_days: int = Field(
        default=30,
        ge=0,
        description="Days after a sale within which a store accepts the unit back as a return.",
    )
    returns_across_stores: bool = Field(
        default=True,
        description="Accept a return at any store of the retailer that sold the unit, "
        "not only the store where it was sold.",
    )
    undo_window_minutes: int = Field(
        default=1440,
        ge=0,
        description="Minutes after a sale within which the store may undo it (a sale made by "
        "mistake).",
    )
    import_max_bytes: int = Field(
        default=256 * 1024 * 1024,
        ge=1024,
        description="Largest CSV file an import accepts, in bytes.",
    )
    import_max_rows: int = Field(
        default=1_000_000,
        ge=1,
        description="Most rows one CSV import may have.",
    )

    forwarded_allow_ips: str = Field(
        default="127.0.0.1",
        description="Comma-separated proxy addresses whose X-Forwarded-For / X-Forwarded-Proto "
        "headers are trusted for the client address (`*` trusts every proxy).",
    )
    workers: int = Field(
        default=1,
        ge=1,
        le=64,
        description="Server processes `unitrace serve` starts (one per CPU core serves the most "
        "public scans; rate limits and the scan-log buffer are per process).",
    )
    access_log: bool = Field(
        default=True,
        description="Log every request (uvicorn's access log); turn off behind a proxy that "
        "logs already, to save its cost on the public scan path.",
    )
    public_requests_per_minute: int = Field(
        default=60,
        ge=1,
        description="Public scans (resolver, consumer page, JSON verification) one client may "
        "make per minute, after its burst.",
    )
    public_burst: int = Field(
        default=30,
        ge=1,
        description="Public scans one client may make in a quick burst before the per-minute "
        "rate applies.",
    )
    public_misses_per_hour: int = Field(
        default=30,
        ge=1,
        description="Unknown or malformed codes one client may look up per hour (after a burst "
        "of as many): guessing codes is cut off long before it could find one.",
    )
    public_forms_per_hour: int = Field(
        default=10,
        ge=1,
        description="Purchase registrations and problem reports one client may send per hour.",
    )
    scan_log_flush_seconds: float = Field(
        default=0.2,
        gt=0,
        le=60,
        description="How often recorded public scans are written to the database, in seconds "
        "(and always when the server stops).",
    )
    analytics_fold_seconds: float = Field(
        default=5,
        ge=0,
        le=3600,
        description="How often the server folds newly recorded receipts and sales into the "
        "sell-through figures, in seconds, so reports find them ready (a report folds what is "
        "left anyway). 0: only when a report asks.",
    )
    scan_retention_days: int = Field(
        default=400,
        ge=1,
        description="Days a public scan is kept in the scan log before it is deleted.",
    )
    contact_retention_days: int = Field(
        default=730,
        ge=1,
        description="Days the contact details of a purchase registration or problem report are "
        "kept; the record stays, the name and email are erased.",
    )
    clone_window_hours: int = Field(
        default=72,
        ge=1,
        description="Window in which a sold unit's scans from distinct origins are counted.",
    )
    clone_max_origins: int = Field(
        default=3,
        ge=1,
        description="Distinct origins a sold unit may be scanned from within the window before "
        "it is flagged as suspicious (a copied code).",
    )
    geo_country_header: str = Field(
        default="",
        description="Request header in which the fronting proxy or CDN puts the client's "
        "ISO country code (for example CF-IPCountry); empty: not recorded.",
    )
    geo_region_header: str = Field(
        default="",
        description="Request header carrying the client's region (ISO 3166-2, e.g. US-CA); "
        "compared with the markets a unit was shipped to. Empty: not recorded.",
    )
    geo_city_header: str = Field(
        default="",
        description="Request header carrying the client's city; empty: not recorded.",
    )

    @field_validator("resolver_base_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @property
    def sqlalchemy_url(self) -> str:
        """The database URL with the driver unitrace uses made explicit."""
        url = self.database_url
        for prefix in ("postgresql://", "postgres://"):
            if url.startswith(prefix):
                return "postgresql+psycopg://" + url[len(prefix) :]
        return url
