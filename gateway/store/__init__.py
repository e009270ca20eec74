"""Redis: the key layout, the atomic operations on it, the cross-node bus, the embedded server.

Modules:

- ``bus``             Cross-node delivery: one Redis pub/sub connection per node, fanned out to local listeners.
- ``embedded_redis``  A real Redis server for one gateway node when no ``REDIS_URL`` is given.
- ``store``           Redis layout and the atomic operations on it.
"""
