"""Voice calls: the call's aiortc leg, the hand-off to an agent's softphone, what agents and supervisors do on a call.

Modules:

- ``agent_calls``  Agents answer calls: ring the assigned agent, connect their softphone, bridge, hold, hang up.
- ``commands``     An agent's call commands reach the node the call is anchored on, whichever node the desk is on.
- ``handoff``      The hand-off state machine: waiting, ringing, connecting, connected, held, consulting, ended.
- ``consults``     Warm transfer: the agent consults another agent while the caller holds, then completes or cancels.
- ``manager``      Voice calls from the browser: one aiortc leg per call, attached to the customer's conversation.
- ``monitors``     Supervisors on a connected call: listening silently, or whispering to the agent only.
- ``transcripts``  Live transcripts of agent calls: both sides, utterance by utterance, on the conversation's timeline.
"""
