"""One module per action; importing this package registers every handler."""

from handlers import (  # noqa: F401
    activities,
    binding,
    cancel,
    emergency,
    help,
    human,
    leader,
    message,
    notices,
    picking,
    rate,
    report,
    safety,
    services,
    status,
    urge,
)
from handlers.base import REGISTRY, Result, Turn

__all__ = ["REGISTRY", "Result", "Turn"]
