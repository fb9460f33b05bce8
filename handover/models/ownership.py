"""ownership models of the handover app."""

__all__: list[str] = []
