"""``--set`` / ``--config`` resolution into a typed hyperparameter dataclass."""

import json
from dataclasses import dataclass
from typing import Literal, Optional

import pytest

from ganzoo import ConfigError, GanzooError
from ganzoo.config import describe, from_dict, parse_sets, resolve, to_dict


@dataclass
class Hyper:
    steps: int = 100
    lr: float = 2e-4
    flag: bool = False
    name: str = "base"
    betas: tuple[float, float] = (0.5, 0.999)
    widths: tuple[int, ...] = (64, 32)
    loss: Literal["hinge", "bce"] = "bce"
    clip: Optional[float] = None  # noqa: UP045 (both spellings must work)
    seed: int | None = None


@dataclass
class Checked:
    low: int = 1
    high: int = 2

    def validate(self) -> None:
        if self.low >= self.high:
            raise ValueError("low must be below high")


def test_defaults_without_any_input():
    assert resolve(Hyper) == Hyper()


def test_set_strings_of_every_type():
    cfg = resolve(
        Hyper,
        [
            "steps=7",
            "lr=1e-3",
            "flag=true",
            "name=hello world",
            "betas=0.0, 0.9",
            "widths=(8,16,32)",
            "loss=hinge",
            "clip=1.5",
            "seed=3",
        ],
    )
    assert cfg == Hyper(7, 1e-3, True, "hello world", (0.0, 0.9), (8, 16, 32), "hinge", 1.5, 3)
    assert isinstance(cfg.steps, int) and isinstance(cfg.lr, float)


@pytest.mark.parametrize("text,value", [("yes", True), ("0", False), ("Off", False)])
def test_bool_spellings(text, value):
    assert resolve(Hyper, [f"flag={text}"]).flag is value


def test_optional_accepts_none():
    cfg = resolve(Hyper, ["clip=none", "seed=null"], base={"clip": 2.0, "seed": 1})
    assert cfg.clip is None and cfg.seed is None


def test_tuple_items_are_stripped():
    @dataclass
    class Names:
        names: tuple[str, ...] = ()

    assert resolve(Names, ["names=a, b ,c"]).names == ("a", "b", "c")


def test_toml_file_and_precedence(tmp_path):
    path = tmp_path / "cfg.toml"
    path.write_text('steps = 50\nlr = 0.01\nname = "from-file"\nbetas = [0.1, 0.2]\nflag = true\n')
    cfg = resolve(
        Hyper, ["lr=0.5"], config_file=path, base={"steps": 9, "name": "from-base", "seed": 4}
    )
    # defaults < base < file < --set
    assert cfg.lr == 0.5  # --set beats the file
    assert cfg.steps == 50 and cfg.name == "from-file"  # the file beats base
    assert cfg.seed == 4  # base beats the default
    assert cfg.loss == "bce"  # untouched default
    assert cfg.betas == (0.1, 0.2) and cfg.flag is True


def test_toml_integer_for_float_field_and_whole_float_for_int(tmp_path):
    path = tmp_path / "cfg.toml"
    path.write_text("lr = 1\nsteps = 3.0\n")
    cfg = resolve(Hyper, config_file=path)
    assert cfg.lr == 1.0 and isinstance(cfg.lr, float)
    assert cfg.steps == 3 and isinstance(cfg.steps, int)


def test_unknown_key_lists_every_valid_key_with_type_and_default():
    with pytest.raises(ConfigError) as info:
        resolve(Hyper, ["stpes=10"])
    message = str(info.value)
    assert "'stpes'" in message
    for text in (
        "steps: int = 100",
        "lr: float = 0.0002",
        "flag: bool = False",
        "name: str = 'base'",
        "betas: tuple[float, float] = (0.5, 0.999)",
        "widths: tuple[int, ...] = (64, 32)",
        "loss: one of hinge|bce = 'bce'",
        "clip: float | None = None",
        "seed: int | None = None",
    ):
        assert text in message
    assert "\n" not in message


@pytest.mark.parametrize(
    "pair,key,expected",
    [
        ("lr=abc", "lr", "float"),
        ("steps=1.5", "steps", "int"),
        ("flag=maybe", "flag", "bool"),
        ("loss=mse", "loss", "one of hinge|bce"),
        ("betas=0.5", "betas", "tuple[float, float]"),
        ("widths=1,x", "widths", "tuple[int, ...]"),
        ("clip=big", "clip", "float | None"),
    ],
)
def test_wrong_type_names_key_and_expected_type(pair, key, expected):
    with pytest.raises(ConfigError) as info:
        resolve(Hyper, [pair])
    message = str(info.value)
    assert f"for {key!r} (expected {expected})" in message
    assert "Valid keys:" in message and "\n" not in message


@pytest.mark.parametrize("toml_text", ['steps = "many"', "name = [1, 2]", "flag = 3.5"])
def test_wrong_types_in_toml(tmp_path, toml_text):
    path = tmp_path / "bad.toml"
    path.write_text(toml_text + "\n")
    with pytest.raises(ConfigError, match="bad value"):
        resolve(Hyper, config_file=path)


def test_bool_is_not_an_int():
    with pytest.raises(ConfigError, match="steps"):
        from_dict(Hyper, {"steps": True})


@pytest.mark.parametrize("pair", ["lr", "=3", "  =x"])
def test_malformed_set(pair):
    with pytest.raises(ConfigError, match="key=value"):
        parse_sets([pair])


def test_set_value_may_contain_equals_sign():
    assert parse_sets(["name=a=b"]) == {"name": "a=b"}


def test_missing_toml_file(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        resolve(Hyper, config_file=tmp_path / "nope.toml")


def test_invalid_toml_file(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text("steps = = 3\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        resolve(Hyper, config_file=path)
    path.write_bytes(b'name = "\xff"\n')
    with pytest.raises(ConfigError, match="not valid TOML"):
        resolve(Hyper, config_file=path)


def test_directory_as_toml_file(tmp_path):
    with pytest.raises(ConfigError, match="cannot read config file"):
        resolve(Hyper, config_file=tmp_path)


def test_validate_hook_turns_into_config_error():
    assert resolve(Checked, ["high=5"]).high == 5
    with pytest.raises(ConfigError, match="low must be below high"):
        resolve(Checked, ["low=3"])


def test_to_dict_round_trips_through_json():
    cfg = resolve(Hyper, ["betas=0.1,0.2", "clip=0.5", "loss=hinge", "flag=yes"])
    data = json.loads(json.dumps(to_dict(cfg)))
    assert data["betas"] == [0.1, 0.2]
    again = from_dict(Hyper, data)
    assert again == cfg
    assert isinstance(again.betas, tuple)


def test_describe_rows():
    rows = {row["name"]: row for row in describe(Hyper)}
    assert list(rows) == [
        "steps",
        "lr",
        "flag",
        "name",
        "betas",
        "widths",
        "loss",
        "clip",
        "seed",
    ]
    assert rows["betas"] == {
        "name": "betas",
        "type": "tuple[float, float]",
        "default": (0.5, 0.999),
    }
    assert rows["clip"]["type"] == "float | None"


def test_config_error_is_a_user_error():
    assert issubclass(ConfigError, GanzooError)
