"""Every Redis key and pub/sub channel the gateway uses, built in one place: :class:`Keys`.

``P`` is the configured prefix (``--key-prefix``, ``cg`` by default). A script never builds a key: every key it
touches is built here and passed in ``KEYS`` (``tests/unit/test_store_keys.py`` checks both).

| key | type | what |
|---|---|---|
| ``P:conv:ID`` | hash | conversation: customer_id, state, queue, agent_id, created_at, updated_at, queued_at, callback_id, preferred_agent; counters messages, calls, calls_ended, attachments; after the customer rated it (once, after the close): rating (1-5), rating_comment, rated_at (ms); supervisors (who joined its chat, each id between spaces: gateway/contact/chat_supervision.py); help_agent, help_text (its agent asked for help, and why: gateway/contact/help_requests.py) |
| ``P:conv:ID:ctx`` | hash | context variables |
| ``P:conv:ID:tl`` | stream | the timeline; fields ``type`` and ``data`` (JSON) |
| ``P:conv:ID:cids`` | hash | agent client message id -> ``conv/event`` id (exactly-once messages) |
| ``P:conv:ID:words`` | set | the words of the conversation indexed in ``P:word:W`` (capped; retention removes the entries) |
| ``P:convs`` | zset | every conversation, scored by when it was created (ms): what search walks (gateway/contact/history.py) |
| ``P:word:W`` | zset | conversations with the word W (casefolded) in a message, note or transcript, scored by their creation (ms) |
| ``P:canned:shared`` / ``P:canned:agent:ID`` | hash | canned responses, shortcut -> JSON, shared (supervisors) and the agent's own |
| ``P:customer:ID`` | hash | ``current``: the customer's latest conversation; ``last_agent``: who closed their last one |
| ``P:customer:ID:cids`` | hash | customer client message id -> ``conv/event`` id, across conversations |
| ``P:customer:ID:convs`` | zset | the customer's conversations, scored by when each was created (ms) |
| ``P:customer:ID:erased`` | string | when an admin erased the customer's data (ms): the customer tokens the gateway gave them before are refused until it expires, ``--customer-token-days`` later (gateway/ops/erasure.py) |
| ``P:customer:ID:erasing`` | zset | an erasure's journal: the conversations it deletes, scored by their creation (ms); gone when it finished (a retry finishes what a failed one left) |
| ``P:help`` | zset | open help requests: conversation id, scored by when its agent asked a supervisor for help (ms); the conversation's ``help_agent`` says who (gateway/contact/help_requests.py); a close, a transfer or a requeue ends it in the same step (lua/includes/help_over.lua); a conversation deleted since is dropped by the wallboard's next read |
| ``P:customers:seen`` | zset | customers with a conversation and a widget open (any node), scored by when a node last saw one open (ms, Redis's clock): refreshed every 10 s while open, set when the last one closes; what closes a waiting chat whose customer left (gateway/contact/gone_customers.py); entries older than a day are trimmed |
| ``P:customers:sweep`` | string | the node sweeping for customers who left a waiting chat (gateway/contact/gone_customers.py): one node a round, renewed while it lives (expires) |
| ``P:queue:NAME`` | zset | waiting conversations, scored by enqueue time (ms) |
| ``P:agent:ID`` | hash | name, capacity, status, status_since, idle_since, activity, activity_since, activity_until, activity_node (the node whose call the activity belongs to: cleared when that node is lost), activity_conversation (the conversation after-call work is for), desk_left_ms (when a desk of theirs last closed) |
| ``P:agent:ID:convs`` | set | conversations assigned to the agent |
| ``P:agent:ID:sessions`` | zset | live desk connections (any node), scored by expiry (ms) |
| ``P:agents`` | set | every agent id that ever connected |
| ``P:secret:fingerprint`` | string | HMAC fingerprint of the signing secret (nodes with different ones are refused); the secret itself is never in Redis (``P:secret``: older versions only, migrated, gateway/wire/signing_secret.py) |
| ``P:call:ID`` | hash | a live call (the call registry, gateway/calls/anchors.py): node, customer_id, conversation_id, status, state, agent_id, consult_agent_id, answered, answered_ms, queued_ms, offered_ms (when last offered: queued or transferred), routed (the call queued its conversation itself), started_ms, address; deleted when the call ends (or its node is taken over) |
| ``P:node:NODE:calls`` / ``P:customer:ID:calls`` / ``P:agent:ID:calls`` | set | the live calls a node holds / a customer has / an agent rings for, talks on or consults on |
| ``P:nodes`` | set | the nodes that keep a heartbeat (a node leaves it when it stops cleanly, or when a survivor took it over) |
| ``P:node:NODE:alive`` | string | a node's heartbeat: refreshed every second, expires after 5 s (gateway/calls/takeover.py) |
| ``P:node:NODE:takeover`` | string | the surviving node that claimed a dead node's calls (expires: a claimant that dies is replaced) |
| ``P:node:NODE:lost`` | string | a node another one claimed (the claimant's id): its heartbeat answers `lost` and never revives it (expires after a day; node ids are new per process) |
| ``P:stats:handle_ms`` | list | the latest answered calls' handle times (ms), newest first, for wait estimates |
| ``P:cb:ID`` | hash | a callback: conversation_id, customer_id, queue, state, due_ms, attempts, ... (gateway/contact/callbacks.py) |
| ``P:cb:due`` | zset | scheduled callbacks, scored by when they enter the queue (ms) |
| ``P:cb:open`` | zset | callbacks not closed yet, scored by when they expire (ms) |
| ``P:cb:queued`` | set | callbacks whose conversation waits in the routing queue |
| ``P:cb:ringing`` | zset | callbacks being delivered, scored by when the customer's ringing ends (ms) |
| ``P:closed`` | zset | closed conversations, scored by when they closed (ms): what retention looks at (gateway/ops/retention.py) |
| ``P:erased`` | zset | conversations an admin erased (gateway/ops/erasure.py), scored by when (ms), kept 30 days (trimmed by retention's pass): every node's retention pass deletes its own recordings of them, and the webhook fan-out copies nothing of them |
| ``P:closed:indexed`` | string | set once conversations closed before ``P:closed`` existed were indexed |
| ``P:retention:lock`` | string | the node running a retention pass (expires) |
| ``P:webhooks`` | hash | event webhook subscriptions: id -> JSON (url, secret, events, enabled, description, created_ms, updated_ms) (gateway/ops/webhooks.py) |
| ``P:webhook:ID:conv:CID`` | list | a subscription's outbox for one conversation: payloads (JSON) waiting to be delivered, oldest first, at most ``--webhook-outbox-max`` (the oldest go) |
| ``P:webhook:ID:log`` | list | a subscription's latest delivery attempts (JSON), newest first, capped |
| ``P:webhooks:due`` | zset | outboxes (``SUBSCRIPTION CONVERSATION``) with a payload to deliver, scored by when (ms); a claimed one by when its lease ends |
| ``P:webhooks:leases`` | hash | outbox -> the lease token of the node delivering its head now |
| ``P:webhooks:attempts`` | hash | outbox -> ``EVENT_LOG_ID ATTEMPTS FIRST_FAILED_MS``: failed attempts of its head so far, since when |
| ``P:webhooks:fanout`` | string | the node copying the event log into the outboxes (expires if that node dies) (gateway/ops/webhook_delivery.py) |
| ``P:rl:KIND:c:ID`` / ``P:rl:KIND:ip:ADDR`` | hash | token bucket (``t`` tokens, ``ts`` ms) of a customer / address, KIND ``msg``, ``conv``, ``file`` (attachments) ``ice`` (TURN pairs of ``call_ice``) or ``icew`` (a welcome's new TURN pair) (expires when full) |
| ``P:rl:icew:a:ID`` | hash | token bucket of an agent's new welcome TURN pairs (desk and test-run sockets; no address bucket) (expires when full) |
| ``P:turn:c:ID`` / ``P:turn:a:ID`` | string | the TURN username (``expiry:customer-ID`` / ``expiry:agent-ID``) of the pair the customer's / agent's welcomes carry (an agent's: the desk's and their test runs'): given again on a reconnect while half its lifetime is left, then replaced (a new pair takes an ``icew`` token); expires with the pair (gateway/contact/limits.py) |
| ``P:calls:c:ID`` / ``P:calls:ip:ADDR`` | zset | calls a customer / address holds (``customer/call``), scored by expiry (ms) (gateway/contact/limits.py) |
| ``P:login:session:SID`` | hash | an agent's login session: ``agent_id``, ``created``, ``expires`` (epoch ms), ``node`` (that logged it in), ``address`` (the client's); expires with it (gateway/wire/sessions.py) |
| ``P:login:agent:ID`` | zset | the agent's login session ids scored by their expiry (ms) |
| ``P:login:fail:pair:ID:ADDR`` / ``P:login:fail:ip:ADDR`` / ``P:login:fail:agent:ID`` | hash | failed logins (``n``, ``until`` ms) of an agent id from an address, of an address, of an agent id (gateway/wire/login_limits.py) |
| ``P:login:known:ID`` | zset | addresses the agent logged in from, scored by the last success (ms) |
| ``P:ru:DIM:KEY:DAY`` / ``P:ru:DIM:KEY:DAY:h`` | hash | report counters (gateway/ops/rollup_rules.py) of one key (a queue, agent, disposition or away reason: DIM) on one day of the center's time zone (YYYYMMDD, ``--center-timezone``): the day's totals (field: counter), per local hour (``HH|counter``); expire ``--rollup-retention-days`` after the day |
| ``P:ru:DIM:KEY:DAY:q`` | hash | per 15 minutes (``NN|counter``): no longer written (nothing read them); those left expire like the others, the backfill deletes them |
| ``P:ru:DIM:keys`` | set | the keys of a dimension that have counters |
| ``P:ru:flow:FLOW:DAY`` | hash | path analytics of a flow on one day of the center's time zone: ``t|FROM|TO`` transitions, ``h|NODE`` hang-ups, ``a|NODE`` agent requests (expires like the counters) |
| ``P:ru:flows`` | set | the flows that have path counters |
| ``P:ru:dead`` | stream | event-log entries the rollups set aside (unreadable, or refused ``MAX_FAILURES`` times): fields id, cid, type, error; capped at about 1,000 |
| ``P:ru:applied`` | zset | event-log entry ids whose counters were applied, scored by their time (ms): an entry delivered again is not counted twice; kept while the ``rollups`` group may deliver it again (from its oldest pending entry), a week at most |
| ``P:events`` | stream | the event log: every timeline event of every conversation, added in the same script step (fields cid, event_id, type, data, ts, queue, agent_id), trimmed to about ``--event-log-max-entries``; read by consumer groups (gateway/store/event_log_store.py); trimmed by time behind the groups' progress and at the retention cutoff (gateway/ops/retention.py) |
| ``P:flows:head`` | hash | flow name -> its newest saved version id (a save names it as its parent: optimistic concurrency) |
| ``P:flows:live`` | hash | flow name -> the published version id (what new calls and chats run) |
| ``P:flows:updated`` | hash | flow name -> when a version of it was last saved or published (ms) |
| ``P:flows:retired`` | hash | flow name -> the version that was live when an admin retired it ('' for none): out of service on every node, listed apart, versions kept (publishing one of them brings it back) |
| ``P:flows:lock`` | string | a publish or a retirement checking and changing what is live (one at a time on every node; expires) |
| ``P:flows:answers`` | hash | ``calls`` / ``chats`` -> the flow an admin chose for new calls / chats (a published one; '' for chats: no flow, straight to the agents; no field: ``--voice-flow`` / ``--chat-flow``) |
| ``P:flow:NAME:versions`` | hash | version id (content hash, 12 hex) -> JSON ``{yaml, author, at, message, parent}``; never changed |
| ``P:flow:NAME:log`` | list | the flow's version ids in the order they were first saved (gateway/store/flow_store.py) |
| ``P:accounts`` | hash | the agents directory: agent id -> JSON (name, password hash, capacity, roles, skills, disabled, must_change_password, created_at, updated_at) (gateway/contact/agents.py) |
| ``P:audit`` | stream | the audit log: who did what to what, when, before/after (no secret), capped by ``--audit-max-entries`` (gateway/contact/audit.py) |
| ``P:qcfg`` | hash | queue settings: queue name -> JSON (skills, priority, service level, announcements, music, maximum wait, callback policy, hours; gateway/contact/queues.py) |
| ``P:qcfg:ver`` | hash | queue name -> the version of its settings (optimistic concurrency: a write names the version it saw) |
| ``P:center`` | hash | the center's code lists: name -> JSON (``away_reasons``, ``dispositions``; gateway/contact/code_lists.py) |
| ``P:center:ver`` | hash | name -> the version of that list (optimistic concurrency, as queues) |
| ``P:widget`` | string | the widget's settings (JSON: title, colours, greeting, launcher text, language, hours queue; gateway/contact/widget_settings.py) |

Pub/sub channels: ``P:ch:conv:ID`` (timeline events and typing of one
conversation), ``P:ch:customer:ID`` (the customer moved to a new conversation),
``P:ch:agent:ID`` (assignments for one agent), ``P:ch:accounts`` (an agent of the directory changed: every node reads
it again), ``P:ch:queue``
(the waiting queue or agent presence changed), ``P:ch:node:NODE`` (agent call
commands for the calls anchored on that node, and their replies), ``P:ch:flows`` (a flow version was
published: every node puts it in service; an admin retired a flow: every node takes it out; or an admin chose the
flow calls or chats start in), ``P:ch:board`` (a live call moved on some node: the supervisors'
wallboards read again, gateway/ops/wallboard.py), ``P:ch:center`` (an admin saved a code list: every node's open
desks get the lists again, gateway/contact/code_lists.py), ``P:ch:durable`` (nobody listens: an empty publish there is
the write a durability ``WAIT`` counts replicas for, ``Store.durable``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Keys:
    prefix: str = "cg"

    def conv(self, cid: str) -> str:
        return f"{self.prefix}:conv:{cid}"

    def ctx(self, cid: str) -> str:
        return f"{self.prefix}:conv:{cid}:ctx"

    def timeline(self, cid: str) -> str:
        return f"{self.prefix}:conv:{cid}:tl"

    def client_ids(self, cid: str) -> str:
        return f"{self.prefix}:conv:{cid}:cids"

    def customer(self, cust: str) -> str:
        return f"{self.prefix}:customer:{cust}"

    def customer_convs(self, cust: str) -> str:
        return f"{self.prefix}:customer:{cust}:convs"

    def customer_erased(self, cust: str) -> str:
        return f"{self.prefix}:customer:{cust}:erased"

    def customer_erasing(self, cust: str) -> str:
        return f"{self.prefix}:customer:{cust}:erasing"

    @property
    def help_requests(self) -> str:
        return f"{self.prefix}:help"

    @property
    def customers_seen(self) -> str:
        return f"{self.prefix}:customers:seen"

    @property
    def customers_sweep(self) -> str:
        return f"{self.prefix}:customers:sweep"

    @property
    def erased_convs(self) -> str:
        return f"{self.prefix}:erased"

    @property
    def all_convs(self) -> str:
        return f"{self.prefix}:convs"

    def conv_words(self, cid: str) -> str:
        return f"{self.prefix}:conv:{cid}:words"

    def word(self, word: str) -> str:
        return f"{self.prefix}:word:{word}"

    @property
    def canned_shared(self) -> str:
        return f"{self.prefix}:canned:shared"

    def canned_personal(self, aid: str) -> str:
        return f"{self.prefix}:canned:agent:{aid}"

    def customer_client_ids(self, cust: str) -> str:
        return f"{self.prefix}:customer:{cust}:cids"

    def queue(self, name: str) -> str:
        return f"{self.prefix}:queue:{name}"

    def agent(self, aid: str) -> str:
        return f"{self.prefix}:agent:{aid}"

    def agent_convs(self, aid: str) -> str:
        return f"{self.prefix}:agent:{aid}:convs"

    def agent_sessions(self, aid: str) -> str:
        return f"{self.prefix}:agent:{aid}:sessions"

    @property
    def agents(self) -> str:
        return f"{self.prefix}:agents"

    @property
    def accounts(self) -> str:
        return f"{self.prefix}:accounts"

    @property
    def accounts_channel(self) -> str:
        return f"{self.prefix}:ch:accounts"

    @property
    def secret(self) -> str:
        return f"{self.prefix}:secret"

    @property
    def secret_fingerprint(self) -> str:
        return f"{self.prefix}:secret:fingerprint"

    def login_session(self, sid: str) -> str:
        return f"{self.prefix}:login:session:{sid}"

    def login_sessions_of(self, aid: str) -> str:
        return f"{self.prefix}:login:agent:{aid}"

    def login_failures(self, aid: str, address: str) -> tuple[str, str, str]:
        """The failed-login buckets of (agent id, address), of the address, of the agent id."""
        p = f"{self.prefix}:login:fail"
        return f"{p}:pair:{aid}:{address}", f"{p}:ip:{address}", f"{p}:agent:{aid}"

    def login_known_addresses(self, aid: str) -> str:
        return f"{self.prefix}:login:known:{aid}"

    def call(self, call_id: str) -> str:
        return f"{self.prefix}:call:{call_id}"

    def node_calls(self, node_id: str) -> str:
        return f"{self.prefix}:node:{node_id}:calls"

    def customer_calls(self, cust: str) -> str:
        return f"{self.prefix}:customer:{cust}:calls"

    def agent_calls(self, aid: str) -> str:
        return f"{self.prefix}:agent:{aid}:calls"

    @property
    def nodes(self) -> str:
        return f"{self.prefix}:nodes"

    def node_alive(self, node_id: str) -> str:
        return f"{self.prefix}:node:{node_id}:alive"

    def node_takeover(self, node_id: str) -> str:
        return f"{self.prefix}:node:{node_id}:takeover"

    def node_lost(self, node_id: str) -> str:
        return f"{self.prefix}:node:{node_id}:lost"

    def node_channel(self, node_id: str) -> str:
        return f"{self.prefix}:ch:node:{node_id}"

    def callback(self, cb_id: str) -> str:
        return f"{self.prefix}:cb:{cb_id}"

    @property
    def callbacks_due(self) -> str:
        return f"{self.prefix}:cb:due"

    @property
    def callbacks_open(self) -> str:
        return f"{self.prefix}:cb:open"

    @property
    def callbacks_queued(self) -> str:
        return f"{self.prefix}:cb:queued"

    @property
    def callbacks_ringing(self) -> str:
        return f"{self.prefix}:cb:ringing"

    @property
    def handle_times(self) -> str:
        return f"{self.prefix}:stats:handle_ms"

    @property
    def closed_index(self) -> str:
        return f"{self.prefix}:closed"

    @property
    def closed_indexed(self) -> str:
        return f"{self.prefix}:closed:indexed"

    @property
    def flows_lock(self) -> str:
        return f"{self.prefix}:flows:lock"

    @property
    def retention_lock(self) -> str:
        return f"{self.prefix}:retention:lock"

    def rate_bucket(self, kind: str, who: str, ident: str) -> str:
        return f"{self.prefix}:rl:{kind}:{who}:{ident}"

    def turn_pair(self, who: str, ident: str) -> str:
        """``who``: ``c`` a customer, ``a`` an agent."""
        return f"{self.prefix}:turn:{who}:{ident}"

    def call_slots(self, who: str, ident: str) -> str:
        return f"{self.prefix}:calls:{who}:{ident}"

    @property
    def queue_settings(self) -> str:
        return f"{self.prefix}:qcfg"

    @property
    def queue_versions(self) -> str:
        return f"{self.prefix}:qcfg:ver"

    @property
    def center_settings(self) -> str:
        return f"{self.prefix}:center"

    @property
    def center_versions(self) -> str:
        return f"{self.prefix}:center:ver"

    @property
    def center_channel(self) -> str:
        return f"{self.prefix}:ch:center"

    @property
    def widget_settings(self) -> str:
        return f"{self.prefix}:widget"

    @property
    def audit(self) -> str:
        return f"{self.prefix}:audit"

    def customer_channel(self, cust: str) -> str:
        return f"{self.prefix}:ch:customer:{cust}"

    def conv_channel(self, cid: str) -> str:
        return f"{self.prefix}:ch:conv:{cid}"

    def agent_channel(self, aid: str) -> str:
        return f"{self.prefix}:ch:agent:{aid}"

    def rollup(self, dim: str, key: str, day: str) -> tuple[str, str]:
        """The counter hashes of one key of a dimension on one day: day totals, hours."""
        base = f"{self.prefix}:ru:{dim}:{key}:{day}"
        return base, f"{base}:h"

    def rollup_quarters(self, dim: str, key: str, day: str) -> str:
        """Quarter hours: no longer written (the backfill deletes those left)."""
        return f"{self.prefix}:ru:{dim}:{key}:{day}:q"

    def rollup_keys(self, dim: str) -> str:
        return f"{self.prefix}:ru:{dim}:keys"

    def flow_paths(self, flow: str, day: str) -> str:
        return f"{self.prefix}:ru:flow:{flow}:{day}"

    @property
    def rollup_flows(self) -> str:
        return f"{self.prefix}:ru:flows"

    @property
    def rollups_dead(self) -> str:
        return f"{self.prefix}:ru:dead"

    @property
    def rollups_applied(self) -> str:
        return f"{self.prefix}:ru:applied"

    @property
    def event_log(self) -> str:
        return f"{self.prefix}:events"

    @property
    def queue_channel(self) -> str:
        return f"{self.prefix}:ch:queue"

    @property
    def webhooks(self) -> str:
        return f"{self.prefix}:webhooks"

    def webhook_outbox(self, sub_id: str, cid: str) -> str:
        return f"{self.prefix}:webhook:{sub_id}:conv:{cid}"

    def webhook_log(self, sub_id: str) -> str:
        return f"{self.prefix}:webhook:{sub_id}:log"

    @property
    def webhooks_due(self) -> str:
        return f"{self.prefix}:webhooks:due"

    @property
    def webhooks_leases(self) -> str:
        return f"{self.prefix}:webhooks:leases"

    @property
    def webhooks_attempts(self) -> str:
        return f"{self.prefix}:webhooks:attempts"

    @property
    def webhooks_fanout_lock(self) -> str:
        return f"{self.prefix}:webhooks:fanout"

    @property
    def flows_head(self) -> str:
        return f"{self.prefix}:flows:head"

    @property
    def flows_live(self) -> str:
        return f"{self.prefix}:flows:live"

    @property
    def flows_updated(self) -> str:
        return f"{self.prefix}:flows:updated"

    @property
    def flows_answers(self) -> str:
        return f"{self.prefix}:flows:answers"

    @property
    def flows_retired(self) -> str:
        return f"{self.prefix}:flows:retired"

    def flow_versions(self, name: str) -> str:
        return f"{self.prefix}:flow:{name}:versions"

    def flow_log(self, name: str) -> str:
        return f"{self.prefix}:flow:{name}:log"

    @property
    def flows_channel(self) -> str:
        return f"{self.prefix}:ch:flows"

    @property
    def board_channel(self) -> str:
        return f"{self.prefix}:ch:board"

    @property
    def durable_channel(self) -> str:
        return f"{self.prefix}:ch:durable"
