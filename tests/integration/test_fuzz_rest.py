"""REST fuzz: schemathesis (a real fuzzer, in its own process) generates requests for every operation of the node's
own OpenAPI document, with an admin's token, against a real node over loopback.

It asserts that no answer is a 5xx, that every answer's status, media type and body are ones the document gives
for that operation, and that the node logged no traceback and no error meanwhile. Seeded (``FUZZ_SEED``) and
bounded (``EXAMPLES`` per operation). Left out: logging out and changing passwords (the run's own session would
end), the sockets (tests/integration/test_fuzz_protocol.py). Not checked: that the API takes every request the
document's schemas allow (a flow's YAML, a webhook's reachable URL, a queue's skills are judged beyond what JSON
Schema says; schemathesis's ``positive_data_acceptance``).
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import aiohttp
import pytest

from gateway.config import Settings
from gateway.contact.agents_file import add_agent
from tests.conftest import bounded
from tests.integration.test_admin_agents import token
from tests.integration.test_fuzz_protocol import LogTrap
from tests.support.servers import Node, start_node

ROOT = Path(__file__).resolve().parents[2]
SEED = int(os.environ.get("FUZZ_SEED", "20261206"))
EXAMPLES = 25  # per operation and phase
ADMIN = "ada-admin-passphrase"
LEFT_OUT = r"/api/agent/(logout|password|login|refresh)|/api/admin/agents/\{agent_id\}/password|/ws/"
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"


@pytest.fixture
async def admin_node(settings: Settings, agents_file: Path, tmp_path: Path) -> AsyncIterator[Node]:
    path = tmp_path / "agents.toml"
    path.write_bytes(agents_file.read_bytes())
    add_agent(path, "ada", "Ada Admin", ADMIN, roles=("agent", "supervisor", "admin"))
    node = await start_node(replace(settings, agents_file=path, trusted_proxies=("127.0.0.1/32",)))
    yield node
    await bounded(node.stop(), "stopping the node")


@pytest.mark.timeout(240)
async def test_rest_fuzz(admin_node: Node, tmp_path: Path) -> None:
    trap = LogTrap()
    logging.getLogger().addHandler(trap)
    try:
        async with aiohttp.ClientSession() as http:
            access = await token(http, admin_node, "ada", ADMIN)
        fuzzer = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "schemathesis.cli", "run", f"{admin_node.url}/api/openapi.json"),
            *("--header", f"Authorization: Bearer {access}", "--exclude-path-regex", LEFT_OUT),
            *("--checks", CHECKS, "--max-examples", str(EXAMPLES), "--seed", str(SEED), "--workers", "1"),
            *("--phases", "examples,coverage,fuzzing", "--generation-database", "none", "--no-color"),
            *("--request-timeout", "20", "--warnings", "off"),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            cwd=tmp_path,
            env={
                **os.environ,
                "SCHEMATHESIS_HOOKS": "tests.support.fuzz_rest_hooks",
                "CG_FUZZ_ADMIN": "ada",
                "PYTHONPATH": str(ROOT),
            },
        )
        out, _ = await fuzzer.communicate()
        report = out.decode(errors="replace")
        assert fuzzer.returncode == 0, report[-6000:]
        assert "API Operations" in report and "Tested: 0" not in report, report[-3000:]
        # the run was authorised to its end (a revoked token's 401s pass as documented and would hide the rest)
        auth = {"Authorization": f"Bearer {access}"}
        async with aiohttp.ClientSession() as http, http.get(admin_node.url + "/api/admin/agents", headers=auth) as r:
            assert r.status == 200, await r.text()
    finally:
        logging.getLogger().removeHandler(trap)
    assert not trap.bad, trap.summary()
