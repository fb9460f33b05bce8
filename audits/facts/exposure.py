"""What well-known paths that must not be public turned out to contain."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from audits.facts.base import Unavailable, host_of
from audits.serialization import Serializable


class Sniff(enum.StrEnum):
    """What a probed path turned out to contain (``audits.detect.sniff_exposure``)."""

    NOTHING = "nothing"  # 404, a login wall, or the normal HTML page
    ENV_FILE = "env_file"
    GIT_HEAD = "git_head"
    GIT_CONFIG = "git_config"
    DEBUG_PAGE = "debug_page"
    DIRECTORY_LISTING = "directory_listing"
    SOURCE_MAP = "source_map"


@dataclass(frozen=True)
class ExposureProbe(Serializable):
    url: str
    status: int | None = None
    content_type: str = ""
    sniff: Sniff = Sniff.NOTHING
    detail: str = ""  # e.g. variable names of an .env (never values), the framework
    unavailable: Unavailable | None = None

    @property
    def host(self) -> str:
        return host_of(self.url)
