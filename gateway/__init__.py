"""The contact gateway: aiohttp signaling, conversations, routing, agents (see ARCHITECTURE in README)."""

__version__ = "0.1.0"
