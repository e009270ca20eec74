"""The wire vocabulary every layer shares: one declaration of every frame, message, state, code and limit.

    ``states``   StrEnums of what the wire carries and Redis stores: conversation, agent, call, callback states,
                 timeline event types, authors
    ``codes``    ErrorCode: every error code the gateway sends (error frames, problem JSON)
    ``limits``   what a client may send: sizes, lengths, key patterns
    ``client``   client frames (frozen dataclasses) and their parsing at the edge
    ``server``   server frames (frozen dataclasses), one ``as_dict()`` path to JSON
    ``bus``      messages between nodes on the Redis bus (frozen dataclasses), built and parsed only here
    ``js``       writes ``webclient/static/shared/protocol.js`` from the above (``python -m gateway.protocol.js``)

The whole package is the lowest layer of ``gateway/`` (with ``json_input`` and ``errors``): it imports no other
gateway module, and ``docs/protocol.md`` is checked against it (``tests/unit/test_protocol_docs.py``).
"""
