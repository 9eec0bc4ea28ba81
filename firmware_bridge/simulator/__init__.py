"""The RF-scene simulator: a scene file of emitters and receivers -> RTL-SDR-like IQ.

The only fake in rfwatch, at the hardware edge (STYLE.md): deterministic with a seed,
able to drop samples, overload and vanish on request, and it tells the truth about what
it generates so dsp/ and compliance/ can be tested against it.

Public API::

    from firmware_bridge.simulator import Scene, SimulatorReceiver
    scene = Scene.from_file(scene_path("basic"))
    rx = SimulatorReceiver.from_scene(scene, "rx1", seed=1)
    with rx:
        rx.tune(100e6); block = rx.read(262_144)
        truth = rx.truth()              # list[EmitterTruth]
    scene.truth("rx1", 100e6, 2.4e6, scene.start_ns)

The submodules are imported on first use of these names (no work at import time).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from firmware_bridge.simulator.model import Scene
    from firmware_bridge.simulator.receiver import SimulatorReceiver
    from firmware_bridge.simulator.truth import EmitterTruth, NoiseTruth

__all__ = ["Scene", "SimulatorReceiver", "EmitterTruth", "NoiseTruth", "scene_path"]

_LAZY = {
    "Scene": "firmware_bridge.simulator.model",
    "SimulatorReceiver": "firmware_bridge.simulator.receiver",
    "EmitterTruth": "firmware_bridge.simulator.truth",
    "NoiseTruth": "firmware_bridge.simulator.truth",
}


def scene_path(name: str) -> Path:
    """Path of a scene shipped in the package (``"basic"``, ``"lang_son_demo"``)."""
    return Path(str(resources.files("firmware_bridge.simulator") / "scenes" / f"{name}.yaml"))


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(name)
    import importlib

    return getattr(importlib.import_module(module), name)
