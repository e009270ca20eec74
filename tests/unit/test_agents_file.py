from pathlib import Path

import pytest

from gateway.contact.agents_file import add_agent, load_agents, render_agents
from gateway.contact.passwords import hash_password, verify_password
from gateway.errors import ConfigError


def test_password_hash_round_trip() -> None:
    stored = hash_password("correct horse")
    assert stored.startswith("scrypt$") and "correct horse" not in stored
    assert verify_password("correct horse", stored)
    assert not verify_password("wrong horse", stored)
    assert not verify_password("correct horse", "plain-text")


def test_add_and_load(tmp_path: Path) -> None:
    path = tmp_path / "agents.toml"
    add_agent(path, "alice", 'Alice "Al" Smith', "pw-123456", capacity=4)
    add_agent(path, "bob", "Bob", "pw-654321", roles=("agent", "supervisor"))
    directory = load_agents(path)
    alice = directory.get("alice")
    assert alice is not None and alice.name == 'Alice "Al" Smith' and alice.capacity == 4
    assert verify_password("pw-123456", alice.password_hash)
    assert directory.get("bob").roles == ("agent", "supervisor")  # type: ignore[union-attr]
    add_agent(path, "cy", "Cy", "pw-111111", skills=(("billing", 5), ("spanish", 1)))
    assert load_agents(path).get("cy").skills == (("billing", 5), ("spanish", 1))  # type: ignore[union-attr]
    table = tmp_path / "table.toml"
    table.write_text(
        f'[[agent]]\nid = "d"\npassword = "{hash_password("pw", n=2**10)}"\n'
        "skills = {{billing = 3, Spanish = 1}}\n".replace("{{", "{").replace("}}", "}")
    )
    assert load_agents(table).get("d").skills == (("billing", 3), ("spanish", 1))  # type: ignore[union-attr]
    with pytest.raises(ConfigError, match="already exists"):
        add_agent(path, "alice", "Again", "pw-000000")
    assert len(load_agents(path)) == 3


@pytest.mark.parametrize(
    "text, words",
    [
        ('[[agent]]\nid = "a"\npassword = "hunter2"\n', "'password' must be a scrypt hash"),
        ('[[agent]]\nid = "Bad Id!"\npassword = "x"\n', "'id' must match"),
        ('[[agent]]\nid = "a"\npassword = "{h}"\ncapacity = 0\n', "'capacity'"),
        ('[[agent]]\nid = "a"\npassword = "{h}"\n[[agent]]\nid = "a"\npassword = "{h}"\n', "duplicate id"),
        ("[[agent]\n", "not valid TOML"),
        ('[[agent]]\nid = "a"\npassword = "{h}"\nskills = ["billing:11"]\n', "agent 'a': skill 'billing:11'"),
        ('[[agent]]\nid = "a"\npassword = "{h}"\nskills = "billing"\n', "'skills' must be a list"),
    ],
)
def test_broken_files_name_file_and_entry(tmp_path: Path, text: str, words: str) -> None:
    path = tmp_path / "agents.toml"
    path.write_text(text.replace("{h}", hash_password("pw", n=2**10)))
    with pytest.raises(ConfigError) as info:
        load_agents(path)
    assert words in info.value.message and str(path) in info.value.message


def test_an_export_loads_back_the_same(tmp_path: Path) -> None:
    path = tmp_path / "agents.toml"
    add_agent(path, "alice", "Alice", "pw-123456", roles=("agent", "admin"), skills=(("billing", 5),))
    agents = list(load_agents(path).values())
    again = tmp_path / "again.toml"
    again.write_text(render_agents(agents))
    assert list(load_agents(again).values()) == agents
