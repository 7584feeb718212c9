"""What pages, the API and other domains read of an organisation's cost centres."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from portal.costcentres.rules import Centre
from portal.costcentres.tables import CostCentre


@dataclass(frozen=True, slots=True)
class CentreRow:
    id: UUID
    code: str
    name: str
    archived: bool

    @property
    def centre(self) -> Centre:
        return Centre(self.code, self.archived)

    @property
    def label(self) -> str:
        """How a choice shows it: "CC-100 · Finance", and "(archived)" when it is."""
        shown = self.code if self.name == self.code else f"{self.code} · {self.name}"
        return f"{shown} (archived)" if self.archived else shown


def _row(row: dict[str, Any]) -> CentreRow:
    return CentreRow(row["id"], row["code"], row["name"], row["archived"])


async def list_centres(organisation_id: UUID) -> list[CentreRow]:
    """Every cost centre of the organisation: active ones first, each group by code. An
    organisation keeps a short list (a few hundred at most), read whole."""
    rows = (
        await CostCentre.select(
            CostCentre.id, CostCentre.code, CostCentre.name, CostCentre.archived
        )
        .where(CostCentre.organisation == organisation_id)
        .order_by(CostCentre.archived)
        .order_by(CostCentre.code)
    )
    return [_row(row) for row in rows]


async def get_centre(organisation_id: UUID, centre_id: UUID) -> CentreRow | None:
    row = (
        await CostCentre.select(
            CostCentre.id, CostCentre.code, CostCentre.name, CostCentre.archived
        )
        .where((CostCentre.id == centre_id) & (CostCentre.organisation == organisation_id))
        .first()
    )
    return _row(row) if row else None


async def centres_of(organisation_id: UUID) -> list[Centre]:
    """What the choice rules (`rules.choose_code`) check a typed code against."""
    return [row.centre for row in await list_centres(organisation_id)]


def offered_centres(centres: Iterable[CentreRow], kept: Iterable[str] = ()) -> list[CentreRow]:
    """What a form offers: the active cost centres, and archived ones only where the record
    already names them (so that its current choice shows and stays)."""
    keep = set(kept)
    return [row for row in centres if not row.archived or row.code in keep]


async def name_of(organisation_id: UUID, code: str) -> str | None:
    """The name of the cost centre with this code, for a page that shows a record naming it."""
    if not code:
        return None
    row = (
        await CostCentre.select(CostCentre.name)
        .where((CostCentre.organisation == organisation_id) & (CostCentre.code == code))
        .first()
    )
    return str(row["name"]) if row else None
