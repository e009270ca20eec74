"""The browser tests' event loop: one per test process (one per xdist worker), shared by every browser test and by
the async fixtures they use, so that one Playwright driver and one Chromium per kind serve them all.

Launching Chromium and its Playwright driver for each test cost about 1 s of CPU and 0.9 s of the clock, idle
(the driver, a Node.js process, half of it), over 130 times a run. A browser and its driver belong to the event loop
they were started on, and pytest-asyncio gives each test a loop of its own unless told otherwise: hence this loop.
Each test still gets a browser context of its own (its own cookies, storage, cache and permissions), closed after
it (tests/browser/conftest.py).

Every browser test module says ``pytestmark = BROWSER_TESTS``; every async fixture a browser test uses is declared
with :data:`browser_fixture`. tests/browser/conftest.py refuses a browser test that misses either: a fixture on
another loop than its test's fails in ways that look like timeouts (a page that never loads).
"""

from __future__ import annotations

import pytest
import pytest_asyncio

#: pytest-asyncio's loop scope of the browser tests
BROWSER_LOOP = "session"

#: ``pytestmark`` of every browser test module
BROWSER_TESTS = [pytest.mark.browser, pytest.mark.asyncio(loop_scope=BROWSER_LOOP)]

#: the decorator of every async fixture a browser test uses (function scope, on the browser tests' loop)
browser_fixture = pytest_asyncio.fixture(loop_scope=BROWSER_LOOP)
