"""The hash chain check: its report."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from unitrace.web.schemas.common import Public

Reason = Literal["event_hash_mismatch", "link_mismatch", "seq_gap", "head_mismatch"]


class BrokenLinkPublic(Public):
    seq: int = Field(
        description="The first chain position that fails (for a gap: the missing one)."
    )
    reason: Reason = Field(
        description="`event_hash_mismatch`: an event's content was edited; `link_mismatch`: an "
        "event was moved, replaced or re-linked; `seq_gap`: an event was removed; "
        "`head_mismatch`: the newest events were removed."
    )
    detail: str
    row_id: int | None = Field(description="The stored event at which the break was found.")
    event_id: str | None


class ChainReportPublic(Public):
    ok: bool = Field(description="True when every event and link verified.")
    organization_id: int
    organization_name: str
    checked: int = Field(description="Chained events verified before the first break.")
    unchained: int = Field(description="Events recorded before the chain existed: not verified.")
    head_seq: int
    head_hash: str = Field(description="The newest link: record it elsewhere to anchor the chain.")
    broken: BrokenLinkPublic | None
