"""Schema pieces shared by endpoint modules."""

from __future__ import annotations

from typing import Literal

from django.db.models import TextChoices
from ninja import Schema


class ErrorOut(Schema):
    error: str


def choices(enum: type[TextChoices]):
    """A ``Literal`` of a TextChoices' values: an inline enum in the schema, named by its field.

    pydantic would name an Enum component after its class, and ``Status`` exists in
    several models.
    """
    return Literal[tuple(enum.values)]
