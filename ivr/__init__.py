"""IVR and chat-bot flows: the flow language and its interpreter (knows nothing of aiohttp, aiortc or Redis)."""
