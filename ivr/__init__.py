"""IVR and chat-bot flows: the flow language and its interpreter (knows nothing of aiohttp, aiortc or Redis).

Modules, in the order a flow travels through them:

- ``source``      YAML with line numbers (YAML 1.2 scalars, duplicate keys reported)
- ``errors``      FlowError ``file:line: node 'x': message``; FlowErrors holds all of a file
- ``template``    ``{{ var | default('x') }}`` templates, parsed once, rendered safely
- ``conditions``  branch conditions (equals, in, matches, gt, all/any/not), no eval
- ``hours``       weekly opening hours in a time zone, holidays
- ``model``       the validated, immutable Flow and its node classes
- ``schema``      the JSON Schema of flow files (and the key tables the loader checks)
- ``reader``      typed access to one mapping of a flow file; where its errors are reported
- ``ask_reader``  the loader's readers of question nodes (menu, callback, gather, choices, re-prompts)
- ``loader``      load_flow / load_dir: validate files, report every error
- ``registry``    FlowRegistry: the flows in service, reloaded without a restart
- ``events``      what the driver tells the interpreter (digits, text, timeouts, results)
- ``actions``     what the interpreter asks the driver to do, and timeline Steps
- ``matching``    which choice an answer picks; the digits in a typed or spoken number
- ``machine``     the interpreter's state and plumbing: steps, variables, prompts, the node loop
- ``questions``   menus and gathers: asking, matching answers, read-back, re-prompts, the fallback
- ``interpreter`` Interpreter: the state machine from events to actions
- ``graph``       the picture of a flow: nodes with their lines, transitions with what takes them
- ``replay``      past sessions' recorded inputs fed to another version; which paths change
- ``harness``     Session / run_call: a scripted driver for tests, simulator, benchmarks
- ``simulator``   a text session with a flow
- ``cli``         ``contact-gateway flows validate | simulate | schema``

The language is documented for admins in ``ivr/flows/README.md``.
"""
