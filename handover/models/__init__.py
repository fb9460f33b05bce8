"""Models of the handover app, one module per area; importing them here registers them."""

from .deploys import *  # noqa: F403
from .env import *  # noqa: F403
from .ownership import *  # noqa: F403
