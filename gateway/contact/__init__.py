"""Who talks to whom: conversations (the unit), queues and routing, agents and their presence, callbacks, limits.

Modules:

- ``agents``         The agents file: who may log in to the agent desk, with hashed passwords.
- ``callbacks``      Callbacks: "we'll call you back, you keep your place".
- ``canned``         Canned responses: shared (supervisors) and personal, with variables the desk fills in.
- ``conversations``  Conversations: the unit of the product. One id, one context, one append-only timeline.
- ``history``        The desk's history: a customer's earlier conversations, search, one conversation read whole.
- ``limits``         Abuse limits: how much one customer, and one client address, may take.
- ``passwords``      Password hashing with scrypt (standard library), in a self-describing format.
- ``presence``       Agent presence: which agents are connected (on any node), their status and load.
- ``queue_board``    The waiting list every agent desk shows, computed once per node and shared.
- ``routing``        Routing: priority first, then the longest-waiting conversation, to the longest-idle qualified agent.
- ``wait_estimate``  How long a waiting caller will wait: position in the queue and an estimate from recent handle times.
"""
