"""Every actor, for `dramatiq workflows.actors` and the in-process workers."""

from workflows.broker import broker
from workflows.housekeeping import purge_expired_sessions

__all__ = ["broker", "purge_expired_sessions"]
