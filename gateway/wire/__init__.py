"""The edge: every byte from a browser enters here, is checked, and leaves as typed objects.

Sockets, HTTP routes, tokens and sessions. Imports the layers below; nothing below imports it.

Modules:

- ``api``               The HTTP API described as data: operations declared next to their handlers, /api/openapi.json.
- ``api_shapes``        The JSON Schemas of what the HTTP API sends and takes (the document's components).
- ``agent_socket``      The agent desk's WebSocket: presence, the waiting queue, assigned conversations.
- ``attachment_routes``  Attachments over HTTP: upload, download and thumbnails (the conversation's parties only).
- ``admin_agents``      The admin API for agents and the audit log, and an agent's own password.
- ``agent_status``      An agent's status set, by them or by a supervisor: what goes with it (calls, after-call work).
- ``agent_admin``       Managing agents: every write to the directory with its sessions ended and its audit entry.
- ``connection``        What customer and agent sockets share: the frame loop, errors, ordered sending.
- ``customer_routes``   A customer's data on request (admins): export it, erase it, find a site's user.
- ``customer_socket``   The customer's WebSocket: hello with (or without) a token, messages, typing.
- ``desk_routes``       The desk's HTTP API: conversation history and search, canned responses.
- ``flow_routes``       The admin console's flow API: versions, validate, graph, publish and roll back, diff, replay.
- ``metrics_route``     ``GET /metrics``: the node's Prometheus metrics, for the operator's scraper (token or loopback).
- ``login_limits``      Login limits: counted before the password is checked, per (agent id, address), per address, per agent.
- ``report_routes``     Historical reports and flow path analytics over HTTP (supervisors and admins), JSON or CSV.
- ``code_list_routes``  The center's code lists over HTTP: away reasons and dispositions (any agent reads, admins write).
- ``queue_routes``      Queues and the widget's settings over HTTP (admins write, supervisors read; the widget's are public).
- ``routes``            HTTP endpoints: pages and static files, agent login, health and readiness.
- ``supervisor_routes``  Supervisors act on agents over HTTP: set one away or available, sign one out.
- ``services``          What the edge's handlers reach: the node's services, typed, kept in the aiohttp app.
- ``security_headers``  Security headers on every response (an ``on_response_prepare`` hook, so errors and static files get them too).
- ``sessions``          Agents' login sessions: what an access token belongs to, and how it is taken back.
- ``signing_secret``    Where the token signing secret comes from (never from Redis' plain values).
- ``site_tokens``       Verified customers: a token the website's backend signs to vouch for who the customer is.
- ``tokens``            Signed, expiring bearer tokens for customers and agents.
- ``welcome_ice``       The TURN pair a welcome carries: the one its holder (a customer, an agent) holds, else a budgeted new one.
- ``webhook_routes``    Event webhook subscriptions over REST: admins write them, supervisors read them and their delivery logs.
"""
