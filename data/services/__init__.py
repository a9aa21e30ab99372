"""Data services: the only code that touches the database session. They return plain objects."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from core.catalog import DemandCatalog
from core.render import StringCatalog
from core.settings import (
    AlertSettings,
    DeadlineSettings,
    EmergencySettings,
    LimitSettings,
    NoticeSettings,
    OutboxSettings,
    Settings,
)
from data.clock import Clock
from data.resources import ResourceCatalog


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
    resources: ResourceCatalog = field(default_factory=ResourceCatalog)
    notices: NoticeSettings = field(default_factory=NoticeSettings)
    limits: LimitSettings = field(default_factory=LimitSettings)
    timezone: str = "Asia/Shanghai"  # how times are written (residents, Open311, webhooks)

    @classmethod
    def build(
        cls,
        session: Session,
        clock: Clock,
        catalog: DemandCatalog,
        strings: StringCatalog,
        settings: Settings,
        resources: ResourceCatalog | None = None,
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
            resources or ResourceCatalog(),
            s.notices,
            s.limits,
            s.timezone,
        )

    def words(self, key: str, **params: object) -> str:
        """A catalog sentence filled in, as plain text."""
        return self.strings.render(key, params).text

    def local(self, at: datetime) -> datetime:
        """A stored (naive UTC) time in the community's time zone, naive."""
        return at.replace(tzinfo=UTC).astimezone(ZoneInfo(self.timezone)).replace(tzinfo=None)

    def when(self, at: datetime) -> str:
        """A time as said to residents: 12月5日15点30分 (local time)."""
        t = self.local(at)
        key = "time.when_minutes" if t.minute else "time.when"
        return self.words(key, month=t.month, day=t.day, hour=t.hour, minute=t.minute)
