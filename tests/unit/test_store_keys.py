"""Redis is reached only through gateway/store/, every key is built in the key table, scripts never build keys."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pytest

from gateway.store import keys as keys_module
from gateway.store.keys import Keys
from gateway.store.scripts import INCLUDES_DIR, LUA_DIR, resolve_includes, sources

ROOT = Path(__file__).parents[2]
GATEWAY = ROOT / "gateway"
STORE = GATEWAY / "store"
# The composition root builds the Redis client (pool, URL, closing it) and hands it to the store.
MAY_IMPORT_REDIS = {GATEWAY / "runtime.py", GATEWAY / "agents_cli.py"}

_CALL = re.compile(r"redis\.p?call\(\s*'(?P<command>\w+)'\s*,")
# commands whose every argument is a key, and those whose first two are; every other command's first argument is
ALL_KEYS = {"DEL", "UNLINK", "EXISTS", "TOUCH", "MGET", "SINTER", "SUNION", "SDIFF"}
TWO_KEYS = {"SMOVE", "RENAME", "RENAMENX", "RPOPLPUSH", "LMOVE", "COPY", "SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"}
SECOND_KEY = {"XGROUP", "XINFO"}  # a subcommand first ('SETID'), then the key
_FROM_KEYS = re.compile(r"^KEYS\[[^\]]+\]$")
_LOCALS = re.compile(r"^\s*local\s+(?P<names>[\w\s,]+?)\s*=\s*(?P<values>.+)$", re.MULTILINE)
_PARAMS = re.compile(r"local function \w+\((?P<params>[^)]*)\)")


def _imports_redis(path: Path) -> bool:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import) and any(a.name.split(".")[0] == "redis" for a in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and not node.level and (node.module or "").split(".")[0] == "redis":
            return True
    return False


def test_no_module_outside_the_store_imports_redis() -> None:
    offenders = sorted(
        str(p.relative_to(ROOT))
        for p in GATEWAY.rglob("*.py")
        if STORE not in p.parents and p not in MAY_IMPORT_REDIS and _imports_redis(p)
    )
    assert offenders == [], "reach Redis through a named operation in gateway/store/"


def _reaches_for_the_client(path: Path) -> list[int]:
    """Lines where ``path`` uses a ``.redis`` attribute (the store's client)."""
    return [
        node.lineno
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path)))
        if isinstance(node, ast.Attribute) and node.attr in ("redis", "_redis")
    ]


def test_no_module_outside_the_store_uses_the_stores_redis_client() -> None:
    offenders = sorted(
        f"{p.relative_to(ROOT)}:{line}"
        for p in GATEWAY.rglob("*.py")
        if STORE not in p.parents and p not in MAY_IMPORT_REDIS
        for line in _reaches_for_the_client(p)
    )
    assert offenders == [], "add a named operation to gateway/store/ instead"


def test_the_check_sees_an_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("from redis.exceptions import RedisError\n")
    assert _imports_redis(module)
    module.write_text("import redis.asyncio as aioredis\n")
    assert _imports_redis(module)
    module.write_text("from gateway.store.store import StoreError\n")
    assert not _imports_redis(module)
    module.write_text("async def f(store):\n    await store.redis.get('k')\n")
    assert _reaches_for_the_client(module) == [2]


def test_no_private_store_helper_is_imported_from_outside_the_store() -> None:
    offenders = []
    for path in GATEWAY.rglob("*.py"):
        if STORE in path.parents:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("gateway.store"):
                offenders += [f"{path.relative_to(ROOT)}: {a.name}" for a in node.names if a.name.startswith("_")]
    assert offenders == []


def test_no_key_is_built_outside_the_key_table() -> None:
    """The prefix is read only in gateway/store/keys.py: every other key comes from a Keys method."""
    offenders = sorted(
        f"{p.relative_to(ROOT)}:{n}"
        for p in GATEWAY.rglob("*.py")
        if p != STORE / "keys.py"
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"\bprefix\}|\.prefix\b", line)
    )
    assert offenders == []


def _key_bound_names(text: str) -> set[str]:
    """Names that hold keys: locals assigned only from KEYS[...], and the parameters of include functions."""
    names: set[str] = set()
    for m in _LOCALS.finditer(text):
        values = [v.strip() for v in m["values"].split(",")]
        if values and all(_FROM_KEYS.match(v) for v in values):
            names.update(n.strip() for n in m["names"].split(","))
    return names


def _arguments(text: str, start: int) -> list[str]:
    """The comma-separated arguments from ``start`` to the call's closing parenthesis (nested calls kept whole)."""
    args, depth, current = [], 0, ""
    for ch in text[start:]:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            if depth == 0:
                break
            depth -= 1
        if ch == "," and depth == 0:
            args.append(current.strip())
            current = ""
        else:
            current += ch
    return [*args, current.strip()] if current.strip() else args


def key_arguments(text: str) -> list[str]:
    """Every argument of a ``redis.call`` / ``redis.pcall`` that names a key."""
    found = []
    for m in _CALL.finditer(text):
        args = _arguments(text, m.end())
        command = m["command"].upper()
        if command in SECOND_KEY:
            found += args[1:2]
            continue
        found += args if command in ALL_KEYS else args[:2] if command in TWO_KEYS else args[:1]
    return found


def _script_files() -> list[Path]:
    return sorted(LUA_DIR.glob("*.lua"))


@pytest.mark.parametrize("path", _script_files(), ids=lambda p: p.name)
def test_every_key_a_script_touches_is_passed_in_keys(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    bound = _key_bound_names(text)
    wrong = [k for k in key_arguments(text) if not _FROM_KEYS.match(k) and k not in bound]
    assert wrong == [], f"{path.name}: a key built inside the script (pass it in KEYS): {wrong}"


@pytest.mark.parametrize("path", sorted(INCLUDES_DIR.glob("*.lua")), ids=lambda p: p.name)
def test_an_include_touches_only_keys_it_is_given(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    params = {p.strip() for m in _PARAMS.finditer(text) for p in m["params"].split(",")}
    wrong = [k for k in key_arguments(text) if not _FROM_KEYS.match(k) and k not in params]
    assert wrong == [], f"{path.name}: {wrong}"


def test_the_key_check_sees_a_key_built_from_argv() -> None:
    text = (
        "local conv = ARGV[3] .. cid\nredis.call('HGET', conv, 'state')\nredis.call('DEL', ARGV[1] .. sid)\n"
        "redis.call('DEL', KEYS[1], ARGV[2] .. ':ctx')\nredis.pcall('GET', ARGV[4])\n"
        "redis.call('SMOVE', KEYS[2], ARGV[5], 'm')\nredis.call('HSET', KEYS[3], 'f', string.format('%s', ARGV[6]))\n"
    )
    bound = _key_bound_names(text)
    assert [k for k in key_arguments(text) if not _FROM_KEYS.match(k) and k not in bound] == [
        "conv",
        "ARGV[1] .. sid",
        "ARGV[2] .. ':ctx'",
        "ARGV[4]",
        "ARGV[5]",
    ]


@pytest.mark.parametrize("path", _script_files(), ids=lambda p: p.name)
def test_a_script_file_names_how_many_keys_it_takes(path: Path) -> None:
    """``name-N.lua``: N is the highest KEYS[n] the script names (more may follow, said in its header)."""
    declared = int(path.stem.rpartition("-")[2])
    used = [int(n) for n in re.findall(r"KEYS\[(\d+)\]", path.read_text(encoding="utf-8"))]
    assert max(used) == declared
    assert path.read_text(encoding="utf-8").startswith("-- "), "a script starts with what it does, its KEYS and ARGV"


def test_includes_resolve_once_and_every_script_loads() -> None:
    assert "local function append(" in sources()["assign"].text
    assert "--@include" not in "".join(s.text for s in sources().values())
    text = resolve_includes("--@include append\n--@include append\nreturn 1\n")
    assert text.count("local function append(") == 1
    with pytest.raises(FileNotFoundError):
        resolve_includes("--@include no_such_include\n")


def _table_patterns() -> list[list[str | None]]:
    """The key table's and channel list's patterns (``P:conv:ID``), upper-case segments as None (any value)."""
    doc = keys_module.__doc__ or ""
    return [
        [None if seg.isupper() and seg != "P" else seg for seg in pattern.split(":")]
        for pattern in re.findall(r"``(P:[^`]+)``", doc)
    ]


def _made_keys() -> dict[str, list[str]]:
    """What each Keys member builds, with every argument a marker."""
    keys = Keys("P")
    made: dict[str, list[str]] = {}
    for name, member in inspect.getmembers(Keys):
        if name.startswith("_") or name == "prefix":
            continue
        if isinstance(member, property):
            made[name] = [getattr(keys, name)]
        elif callable(member):
            params = list(inspect.signature(member).parameters)[1:]
            value = getattr(keys, name)(*["\x00"] * len(params))
            made[name] = list(value) if isinstance(value, tuple) else [value]
    return made


def _in_table(key: str, table: list[list[str | None]]) -> bool:
    segments = key.split(":")
    return any(
        len(row) == len(segments) and all(s == "\x00" or s == r for s, r in zip(segments, row, strict=True))
        for row in table
    )


def test_every_key_the_table_builds_is_in_the_documented_key_table() -> None:
    table = _table_patterns()
    missing = sorted(
        f"{name}: {key.replace(chr(0), '*')}"
        for name, built in _made_keys().items()
        for key in built
        if not _in_table(key, table)
    )
    assert missing == [], "add these to the key table in gateway/store/keys.py"
    assert not _in_table("P:nowhere:\x00", table)


def _loose_pipelines(source: str) -> list[int]:
    """Lines of ``.pipeline(...)`` calls that are not an ``async with`` block's context (which always gives the
    pipeline's connection back; ``execute`` alone does not when loading the pipeline's scripts fails)."""
    tree = ast.parse(source)
    managed = {
        id(item.context_expr) for node in ast.walk(tree) if isinstance(node, ast.AsyncWith) for item in node.items
    }
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "pipeline"
        and id(node) not in managed
    ]


def test_every_pipeline_is_an_async_with_block() -> None:
    loose = {
        f"{path.relative_to(ROOT)}:{line}"
        for path in GATEWAY.rglob("*.py")
        for line in _loose_pipelines(path.read_text(encoding="utf-8"))
    }
    assert not loose, f"use 'async with redis.pipeline(...) as pipe:' (it releases the connection): {sorted(loose)}"


def test_the_pipeline_check_sees_a_loose_pipeline() -> None:
    assert _loose_pipelines("async def f(r):\n    p = r.pipeline()\n    await p.execute()\n") == [2]
    assert _loose_pipelines("async def f(r):\n    async with r.pipeline() as p:\n        await p.execute()\n") == []
