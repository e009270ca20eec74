"""Who talks to whom: conversations (the unit), queues and routing, agents and their presence, callbacks, limits.

Modules:

- ``absent_agents``  Agents who left without saying so (desk closed for minutes, disabled elsewhere): chats requeued.
- ``agents``         The agents directory in Redis: who may log in to the agent desk, with hashed passwords.
- ``agents_file``    The agents file (TOML): the directory's import and export format.
- ``attachment_files``  Where attachments' bytes live, behind one small interface (files under the data directory).
- ``audit``          The audit log: who changed what, when, before and after, in a capped stream.
- ``code_lists``     The center's code lists (a code and a label each) an admin keeps: versioned, in Redis.
- ``away_reasons``   Why agents are away (break, lunch, ...): the center's list an admin keeps, the desk offers.
- ``dispositions``   What agents close conversations with: the center's list, ``--dispositions`` until an admin's.
- ``attachments``    Attachments: images and PDFs sent by the customer or the agent, as timeline events.
- ``callbacks``      Callbacks: "we'll call you back, you keep your place".
- ``chat_end``       A customer ends their chat (the widget's "End chat"): closed as ``customer_ended``.
- ``chat_supervision``  Supervisors and agents' chats: coach the agent with a note, join the chat, move it.
- ``canned``         Canned responses: shared (supervisors) and personal, with variables the desk fills in.
- ``conversations``  Conversations: the unit of the product. One id, one context, one append-only timeline.
- ``customer_presence``  Customer presence: which customers have a widget open with a conversation (on any node).
- ``conversation_hooks``  A flow's side effects on its conversation: steps, variables, its queue, callbacks.
- ``gone_customers``  Customers who left a chat waiting (no widget open for minutes): it is closed as abandoned.
- ``help_requests``  Agents ask a supervisor for help with a chat; the wallboard lists the open requests.
- ``handover``       Hand-overs: a chat passed to a colleague or a queue; the chats of an agent who left, queued again.
- ``images``         Images taken as attachments: decoded once (PyAV), measured, scaled down to a thumbnail.
- ``history``        The desk's history: a customer's earlier conversations, search, one conversation read whole.
- ``limits``         Abuse limits: how much one customer, and one client address, may take.
- ``passwords``      Password hashing with scrypt (standard library), in a self-describing format.
- ``password_rules``  Which new passwords are refused: too short, or in the bundled list of breached ones.
- ``presence``       Agent presence: which agents are connected (on any node), their status and load.
- ``queues``         Queues as objects: required skills, priority, service level, hold, maximum wait, callbacks, hours.
- ``max_wait``       What happens to a conversation that waited its queue's maximum: overflow, callback, flow.
- ``queue_board``    The waiting list every agent desk shows, computed once per node and shared.
- ``sniff``          What a file really is, from its first bytes, and a file name that is safe to show.
- ``report_facts``   What a conversation's close and transfer events tell reports of the work on it (pure).
- ``routing``        Routing: priority first, then the longest-waiting conversation, to the longest-idle qualified agent.
- ``transfer_refusal``  Why a chat could not be handed to a colleague, in words an agent can act on.
- ``widget_settings``  The widget's title, colours, greeting, launcher text, language and hours queue.
- ``wait_estimate``  How long a waiting caller will wait: position in the queue and an estimate from recent handle times.
"""
