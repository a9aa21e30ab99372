"""Data services: the only code that touches the database session. They return plain objects."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from core.catalog import DemandCatalog
from core.render import StringCatalog
from core.settings import (
    AlertSettings,
    DeadlineSettings,
    EmergencySettings,
    NoticeSettings,
    OutboxSettings,
    Settings,
)
from data.clock import Clock


@dataclass
class ServiceContext:
    """What every service call needs: the unit of work's session plus fixed collaborators."""

    session: Session
    clock: Clock
    catalog: DemandCatalog
    strings: StringCatalog  # wording of what services write for people to read (event notes)
    deadlines: DeadlineSettings
    emergency: EmergencySettings
    alerts: AlertSettings
    outbox: OutboxSettings
    notices: NoticeSettings = field(default_factory=NoticeSettings)
    timezone: str = "Asia/Shanghai"

    @classmethod
    def build(
        cls,
        session: Session,
        clock: Clock,
        catalog: DemandCatalog,
        strings: StringCatalog,
        settings: Settings,
    ) -> ServiceContext:
        s = settings
        return cls(
            session,
            clock,
            catalog,
            strings,
            s.deadlines,
            s.emergency,
            s.alerts,
            s.outbox,
            s.notices,
            s.timezone,
        )

    def words(self, key: str, **params: object) -> str:
        """A catalog sentence filled in, as plain text."""
        return self.strings.render(key, params).text
