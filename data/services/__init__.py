"""Data services: the only code that touches the database session. They return plain objects."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from bot.settings import AlertSettings, DeadlineSettings, EmergencySettings, OutboxSettings
from data.catalog import DemandCatalog
from data.clock import Clock


@dataclass
class ServiceContext:
    """What every service call needs: the unit of work's session plus fixed collaborators."""

    session: Session
    clock: Clock
    catalog: DemandCatalog
    deadlines: DeadlineSettings
    emergency: EmergencySettings
    alerts: AlertSettings
    outbox: OutboxSettings
