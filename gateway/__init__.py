"""The contact gateway: the aiohttp node that serves the widget, the agent desk and voice calls.

Folders are layers. A module imports its own layer or the layers below it, never
one above (``tests/unit/test_import_direction.py`` fails on a new back-edge)::

    app, cli, agents_cli, runtime, rtc_setup, workers, listen_port
                          composition: builds the node's services in dependency order, starts and stops them
                          (rtc_setup: the process-wide RTC settings, applied first); the command line (agents_cli:
                          the agents in the store a node uses; workers: N node processes on one port; listen_port:
                          a port already served is refused before starting)
    wire/                 the edge: customer and agent sockets, HTTP routes, tokens, login sessions
    ops/                  running the center: retention, metrics, report rollups, the wallboard, event webhooks
    calls/                voice calls: the call leg, the hand-off to an agent, hold, transfer, consult, monitor
    flows/                a flow on a channel: runner, chat bot, voice channel, speech, flow webhooks
    contact/              conversations, routing and queues, agents, presence, callbacks, limits, hand-overs
    store/                Redis: key layout, atomic operations, the cross-node bus, the embedded server
    config, config_table, setting, logs, tasks, data_dir, client_ip, metrics
                          settings (the table; how one is declared and parsed), logging, task ownership, the data
                          directory, client addresses, the node's Prometheus metrics (defined once, recorded into
                          by every layer)
    protocol/, json_input, errors
                          the vocabulary every layer shares: frames both ways, bus messages, states, event
                          types, error codes and the error hierarchy, limits; the browser's protocol.js is
                          generated from it (``python -m gateway.protocol.js``)

``ivr/`` (the flow language and its pure interpreter) and ``media/`` (aiortc legs,
audio, speech recognition) never import ``gateway``. The architecture, the life of a
chat message and of a call, and where state lives: ``docs/architecture.md``.
"""

__version__ = "0.1.0"
