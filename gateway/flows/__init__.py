"""Flows on a channel: the runner that executes the pure interpreter's actions as chat messages or audio, speech hook-up, flow webhooks.

Modules:

- ``call_speech``    One call's ears: the caller's audio into a speech listener, its outcomes into the flow.
- ``captions``       Captions of a call for the caller's widget: each prompt's text as it plays, what the IVR understood.
- ``chat_bot``       The same flow as a chat bot: prompts become bot messages, menus become buttons, typed text answers.
- ``live``           The flows in service on this node: each flow's published version; the flows answering calls, chats.
- ``replays``        Replay of past sessions' timelines against a flow version (ivr/replay.py over the store).
- ``runner``         Runs an IVR / bot flow for one conversation: executes the interpreter's actions on a channel.
- ``speech``         Speech recognition for the IVR: which engine a flow gets, each listening window's grammar, the flow check.
- ``test_runs``      Test runs of any flow version from the console: a ``t_`` conversation that reaches no agent, report or webhook.
- ``voice_channel``  A call as a flow channel: prompts become audio on the caller's outgoing track.
- ``versions``       Flow versions: save (checked, optimistic), publish and roll back, diff, graph, who answers; files pushed and pulled.
- ``webhooks``       Flow webhooks: the HTTP client flows call out with, what it may reach, and how its requests are signed.
"""
