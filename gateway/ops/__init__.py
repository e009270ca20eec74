"""Running the center: the data's upkeep (retention, a customer's data on request), the node's metrics, reports, the live wallboard and event webhooks.

Modules:

- ``metrics``           NodeMetrics: what ``/metrics`` reads when scraped (live calls, queues in Redis, event-loop lag).
- ``worker_metrics``    WorkerMetrics: a worker's ``/metrics`` with its siblings' (``serve --workers N``), each sample
  labelled with its worker.
- ``retention``         Retention: closed conversations older than ``--retention-days`` are deleted, with their recordings.
- ``erasure``           Erasure: a customer's data exported whole or erased on an admin's request (data protection).
- ``rollup_rules``      What each logged event adds to the report counters (pure), and the report's metrics from them.
- ``agent_time``        AgentTime: each signed-in agent's state sampled into the report counters (occupancy).
- ``rollups``           The rollup consumer (event log -> counters), the reports and path analytics, the backfill.
- ``wallboard``         Wallboard: the supervisors' live view (queues, agents, calls of every node), pushed on the agent
  socket.
- ``webhooks``          Event webhooks: subscriptions (checked, stored in Redis), the payload of each event type, the signature.
- ``webhook_delivery``  Event webhooks on the way out: the event log copied into per-conversation outboxes, posted in
  order, at least once, with retries and backoff, shared by every node.
"""
