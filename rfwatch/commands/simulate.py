"""``rfwatch simulate``: record a simulated scene to SigMF, with its ground truth.

Writes ``X.sigmf-meta``/``X.sigmf-data`` (``cu8``: the dongle's own bytes) through
:class:`firmware_bridge.sigmf_io.SigMFWriter`, and ``X.truth.json`` beside them: the
simulator's ground truth for that tuning (emitters, powers, bandwidths, noise floor),
so a recording can be checked against what was put in.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from dsp.errors import InputFormatError

if TYPE_CHECKING:
    from firmware_bridge.simulator.model import Scene

_BLOCK_SAMPLES = 262_144


def _jsonable(value: object) -> object:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _on_intervals_ns(
    scene: Scene, emitter_id: str, t_start_ns: int, seconds: float
) -> list[list[int]]:
    emitter = scene.emitter(emitter_id)
    t0_s = (t_start_ns - scene.start_ns) / 1e9
    return [
        [scene.start_ns + int(round(a * 1e9)), scene.start_ns + int(round(b * 1e9))]
        for a, b in emitter.on_intervals_s(t0_s, t0_s + seconds)
    ]


def truth_path_for(meta_path: Path) -> Path:
    """``X.sigmf-meta`` -> ``X.truth.json``."""
    name = meta_path.name
    stem = name[: -len(".sigmf-meta")] if name.endswith(".sigmf-meta") else meta_path.stem
    return meta_path.with_name(stem + ".truth.json")


def simulate(
    scene: Path = typer.Argument(
        ..., help="Tệp cảnh YAML (hoặc tên cảnh có sẵn: basic, lang_son_demo) / scene file"
    ),
    out: Path = typer.Option(..., "--out", help="Tệp ra / output X.sigmf-meta"),
    seconds: float = typer.Option(1.0, "--seconds", min=0.0, help="Thời lượng / duration (s)"),
    freq: float | None = typer.Option(
        None, "--freq", help="Tần số trung tâm / centre frequency (Hz); default: the scene's"
    ),
    rate: float | None = typer.Option(
        None, "--rate", help="Tốc độ lấy mẫu / sample rate (S/s); default: the scene's"
    ),
    receiver: str | None = typer.Option(
        None, "--receiver", help="Máy thu trong cảnh / receiver id or name (default: first)"
    ),
    seed: int = typer.Option(0, "--seed", help="Hạt giống ngẫu nhiên / random seed"),
    gain: float | None = typer.Option(
        None, "--gain", help="Độ lợi / gain (dB); default: the scene's"
    ),
    overwrite: bool = typer.Option(False, "--overwrite", help="Ghi đè / replace existing files"),
) -> None:
    """Mô phỏng cảnh RF và ghi SigMF / simulate an RF scene and record it to SigMF."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from firmware_bridge.sigmf_io import SigMFWriter
    from firmware_bridge.simulator import SimulatorReceiver

    if not str(out).endswith(".sigmf-meta"):
        raise InputFormatError("tệp ra phải là .sigmf-meta / --out must end in .sigmf-meta",
                               field="--out")
    rx = SimulatorReceiver.from_scene_file(scene, receiver_name=receiver, seed=seed)
    console = Console(stderr=True)
    with rx:
        if freq is not None:
            rx.tune(freq)
        if rate is not None:
            rx.set_sample_rate(rate)
        if gain is not None:
            rx.set_gain(gain)
        total = int(round(seconds * rx.sample_rate_hz))
        truth = rx.truth()
        noise = rx.noise_truth()
        t_start_ns = rx.t_ns
        writer = SigMFWriter(
            out,
            sample_rate_hz=rx.sample_rate_hz,
            f_center_hz=rx.f_center_hz,
            t_start_ns=t_start_ns,
            datatype="cu8",
            description=f"rfwatch simulator, scene {rx.scene.name}",
            hw="rfwatch RF-scene simulator (R820T model)",
            receiver_id=rx.receiver_id,
            gain_db=rx.effective_gain_db,
            position=rx.position,
            overwrite=overwrite,
        )
        with writer, Progress(
            TextColumn("[bold]Mô phỏng / simulating[/]"),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
            TimeRemainingColumn(),
            console=console,
            transient=True,
        ) as progress:
            task = progress.add_task("sim", total=max(total, 1))
            done = 0
            overloads = 0
            while done < total:
                block = rx.read(min(_BLOCK_SAMPLES, total - done))
                writer.write_block(block)
                overloads += int(block.overload)
                done += block.n_samples
                progress.update(task, completed=done)
    truth_file = truth_path_for(writer.meta_path)
    truth_file.write_text(
        json.dumps(
            {
                "scene": rx.scene.name,
                "receiver_id": rx.receiver_id,
                "f_center_hz": rx.f_center_hz,
                "sample_rate_hz": rx.sample_rate_hz,
                "gain_db": rx.effective_gain_db,
                "t_start_ns": t_start_ns,
                "dbm_to_dbfs_offset_db": rx.dbm_to_dbfs_offset_db(
                    rx.f_center_hz, rx.effective_gain_db
                ),
                "noise": dataclasses.asdict(noise),
                "emitters": [
                    {
                        **{k: _jsonable(v) for k, v in dataclasses.asdict(t).items()},
                        # When it is on air within the recording (UTC ns), for schedules.
                        "on_intervals_ns": _on_intervals_ns(
                            rx.scene, t.emitter_id, t_start_ns, done / rx.sample_rate_hz
                        ),
                    }
                    for t in truth
                ],
            },
            ensure_ascii=False,
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    in_band = sum(1 for t in truth if t.in_band and t.on_air)
    console.print(
        f"Đã ghi / wrote {writer.meta_path} ({done} mẫu / samples, "
        f"{in_band} phát xạ trong băng / emitters in band, "
        f"quá tải / overloaded blocks: {overloads}); sự thật / truth: {truth_file}",
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    """Add ``simulate`` to the root app."""
    app.command("simulate")(simulate)
