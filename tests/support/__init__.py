"""Test harness shipped with the project: real Redis, real gateway, real WebSocket clients."""
