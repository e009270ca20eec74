"""Schemathesis hooks for tests/integration/test_fuzz_rest.py (loaded by the fuzzer's process: SCHEMATHESIS_HOOKS).

The fuzzer must not end its own login: a request that would edit, remove or reset the password of the admin it runs
as (``CG_FUZZ_ADMIN``) is sent for another agent id instead. Anything else it may send."""

from __future__ import annotations

import os
from typing import Any

import schemathesis

FUZZ_ADMIN = os.environ.get("CG_FUZZ_ADMIN", "")


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    if FUZZ_ADMIN and case.method.upper() != "GET" and (case.path_parameters or {}).get("agent_id") == FUZZ_ADMIN:
        case.path_parameters["agent_id"] = "not-the-fuzzer"
