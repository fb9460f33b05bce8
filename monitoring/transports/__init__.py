"""Alert channels as transports: one base class, one registry filled by subclassing."""

from . import email, slack, sms, webhook  # noqa: F401  (importing registers them)
from .base import REGISTRY, Transport, TransportError, deliver, transport_for

__all__ = ["REGISTRY", "Transport", "TransportError", "deliver", "transport_for"]
