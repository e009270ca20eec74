"""Redis: the key layout, the atomic operations on it, the cross-node bus, the embedded server.

Only this package talks to Redis (``tests/unit/test_store_keys.py`` fails on a ``redis`` import elsewhere,
the composition root aside): the layers above call named operations.

Modules:

- ``keys``             Every key and channel, built in one place (the key table).
- ``connect``          Redis clients built from the settings: a URL (TCP, TLS, unix socket), Sentinel, AUTH.
- ``scripts``          The Lua scripts (``lua/NAME-N.lua``, shared code in ``lua/includes/``), loaded once per node, run by SHA.
- ``store``            Conversations, queue, agents, calls: the atomic operations and the reads.
- ``callback_store``   Callbacks' hashes, indexes and transitions.
- ``limit_store``      Concurrent-call slots and failed-login buckets.
- ``node_store``       Node heartbeats, the call registry (which node holds which call), takeover claims.
- ``presence_store``   Agents' desk connections (presence sessions): one sorted set per agent, scored by expiry.
- ``customer_presence_store``  When each customer last had a widget open (one sorted set).
- ``help_store``       Agents' help requests: the open ones (one sorted set), each start and end with its event.
- ``supervision_store``  Supervisors in agents' chats: joining and leaving one, with its event, in one step.
- ``session_store``    Agents' login sessions.
- ``account_store``    The agents directory (one hash of JSON, compare-and-set writes).
- ``audit_store``      The audit log's stream.
- ``retention_store``  The retention lock, the closed index, deleting a closed conversation.
- ``erasure_store``    An erasure's keys: a customer's conversations and own keys, the mark that refuses their tokens.
- ``webhook_store``    Event webhooks: subscriptions, per-conversation outboxes, leases, delivery logs, the fan-out.
- ``desk_store``       The desk's batched reads: conversation summaries and agent names, one round trip each.
- ``index_store``      Reads of the conversation indexes (all, per customer, per word) and the canned responses.
- ``event_log_store`` The event log (every conversation's events in one stream) read by consumer groups.
- ``rollup_store``   Report counters per key and day (day, hour, quarter hour) and flow paths; applied once per entry.
- ``flow_store``       Flow versions (immutable, by content hash), the newest and the published one of each flow.
- ``audit_store``      The audit log's stream.
- ``queue_store``    Queue settings, the widget's settings, the audit stream; moving a waiting conversation's queue.
- ``words``            The words of a text as the search index keeps them (pure).
- ``bus``              Cross-node delivery: one Redis pub/sub connection per node, fanned out to local listeners.
- ``embedded_redis``   A real Redis server for one gateway node when no ``REDIS_URL`` is given.
"""
