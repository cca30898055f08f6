"""The model card: README.md with the YAML header the Hugging Face hub reads, then prose.

The header carries ``library_name``, ``license``, ``datasets``, ``tags`` and a
``model-index`` with every stored evaluation result, each named with its
extractor, image counts and protocol id, so a number on the hub can always be
traced to how it was measured.  YAML is written by hand (JSON strings are
valid YAML scalars), so no YAML library is needed.
"""

from __future__ import annotations

import json
from typing import Any

#: torch-fidelity result key -> (model-index metric type, label, lower is better)
METRICS = {
    "frechet_inception_distance": ("fid", "FID"),
    "kernel_inception_distance_mean": ("kid", "KID"),
    "inception_score_mean": ("inception_score", "IS"),
    "precision": ("precision", "precision"),
    "recall": ("recall", "recall"),
    "density": ("density", "density"),
    "coverage": ("coverage", "coverage"),
    "cmmd": ("cmmd", "CMMD"),
}


def q(value: Any) -> str:
    """A YAML scalar: JSON's quoting is valid YAML."""
    return json.dumps(value)


def metric_name(label: str, result: dict[str, Any]) -> str:
    p = result["protocol"]
    ref = p.get("reference") or {}
    return (
        f"{label} ({p['extractor']['name']}, {p['generated']['num_images']} generated vs "
        f"{ref.get('num_images')} real, protocol {result['protocol_id']})"
    )


def model_index(name: str, results: list[dict[str, Any]]) -> list[str]:
    lines = ["model-index:", f"- name: {q(name)}", "  results:"]
    for result in results:
        ref = result["protocol"].get("reference") or {}
        lines += [
            "  - task:",
            "      type: unconditional-image-generation",
            "      name: Unconditional image generation",
            "    dataset:",
            f"      name: {q(ref.get('dataset'))}",
            f"      type: {q(ref.get('dataset'))}",
            f"      split: {q(ref.get('split'))}",
            "    metrics:",
        ]
        for key, (kind, label) in METRICS.items():
            if key in result["metrics"]:
                lines += [
                    f"    - type: {kind}",
                    f"      value: {result['metrics'][key]:.6g}",
                    f"      name: {q(metric_name(label, result))}",
                ]
    return lines if results else []


def header(config: dict[str, Any], results: list[dict[str, Any]]) -> str:
    tags = ["ganzoo", "image-generation", config.get("family") or "model", config["model"]]
    lines = [
        "---",
        "library_name: ganzoo",
        f"license: {q(config.get('license') or 'other')}",
        f"datasets:\n- {q(config.get('dataset') or 'unknown')}",
        "tags:",
        *[f"- {q(tag)}" for tag in tags],
        *model_index(config.get("name") or config["model"], results),
        "---",
    ]
    return "\n".join(lines)


def results_table(results: list[dict[str, Any]]) -> list[str]:
    if not results:
        return ["No evaluation was stored for this checkpoint (score it with `ganzoo eval`)."]
    rows = [
        "| metric | value | extractor | generated | real | protocol |",
        "|---|---|---|---|---|---|",
    ]
    for result in results:
        p, ref = result["protocol"], result["protocol"].get("reference") or {}
        for key, (_, label) in METRICS.items():
            if key in result["metrics"]:
                rows.append(
                    f"| {label} | {result['metrics'][key]:.4g} | {p['extractor']['name']} | "
                    f"{p['generated']['num_images']} | {ref.get('num_images')} | "
                    f"`{result['protocol_id']}` |"
                )
    return rows


def trained_for(training: dict[str, Any]) -> str:
    """How long training took, where the export recorded it ("" for older folders)."""
    seconds = training.get("elapsed_s")
    if not isinstance(seconds, int | float) or isinstance(seconds, bool):
        return ""
    where = f" on {training['device']}" if isinstance(training.get("device"), str) else ""
    return f", {seconds / 60:.0f} minutes of training{where}"


def render(config: dict[str, Any], results: list[dict[str, Any]], has_grid: bool) -> str:
    """The whole README.md of a model folder."""
    name = config.get("name") or config["model"]
    training = config.get("training") or {}
    dtype = config.get("dtype", "float32")
    lines = [
        header(config, results),
        "",
        f"# {name}",
        "",
        f"A `{config['model']}` model ({config.get('family')}) from the `{config.get('plugin')}` "
        f"plugin of [ganzoo](https://pypi.org/project/ganzoo/), trained on "
        f"`{config.get('dataset')}` for {config.get('step')} steps"
        + (", exported with its EMA weights" if config.get("ema") else "")
        + f"; {config.get('parameters'):,} parameters stored in {dtype}.",
        "",
        "```python",
        "import ganzoo",
        "",
        f"model = ganzoo.from_pretrained({q(name)})  # or the path of this folder",
        "images = ganzoo.draw_samples(model, 16)  # float images in the dataset's value range",
        "```",
        "",
        "## How it was trained",
        "",
        f"`{training.get('command') or 'unknown'}` (seed {training.get('seed')}, batch "
        f"{training.get('batch_size')}, ganzoo {config.get('ganzoo_version')})"
        + trained_for(training)
        + ".",
        *(["", f"Data: {config['dataset_source']}."] if config.get("dataset_source") else []),
        "",
        "## Evaluation",
        "",
        *results_table(results),
    ]
    if dtype != "float32":
        lines += ["", f"The numbers were measured on the {dtype} weights stored here."]
    if has_grid:
        lines += ["", "## Samples", "", "![samples](samples.png)"]
    return "\n".join(lines) + "\n"
