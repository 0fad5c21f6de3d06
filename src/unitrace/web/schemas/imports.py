"""CSV imports: the result of an upload, a page of them, and one problem."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from unitrace.web.schemas.common import PagePublic, Public


class ImportProblemPublic(Public):
    line: int | None = Field(description="The file's line (1 is the header); null: the file.")
    column: str | None = Field(description="The column's name in the layout; null: the row.")
    value: str | None = Field(description="The cell as read (cut at 200 characters).")
    message: str = Field(examples=["`12,5` is not a number — use a dot as decimal separator"])


class ImportPublic(Public):
    id: int | None = Field(description="The import's id; null for a dry run.")
    kind: str = Field(examples=["sales"])
    status: Literal["applied", "invalid", "dry_run"]
    rows: int = Field(description="Data rows read.")
    problems: list[ImportProblemPublic] = Field(description="At most 1,000, in file order.")
    problem_count: int = Field(description="Every problem found (may exceed the list).")
    result: dict[str, Any] = Field(description="What was done (or would be, for a dry run).")
    replayed: bool = Field(description="True: the same file or key was applied before.")
    encoding: str | None = None
    delimiter: str | None = None


class ImportsPublic(PagePublic[ImportPublic]): ...
