"""Argo CD health checks and resource actions for ctsync's kinds, run the way Argo CD runs them.

Argo CD (util/lua/lua.go) runs each script in a fresh gopher-lua state, which speaks Lua 5.1, with the
base, table and package libraries, and a reduced os (time and date only) that only require("os") returns:
there is no global os. The string, math, io and full os libraries are there only with useOpenLibs, which
ctsync's scripts do not need. The live object is the global `obj` and the script's return value is read
back as JSON. This runner does the same with lupa's Lua 5.1 and walks Argo CD's test layout next to the
scripts: health_test.yaml, actions/action_test.yaml.
"""

from pathlib import Path
from typing import Any

import pytest
import yaml
from lupa import lua51

CUSTOMIZATIONS = Path(__file__).resolve().parents[3] / "deploy" / "argocd" / "resource_customizations"
KIND_DIRS = sorted(kind for group in CUSTOMIZATIONS.iterdir() for kind in group.iterdir())

# os.time()/os.date() see this instant, so expected outputs can spell out the timestamps actions write
# (Argo CD's own test rewrites such fields to a placeholder before comparing instead).
FROZEN_TIME = 1741064767
FROZEN_ISO = "2025-03-04T05:06:07Z"

HEALTH_STATUSES = {"Healthy", "Progressing", "Degraded", "Suspended", "Missing", "Unknown"}

_SANDBOX = """
local frozen = ...
local real_date, sub, gmatch, find = os.date, string.sub, string.gmatch, string.find
local safe_os = {
  time = function() return frozen end,
  date = function(format)
    -- Without "!" Argo CD formats in the controller's time zone, which no script should depend on.
    assert(format ~= nil and sub(format, 1, 1) == "!", "os.date needs a UTC format (leading '!')")
    -- Argo CD has its own strftime; keep to the directives it renders as C does.
    for directive in gmatch(format, "%%(.)") do
      assert(find("YmdHMSFXy%", directive, 1, true), "Argo CD's os.date renders %" .. directive .. " its way")
    end
    return real_date(format, frozen)
  end,
}
-- Without the string library a string has no methods either: s:find() fails in Argo CD.
debug.setmetatable("", nil)
for _, name in ipairs({"io", "os", "string", "math", "debug", "coroutine"}) do
  _G[name] = nil
  package.loaded[name] = nil
end
python = nil
package.preload.os = function() return safe_os end
package.path, package.cpath, package.loadlib = "", "", nil
"""


def _to_lua(lua: Any, value: Any) -> Any:
    if isinstance(value, dict):
        return lua.table_from({key: _to_lua(lua, item) for key, item in value.items()})
    if isinstance(value, list):
        return lua.table_from([_to_lua(lua, item) for item in value])
    if value is None or isinstance(value, bool | int | float | str):
        return value
    # Argo CD reads manifests as JSON, where e.g. an unquoted YAML timestamp is a plain string.
    raise TypeError(f"{type(value).__name__} {value!r} is not a JSON value: quote it in the test data")


def _from_lua(value: Any) -> Any:
    if lua51.lua_type(value) != "table":
        return value
    items = {key: _from_lua(item) for key, item in value.items()}
    if list(items) == list(range(1, len(items) + 1)):
        return list(items.values())  # an empty table too: Argo CD's JSON encoder makes it []
    if not all(isinstance(key, str) for key in items):
        raise TypeError(f"a table with mixed keys has no JSON form: {sorted(map(str, items))}")
    return items


def run_lua(script: str, obj: dict[str, Any]) -> Any:
    lua = lua51.LuaRuntime(register_eval=False, register_builtins=False)
    lua.execute(_SANDBOX, FROZEN_TIME)
    lua.globals().obj = _to_lua(lua, obj)
    return _from_lua(lua.execute(script))


def _load(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def health(kind_dir: Path, obj: dict[str, Any]) -> dict[str, str]:
    result = run_lua((kind_dir / "health.lua").read_text(), obj)
    if result.get("status") not in HEALTH_STATUSES:
        return {"status": "Unknown", "message": "Lua returned an invalid health status"}  # as Argo CD does
    return {"status": result["status"], "message": result.get("message", "")}


def discover(kind_dir: Path, obj: dict[str, Any]) -> dict[str, bool]:
    """Action name -> disabled. An action given as {} comes back as [] and is enabled, as in Argo CD."""
    result = run_lua((kind_dir / "actions" / "discovery.lua").read_text(), obj)
    return {name: isinstance(spec, dict) and spec.get("disabled") is True for name, spec in result.items()}


def _cases(test_file: str, key: str) -> list[Any]:
    cases = []
    for kind_dir in KIND_DIRS:
        path = kind_dir / test_file
        if path.is_file():
            for case in _load(path).get(key) or ():
                name = "/".join(filter(None, (kind_dir.name, case.get("action"), case["inputPath"])))
                cases.append(pytest.param(path.parent, case, id=name))
    return cases


@pytest.mark.parametrize(("test_dir", "case"), _cases("health_test.yaml", "tests"))
def test_health(test_dir: Path, case: dict[str, Any]) -> None:
    expected = {"status": case["healthStatus"]["status"], "message": case["healthStatus"].get("message", "")}
    assert health(test_dir, _load(test_dir / case["inputPath"])) == expected


@pytest.mark.parametrize(("test_dir", "case"), _cases("actions/action_test.yaml", "discoveryTests"))
def test_discovery(test_dir: Path, case: dict[str, Any]) -> None:
    expected = {action["name"]: action.get("disabled", False) for action in case["result"]}
    # Argo CD only checks that what discovery returns is listed; both directions catch a missing action.
    assert discover(test_dir.parent, _load(test_dir / case["inputPath"])) == expected


@pytest.mark.parametrize(("test_dir", "case"), _cases("actions/action_test.yaml", "actionTests"))
def test_action(test_dir: Path, case: dict[str, Any]) -> None:
    script = (test_dir / case["action"] / "action.lua").read_text()
    result = run_lua(script, _load(test_dir / case["inputPath"]))
    assert result == _load(test_dir / case["expectedOutputPath"])


@pytest.mark.parametrize("kind_dir", KIND_DIRS, ids=lambda path: path.name)
def test_every_script_and_file_is_tested(kind_dir: Path) -> None:
    health_tests = _load(kind_dir / "health_test.yaml")["tests"]
    used = {(kind_dir / case["inputPath"]).resolve() for case in health_tests}
    actions_dir = kind_dir / "actions"
    if actions_dir.is_dir():
        action_tests = _load(actions_dir / "action_test.yaml")
        defined = {path.parent.name for path in actions_dir.glob("*/action.lua")}
        discovered = {a["name"] for case in action_tests["discoveryTests"] for a in case["result"]}
        tested = {case["action"] for case in action_tests["actionTests"]}
        assert defined == discovered == tested
        for case in action_tests["discoveryTests"] + action_tests["actionTests"]:
            for key in ("inputPath", "expectedOutputPath"):
                if key in case:
                    used.add((actions_dir / case[key]).resolve())
    assert {path.resolve() for path in kind_dir.rglob("testdata/*.yaml")} == used


@pytest.mark.parametrize(
    "script",
    [
        'return string.format("%d", 1)',
        'return ("text"):upper()',
        "return math.floor(1.5)",
        'return io.open("/etc/hostname")',
        "return os.time()",  # no global os: scripts take it from require("os")
        'return require("os").execute("true")',
        'return require("io")',
        'return require("os").date("%Y")',  # local time: Argo CD has it, but no check should depend on it
        'return require("os").date("!%T")',  # Argo CD prints "%T" as is
        'return python.eval("1")',  # lupa's bridge back into Python
    ],
)
def test_sandbox_refuses(script: str) -> None:
    with pytest.raises(lua51.LuaError):
        run_lua(script, {})


def test_sandbox_offers_what_argo_cd_has() -> None:
    script = 'local os = require("os") return {table.concat({"a", "b"}), os.date("!%FT%XZ"), os.time(), #"a"}'
    assert run_lua(script, {}) == ["ab", FROZEN_ISO, FROZEN_TIME, 1]


def test_obj_converts_both_ways() -> None:
    obj = {"metadata": {"name": "x", "generation": 3}, "spec": {"suspend": True, "groups": [{"id": "g"}]}}
    assert run_lua("return obj", obj) == obj
