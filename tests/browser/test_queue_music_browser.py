"""A queue's music on hold in the admin console (/admin, the queue dialog), in real Chromium against a real node.

The picker lists the audio files of the node's flows directory with their sizes (GET /api/admin/music); Listen plays
the chosen one from the gateway (GET /api/admin/music/{name}, with the session's token) in an <audio> element that
really plays, and stops with the Stop button or when the dialog closes; the choice is saved with the queue. A file
removed after the list was loaded cannot be played (the status line says why) and is refused at the Music field with
the gateway's message. A queue whose stored file is gone keeps it when saved; a supervisor sees the choice disabled
but can listen; without the list (no answer) the admin types a name as before.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, Page, expect

from gateway.config import Settings
from gateway.contact.agents_file import add_agent
from media.audiofile import write_wav
from tests.browser.test_admin_console_browser import (
    ADMIN_PASSWORD,
    checked,
    login_token,
    new_page,
    open_view,
    rest,
    screenshots,
    sign_in,
)
from tests.conftest import PASSWORDS, TEST_FLOWS, bounded
from tests.support.browser_loop import BROWSER_TESTS, browser_fixture
from tests.support.queue_calls import tone
from tests.support.servers import Node, start_node

pytestmark = BROWSER_TESTS

AUDIO = "[data-testid=cs-music-audio]"
GENERATED = "Generated music (the gateway\u2019s own)"


def write_tone(path: Path, seconds: float, hz: float = 700.0) -> Path:
    """A 48 kHz mono WAV of a sine tone."""
    write_wav(path, tone(hz, seconds))
    return path


@browser_fixture
async def music_node(settings: Settings, tmp_path: Path) -> AsyncIterator[Node]:
    """A node whose flows directory (the test flows) has hold.wav (2 s) and gone.wav (3 s); dana is an admin and
    carol a supervisor."""
    flows = tmp_path / "flows"
    shutil.copytree(TEST_FLOWS, flows)
    write_tone(flows / "hold.wav", 2.0)
    write_tone(flows / "gone.wav", 3.0, hz=440.0)
    agents = tmp_path / "agents.toml"
    add_agent(agents, "carol", "Carol White", PASSWORDS["carol"], capacity=1, roles=("agent", "supervisor"))
    add_agent(agents, "dana", "Dana Admin", ADMIN_PASSWORD, capacity=1, roles=("agent", "supervisor", "admin"))
    node = await start_node(replace(settings, agents_file=agents, flows_dir=flows))
    yield node
    await bounded(node.stop(), "stopping the gateway node")


async def audio_state(page: Page) -> dict[str, Any]:
    """The dialog's <audio>: paused, currentTime, duration, its src attribute."""
    return dict(
        await page.evaluate(
            f"""() => {{
                const a = document.querySelector('{AUDIO}');
                return {{ paused: a.paused, time: a.currentTime, duration: a.duration, src: a.getAttribute('src') }};
            }}"""
        )
    )


async def plays(page: Page) -> dict[str, Any]:
    """The <audio> plays a blob: URL (within 5 s of asking) and its time advances (by a quarter of a second at
    least); its state then."""
    await page.wait_for_function(
        f"() => {{ const a = document.querySelector('{AUDIO}'); return !a.paused && a.currentTime > 0; }}", timeout=5000
    )
    start = await audio_state(page)
    assert start["paused"] is False, start
    assert str(start["src"]).startswith("blob:"), start
    await page.wait_for_function(
        f"(t) => {{ const a = document.querySelector('{AUDIO}'); return !a.paused && a.currentTime > t + 0.25; }}",
        arg=start["time"],
        timeout=5000,
    )
    return await audio_state(page)


async def queue_of(node: Node, token: str, name: str) -> dict[str, Any]:
    status, body = await rest(node, token, "GET", "/api/admin/queues")
    assert status == 200, body
    return dict(next(q for q in body["queues"] if q["name"] == name))


async def test_an_admin_lists_listens_to_and_picks_a_queue_s_music_and_a_file_gone_since_is_refused_at_the_field(
    browser: Browser, music_node: Node, tmp_path: Path
) -> None:
    node = music_node
    shots = screenshots(tmp_path)
    admin = await login_token(node, "dana", ADMIN_PASSWORD)
    context, page, errors = await new_page(browser)
    await sign_in(page, node, "dana", ADMIN_PASSWORD)
    await open_view(page, "queues")
    await expect(page.locator("tr[data-queue=billing]")).to_contain_text("Generated")

    # ---- the files of the flows directory, each with its size, after the generated music
    await page.get_by_role("button", name="Edit queue billing").click()
    dialog = page.locator("[data-testid=cs-queue-dialog]")
    music = dialog.get_by_label("Music on hold")
    await expect(music.locator("option")).to_have_text([GENERATED, "gone.wav \u2014 288 kB", "hold.wav \u2014 192 kB"])
    await expect(music).to_have_value("")
    await expect(dialog.locator("[data-field=music] .cs-hint")).to_contain_text(
        "Callers waiting in this queue, and callers their agent puts on hold, hear it in a loop."
    )
    listen = dialog.get_by_test_id("cs-music-listen")
    await expect(listen).to_be_disabled()  # the generated music is not a file to fetch

    # ---- Listen plays the chosen file (the gateway's: its length is hold.wav's), Stop stops it
    await music.select_option("hold.wav")
    await expect(listen).to_be_enabled()
    await listen.click()
    await expect(listen).to_have_text("Stop")
    await expect(dialog.get_by_test_id("cs-music-status")).to_have_text("Playing hold.wav.")
    playing = await plays(page)
    assert abs(playing["duration"] - 2.0) < 0.05, playing
    await checked(page, errors, shots, "queue-music-playing")
    await listen.click()
    await expect(listen).to_have_text("Listen")
    stopped = await audio_state(page)
    assert stopped["paused"] is True and stopped["src"] is None, stopped
    await expect(dialog.get_by_test_id("cs-music-status")).to_have_text("")

    # ---- another file plays as itself; choosing another one stops it
    await music.select_option("gone.wav")
    await listen.click()
    assert abs((await plays(page))["duration"] - 3.0) < 0.05
    await music.select_option("hold.wav")
    await expect(listen).to_have_text("Listen")
    assert (await audio_state(page))["paused"] is True

    # ---- saved with the queue: the gateway has it, the table says it
    await dialog.locator("[type=submit]").click()
    await expect(dialog).to_be_hidden()
    await expect(page.locator("tr[data-queue=billing]")).to_contain_text("hold.wav")
    assert (await queue_of(node, admin, "billing"))["music"] == "hold.wav"

    # ---- closing the dialog while it plays stops the music
    await page.get_by_role("button", name="Edit queue billing").click()
    await expect(music).to_have_value("hold.wav")
    await listen.click()
    await plays(page)
    await page.evaluate(f"() => {{ window.heldAudio = document.querySelector('{AUDIO}'); }}")
    await page.keyboard.press("Escape")
    await expect(dialog).to_be_hidden()
    # (the dialog's close event comes a moment after it is hidden)
    await page.wait_for_function("() => window.heldAudio.paused && !window.heldAudio.getAttribute('src')", timeout=3000)

    # ---- a file removed after the list was loaded: refused next to the Music field, nothing saved
    await page.get_by_role("button", name="Edit queue billing").click()
    await expect(music.locator("option")).to_have_count(3)
    await music.select_option("gone.wav")
    (node.services.music.flows_dir / "gone.wav").unlink()
    await listen.click()  # (the gateway no longer has it to play either)
    await expect(dialog.get_by_test_id("cs-music-status")).to_have_text(
        "gone.wav could not be played: there is no music file 'gone.wav' in the flows directory."
    )
    await expect(listen).to_have_text("Listen")
    await dialog.locator("[type=submit]").click()
    error = dialog.locator("[data-field=music] .cs-field-error")
    await expect(error).to_have_text("music on hold: there is no file 'gone.wav' in the flows directory")
    await expect(music).to_have_attribute("aria-invalid", "true")
    await expect(music).to_be_focused()
    await expect(dialog).to_be_visible()
    await checked(page, errors, shots, "queue-music-refused")
    assert (await queue_of(node, admin, "billing"))["music"] == "hold.wav"
    await page.keyboard.press("Escape")
    await context.close()


async def test_a_stored_file_gone_since_is_kept_a_supervisor_listens_and_without_the_list_a_name_is_typed(
    browser: Browser, music_node: Node, tmp_path: Path
) -> None:
    node = music_node
    shots = screenshots(tmp_path)
    admin = await login_token(node, "dana", ADMIN_PASSWORD)
    flows = node.services.music.flows_dir
    write_tone(flows / "old.wav", 1.5)
    for name, file in (("billing", "old.wav"), ("support", "hold.wav")):
        queue = await queue_of(node, admin, name)
        status, body = await rest(node, admin, "PUT", f"/api/admin/queues/{name}", {**queue, "music": file})
        assert status == 200, body
    (flows / "old.wav").unlink()

    # ---- billing's old.wav is not there any more: still its choice, said so; saving keeps it
    context, page, errors = await new_page(browser)
    await sign_in(page, node, "dana", ADMIN_PASSWORD)
    await open_view(page, "queues")
    await page.get_by_role("button", name="Edit queue billing").click()
    dialog = page.locator("[data-testid=cs-queue-dialog]")
    music = dialog.get_by_label("Music on hold")
    await expect(music.locator("option")).to_have_text(
        [GENERATED, "old.wav \u2014 not in the flows directory", "gone.wav \u2014 288 kB", "hold.wav \u2014 192 kB"]
    )
    await expect(music).to_have_value("old.wav")
    await expect(dialog.get_by_test_id("cs-music-listen")).to_be_disabled()
    await dialog.locator("[name=priority]").fill("7")
    await dialog.locator("[type=submit]").click()
    await expect(dialog).to_be_hidden()
    billing = await queue_of(node, admin, "billing")
    assert (billing["priority"], billing["music"]) == (7, "old.wav")

    # ---- no list (the request fails): the name is typed, as before the picker
    await page.route("**/api/admin/music", lambda route: route.abort())
    await page.get_by_role("button", name="Edit queue support").click()
    typed = dialog.locator("input[name=music]")
    await expect(typed).to_have_value("hold.wav")
    await expect(dialog.get_by_label("Music on hold")).to_be_editable()
    await expect(dialog.locator("[data-field=music] .cs-hint")).to_contain_text("The list of files could not be loaded")
    await typed.fill("hold")
    await dialog.locator("[type=submit]").click()
    await expect(dialog.locator("[data-field=music] .cs-field-error")).to_contain_text(
        "Music on hold: empty (the generated music), or a .wav, .mp3 or .ogg file name"
    )
    await checked(page, errors, shots, "queue-music-typed")
    await page.keyboard.press("Escape")
    await context.close()

    # ---- a supervisor cannot change the choice but can listen to it
    context, page, errors = await new_page(browser)
    await sign_in(page, node, "carol", PASSWORDS["carol"])
    await open_view(page, "queues")
    await expect(page.locator("tr[data-queue=support]")).to_contain_text("hold.wav")
    await page.get_by_role("button", name="Details of queue support").click()
    dialog = page.locator("[data-testid=cs-queue-dialog]")
    music = dialog.get_by_label("Music on hold")
    await expect(music).to_have_value("hold.wav")
    await expect(music).to_be_disabled()
    listen = dialog.get_by_test_id("cs-music-listen")
    await expect(listen).to_be_visible()
    await expect(dialog.get_by_role("button", name="Add skill")).to_be_hidden()  # other buttons stay hidden
    await listen.click()
    await expect(listen).to_have_text("Stop")
    await plays(page)
    await checked(page, errors, shots, "queue-music-supervisor")
    await page.keyboard.press("Escape")
    await expect(dialog).to_be_hidden()
    await context.close()
