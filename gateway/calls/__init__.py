"""Voice calls: the call's aiortc leg, the hand-off to an agent's softphone, what agents and supervisors do on a call.

Modules, each importing only the ones above it (the caller's side knows the agents' side only as the small
``CallAgents`` protocol it is given at construction):

- ``admission``    Whether the node takes one more call: refused while its event loop runs late, or it drains.
- ``anchors``      The call registry: which node holds each call and where it stands, for commands and welcomes.
- ``call_slots``   How many calls one customer and one address may hold at once, on every node ("all lines busy").
- ``frame_counts`` The node's outgoing audio frames: counters over live and ended legs, the 20 ms clock's late ones.
- ``manager``      Voice calls from the browser: one aiortc leg per call, attached to the customer's conversation.
- ``transcripts``  Live transcripts of agent calls: both sides, utterance by utterance, on the conversation's timeline.
- ``handoff``      The hand-off state machine: waiting, ringing, connecting, connected, held, consulting, reconnecting,
                   ended.
- ``hold``         A caller on hold: announcements every ``announce_seconds`` of the queue they wait in.
- ``hold_music``   What a caller on hold hears: their queue's music file (flows directory), else the generated music.
- ``legs``         What agent and supervisor legs share: answering a desk's offer, music on hold, frame counters.
- ``taps``         What listens to a bridged call beside the agent: the recording and the live transcript.
- ``consults``     Warm transfer: the agent consults another agent while the caller holds, then completes or cancels.
- ``rejoins``      A dropped agent leg: the caller holds while the same agent's desk comes back with a new leg.
- ``monitors``     Supervisors on a connected call: listening silently, whispering to the agent, barging in.
- ``ringing``      A call waits for an agent: music on hold, announcements, ring the assigned agent, ring-no-answer.
- ``agent_calls``  Agents answer calls: connect their softphone, bridge, hold, transfer, hang up, a lost agent.
- ``commands``     An agent's call commands reach the node the call is anchored on, whichever node the desk is on.
- ``takeover``     Node heartbeats; a survivor ends a dead node's calls once, frees its agents, tells the sockets.
"""
