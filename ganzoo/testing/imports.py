"""Whether importing a plugin imports torch, measured in a fresh interpreter.

``ganzoo --help`` imports every plugin to learn its commands; a plugin that
imports torch at module level makes every ganzoo command seconds slower.  The
test process has torch loaded already, so only a new interpreter can tell.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import types
from typing import Any

from .report import CheckSkipped, fail

PROBE = """
import importlib, importlib.util, sys
target = sys.argv[1]
if target.endswith(".py"):
    spec = importlib.util.spec_from_file_location("ganzoo_import_probe", target)
    spec.loader.exec_module(importlib.util.module_from_spec(spec))
else:
    importlib.import_module(target)
print(sorted({m.split(".")[0] for m in sys.modules} & {"torch", "torchvision", "torch_fidelity"}))
"""


def plugin_of(hook: str, obj: Any) -> tuple[str, Any]:
    """(plugin name, plugin object) of the loaded plugin that registered ``obj`` through ``hook``."""
    from .. import plugins

    for reg in plugins.registry(hook).values():
        if reg.obj is obj:
            return reg.plugin, plugins.pm.get_plugin(reg.plugin)
    raise CheckSkipped("not registered by a loaded plugin, so there is no plugin module to import")


def imports_no_torch(plugin: str, module: Any) -> str:
    if not isinstance(module, types.ModuleType):
        raise CheckSkipped(f"plugin {plugin!r} is an in-process object, not an importable module")
    from_file = module.__name__.startswith("ganzoo_plugins_dir_")
    target = module.__file__ if from_file else module.__name__
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p or os.getcwd() for p in sys.path)
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, target], capture_output=True, text=True, env=env, timeout=300
    )
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
        fail(f"importing {target} in a fresh interpreter failed: {last}")
    heavy = ast.literal_eval(proc.stdout.strip().splitlines()[-1])
    if heavy:
        fail(
            f"importing {target} imports {', '.join(heavy)}; import them inside the hook "
            "functions instead (every ganzoo command, --help included, imports each plugin)"
        )
    return f"import {target} imports no torch"
