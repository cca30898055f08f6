"""The GAN family plugin: shapes, gradient flow, losses against hand computations, real-data steps."""

from __future__ import annotations

import dataclasses
import typing

import pytest
import torch
from torch import nn

import ganzoo
from ganzoo import Batch, DatasetSpec, SpecError, plugins
from ganzoo.config import from_dict

MODELS = ("gan", "dcgan", "wgan-gp")
SPECS = {
    "mnist": DatasetSpec(1, 28, 28, 10),
    "cifar": DatasetSpec(3, 32, 32, 10),
    "digits": DatasetSpec(1, 8, 8, 10),
}
# Tiny networks keep the structural tests fast; the defaults are checked separately.
SMALL = {
    "gan": {"g_hidden": (32, 64), "d_hidden": (64, 32)},
    "dcgan": {"width": 8},
    "wgan-gp": {"width": 8},
}


def fake_batch(spec: DatasetSpec, n: int = 6) -> Batch:
    low, high = spec.value_range
    return Batch(torch.rand(n, spec.channels, spec.height, spec.width) * (high - low) + low)


@pytest.fixture(scope="module")
def mnist_slice() -> torch.Tensor:
    data = ganzoo.load_dataset("mnist5k", "train")
    torch.manual_seed(0)
    index = torch.randperm(len(data))[:32]
    return data.to_float(data.images[index])


def test_the_gan_plugin_registers_exactly_its_four_models():
    """The registry says which plugin registered each model: the "gan" plugin owns these four."""
    owned = {n: e.obj for n, e in plugins.registry("register_models").items() if e.plugin == "gan"}
    assert set(owned) == {"gan", "dcgan", "dcgan-cond", "wgan-gp"}
    assert owned["dcgan-cond"].family == "gan"
    for name in MODELS:
        cls = ganzoo.model_class(name)
        assert cls is owned[name]
        assert cls.name == name
        assert cls.family == "gan"
        assert cls.ema_modules == ("G",)
        assert cls.default_batch_size == 64
        assert cls.description and "\n" not in cls.description
    # Config defaults and an import without torch: ganzoo.testing.check_model (test_trainer.py).


def test_defaults_follow_the_papers():
    gan = ganzoo.model_class("gan").Config()
    assert (gan.latent_dim, gan.lr, tuple(gan.betas)) == (100, 2e-4, (0.5, 0.999))
    dcgan = ganzoo.model_class("dcgan").Config()
    assert (dcgan.latent_dim, dcgan.lr_g, dcgan.lr_d, tuple(dcgan.betas)) == (
        100,
        2e-4,
        2e-4,
        (0.5, 0.999),
    )
    wgan = ganzoo.model_class("wgan-gp").Config()
    assert (wgan.lr_g, wgan.lr_d, tuple(wgan.betas)) == (1e-4, 1e-4, (0.0, 0.9))
    assert (wgan.n_critic, wgan.gp_weight) == (5, 10.0)


def test_reference_gan_is_the_mnist_mlp_baseline():
    model = ganzoo.model_class("gan")(ganzoo.model_class("gan").Config(), SPECS["mnist"])
    g = [m for m in model.G.modules() if not isinstance(m, nn.Sequential)][1:]
    d = [m for m in model.D.modules() if not isinstance(m, nn.Sequential)][1:]
    g_linear = [(m.in_features, m.out_features) for m in g if isinstance(m, nn.Linear)]
    d_linear = [(m.in_features, m.out_features) for m in d if isinstance(m, nn.Linear)]
    assert g_linear == [(100, 256), (256, 512), (512, 1024), (1024, 784)]
    assert d_linear == [(784, 1024), (1024, 512), (512, 256), (256, 1)]
    assert [type(m) for m in g if not isinstance(m, nn.Linear)][:4] == [nn.ReLU] * 3 + [nn.Tanh]
    assert [type(m) for m in d if not isinstance(m, nn.Linear)] == [nn.ReLU] * 3 + [nn.Sigmoid]
    optimizers = model.configure_optimizers()
    for opt in optimizers.values():
        assert opt.param_groups[0]["lr"] == 2e-4
        assert opt.param_groups[0]["betas"] == (0.5, 0.999)


def test_reference_gan_losses_are_bce_on_sigmoid_outputs():
    model = ganzoo.build_model("gan", SPECS["digits"], SMALL["gan"])
    batch = fake_batch(SPECS["digits"])
    d_phase, g_phase = model.phases()
    torch.manual_seed(3)
    d_loss, logs = d_phase.loss(batch)
    torch.manual_seed(3)
    fake = model.G(torch.randn(batch.size, 100))
    bce = nn.BCELoss()
    p_real, p_fake = model.D(batch.x), model.D(fake)
    expected = bce(p_real, torch.ones_like(p_real)) + bce(p_fake, torch.zeros_like(p_fake))
    torch.testing.assert_close(d_loss, expected)
    torch.testing.assert_close(logs["p_real"], p_real.mean())
    torch.manual_seed(4)
    g_loss, _ = g_phase.loss(batch)
    torch.manual_seed(4)
    p = model.D(model.G(torch.randn(batch.size, 100)))
    torch.testing.assert_close(g_loss, bce(p, torch.ones_like(p)))


@pytest.mark.parametrize("spec_name", SPECS)
@pytest.mark.parametrize("name", MODELS)
def test_sample_shape_range_and_determinism(name, spec_name):
    spec = SPECS[spec_name]
    model = ganzoo.build_model(name, spec, SMALL[name])
    model.train()
    images = model.sample(5, generator=torch.Generator().manual_seed(1))
    assert images.shape == (5, spec.channels, spec.height, spec.width)
    assert images.dtype == torch.float32
    assert images.min() >= -1.0 and images.max() <= 1.0
    assert images.std() > 0
    assert model.G.training, "sampling must restore train mode"
    again = model.sample(5, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(images, again, rtol=0, atol=0)
    other = model.sample(5, generator=torch.Generator().manual_seed(2))
    assert not torch.equal(images, other)


@pytest.mark.parametrize("name", MODELS)
def test_samples_respect_another_value_range(name):
    spec = DatasetSpec(1, 8, 8, value_range=(0.0, 1.0))
    model = ganzoo.build_model(name, spec, SMALL[name])
    images = model.sample(16)
    assert images.min() >= 0.0 and images.max() <= 1.0
    assert 0.2 < images.mean() < 0.8  # tanh's centre maps to the range's centre


def _grads(module: nn.Module) -> list[torch.Tensor | None]:
    return [p.grad for p in module.parameters()]


@pytest.mark.parametrize("spec_name", SPECS)
@pytest.mark.parametrize("name", MODELS)
def test_each_phase_updates_only_its_own_network(name, spec_name):
    spec = SPECS[spec_name]
    model = ganzoo.build_model(name, spec, SMALL[name])
    model.train()
    optimizers = model.configure_optimizers()
    assert set(optimizers) == {"D", "G"}
    owned = {
        key: {id(p) for g in opt.param_groups for p in g["params"]}
        for key, opt in optimizers.items()
    }
    assert owned["G"] == {id(p) for p in model.G.parameters()}
    assert owned["D"] == {id(p) for p in model.D.parameters()}
    d_phase, g_phase = model.phases()
    assert (d_phase.optimizer, g_phase.optimizer) == ("D", "G")
    assert d_phase.new_batch and not g_phase.new_batch
    assert d_phase.repeat == (5 if name == "wgan-gp" else 1) and g_phase.repeat == 1

    batch = fake_batch(spec)
    loss, logs = d_phase.loss(batch)
    assert loss.dim() == 0 and torch.isfinite(loss)
    assert all(torch.isfinite(torch.as_tensor(v)) for v in logs.values())
    model.zero_grad(set_to_none=True)
    loss.backward()
    assert all(g is None for g in _grads(model.G)), "the D phase must not reach G (detach)"
    assert all(g is not None for g in _grads(model.D))
    assert any(g.abs().sum() > 0 for g in _grads(model.D))

    model.zero_grad(set_to_none=True)
    loss, _ = g_phase.loss(batch)
    assert loss.dim() == 0 and torch.isfinite(loss)
    loss.backward()
    assert all(g is not None and torch.isfinite(g).all() for g in _grads(model.G))
    assert any(g.abs().sum() > 0 for g in _grads(model.G))


@pytest.mark.parametrize("name", MODELS)
def test_losses_run_under_cpu_autocast(name):
    model = ganzoo.build_model(name, SPECS["digits"], SMALL[name])
    batch = fake_batch(SPECS["digits"])
    for phase in model.phases():
        with torch.autocast("cpu", dtype=torch.bfloat16):
            loss, _ = phase.loss(batch)
        assert loss.dtype == torch.float32 and torch.isfinite(loss)
        loss.backward()


def _train(model: ganzoo.Model, x: torch.Tensor, only: str, steps: int) -> None:
    optimizers = model.configure_optimizers()
    for _ in range(steps):
        for phase in model.phases():
            if phase.name != only:
                continue
            loss, _ = phase.loss(Batch(x))
            optimizers[phase.optimizer].zero_grad()
            loss.backward()
            optimizers[phase.optimizer].step()


def _loss_at(model: ganzoo.Model, x: torch.Tensor, phase_name: str, seed: int = 7) -> float:
    phase = next(p for p in model.phases() if p.name == phase_name)
    torch.manual_seed(seed)  # the same latents (and GP mixing weights) before and after
    return phase.loss(Batch(x))[0].item()


@pytest.mark.parametrize("name", MODELS)
def test_a_few_steps_on_mnist_lower_each_players_loss(name, mnist_slice):
    torch.manual_seed(0)
    model = ganzoo.build_model(name, SPECS["mnist"], SMALL[name])
    model.train()
    before = _loss_at(model, mnist_slice, "D")
    _train(model, mnist_slice, "D", steps=4)
    after = _loss_at(model, mnist_slice, "D")
    assert after < before - 1e-3, f"D loss {before:.4f} -> {after:.4f}"

    before = _loss_at(model, mnist_slice, "G")
    _train(model, mnist_slice, "G", steps=4)
    after = _loss_at(model, mnist_slice, "G")
    assert after < before - 1e-3, f"G loss {before:.4f} -> {after:.4f}"


@pytest.mark.parametrize("name", ["dcgan", "wgan-gp"])
@pytest.mark.parametrize(
    ("shape", "words"),
    [
        ((1, 28, 30), "square"),
        ((1, 25, 25), "25x25"),
        ((3, 7, 7), "7x7"),
        ((1, 256, 256), "256x256"),
    ],
)
def test_unsupported_shapes_raise_spec_error(name, shape, words):
    spec = DatasetSpec(*shape)
    cls = ganzoo.model_class(name)
    with pytest.raises(SpecError, match=words) as info:
        cls(cls.Config(), spec)
    assert "'gan'" in str(info.value)  # the message points to the model that does work
    assert isinstance(info.value, ganzoo.GanzooError)


@pytest.mark.parametrize("shape", [(1, 16, 16), (3, 64, 64), (1, 12, 12)])
def test_conv_models_cover_other_power_of_two_multiples(shape):
    spec = DatasetSpec(*shape)
    for name in ("dcgan", "wgan-gp"):
        model = ganzoo.build_model(name, spec, SMALL[name])
        assert model.sample(2).shape == (2, *shape)
        assert model.D(fake_batch(spec, 2).x).shape == (2,)


def test_mlp_gan_accepts_any_shape():
    spec = DatasetSpec(2, 5, 7)
    model = ganzoo.build_model("gan", spec, SMALL["gan"])
    assert model.sample(3).shape == (3, 2, 5, 7)


def test_gradient_penalty_matches_a_hand_computation():
    from ganzoo_gan.wgan_gp import gradient_penalty

    class Square(nn.Module):
        """critic(x) = sum(w * x^2): gradient 2 * w * x, known in closed form."""

        def __init__(self) -> None:
            super().__init__()
            self.w = nn.Parameter(torch.tensor([[0.5, -1.0], [2.0, 0.25]]))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return (self.w * x**2).flatten(1).sum(1)

    real = torch.tensor([[[[1.0, 2.0], [0.0, -1.0]]], [[[0.5, 0.5], [0.5, 0.5]]]])
    fake = torch.tensor([[[[-1.0, 0.0], [1.0, 3.0]]], [[[0.0, 0.0], [0.0, 0.0]]]])
    alpha = torch.tensor([0.25, 0.5])
    critic = Square()
    gp = gradient_penalty(critic, real, fake, alpha)

    expected = 0.0
    for i in range(2):
        x_hat = alpha[i] * real[i] + (1 - alpha[i]) * fake[i]
        grad = 2 * critic.w.detach() * x_hat[0]
        expected += (grad.pow(2).sum().sqrt().item() - 1) ** 2 / 2
    assert gp.item() == pytest.approx(expected, rel=1e-6)
    # Differentiable w.r.t. the critic's parameters (create_graph), as the loss needs.
    gp.backward()
    assert critic.w.grad is not None and critic.w.grad.abs().sum() > 0


def test_gradient_penalty_of_a_one_lipschitz_linear_critic_is_zero():
    from ganzoo_gan.wgan_gp import gradient_penalty

    critic = nn.Sequential(nn.Flatten(), nn.Linear(4, 1, bias=False))
    with torch.no_grad():
        critic[1].weight.copy_(torch.tensor([[0.6, 0.0, 0.8, 0.0]]))  # unit norm
    x = torch.randn(3, 1, 2, 2)
    gp = gradient_penalty(critic, x, torch.randn_like(x), torch.rand(3))
    assert gp.item() == pytest.approx(0.0, abs=1e-10)


def test_wgan_critic_loss_is_the_wasserstein_estimate_plus_weighted_penalty():
    model = ganzoo.build_model("wgan-gp", SPECS["digits"], SMALL["wgan-gp"], gp_weight=3.0)
    loss, logs = model.phases()[0].loss(fake_batch(SPECS["digits"]))
    assert logs["gp"] > 0
    torch.testing.assert_close(loss, -logs["wasserstein"] + 3.0 * logs["gp"])
    assert not any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.D.modules())
    assert any(isinstance(m, nn.GroupNorm) for m in model.D.modules())
    bare = ganzoo.build_model("wgan-gp", SPECS["digits"], SMALL["wgan-gp"], critic_norm="none")
    assert not any(isinstance(m, nn.GroupNorm) for m in bare.D.modules())


@pytest.mark.parametrize(
    ("name", "values", "words"),
    [
        ("wgan-gp", {"critic_norm": "batch"}, "critic_norm"),
        ("wgan-gp", {"n_critic": "0"}, "n_critic"),
        ("dcgan", {"betas": "0.5,1.5"}, "betas"),
        ("dcgan", {"width": "-4"}, "width"),
        ("gan", {"g_hidden": "()"}, "g_hidden"),
    ],
)
def test_invalid_hyperparameters_are_config_errors(name, values, words):
    with pytest.raises(ganzoo.ConfigError, match=words):
        from_dict(ganzoo.model_class(name).Config, values)


def test_hyperparameters_parse_from_set_strings():
    config = from_dict(ganzoo.model_class("wgan-gp").Config, {"betas": "0.1,0.95", "width": "16"})
    assert config.betas == (0.1, 0.95) and config.width == 16
    model = ganzoo.model_class("wgan-gp")(config, SPECS["digits"])
    assert model.configure_optimizers()["G"].param_groups[0]["betas"] == (0.1, 0.95)


LOSSES = ("bce", "wasserstein", "hinge")


def test_default_losses_are_the_ones_each_model_always_used():
    assert [ganzoo.model_class(n).Config().loss for n in MODELS] == ["bce", "bce", "wasserstein"]
    from ganzoo_gan.losses import CRITERIA, LossName

    assert typing.get_args(LossName) == tuple(CRITERIA) == LOSSES
    # Only the reference's BCE needs probabilities; other criteria need a raw score.
    assert isinstance(
        list(ganzoo.build_model("gan", SPECS["digits"], SMALL["gan"]).D.modules())[-1], nn.Sigmoid
    )
    bare = ganzoo.build_model("gan", SPECS["digits"], SMALL["gan"], loss="hinge")
    assert not any(isinstance(m, nn.Sigmoid) for m in bare.D.modules())


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("name", MODELS)
def test_each_loss_trains_a_few_steps_on_mnist(name, loss, mnist_slice):
    torch.manual_seed(0)
    model = ganzoo.build_model(name, SPECS["mnist"], SMALL[name], loss=loss)
    model.train()
    for player in ("D", "G"):
        before = _loss_at(model, mnist_slice, player)
        _train(model, mnist_slice, player, steps=4)
        after = _loss_at(model, mnist_slice, player)
        assert after < before - 1e-3, f"{player} loss {before:.4f} -> {after:.4f}"
    _, logs = model.phases()[0].loss(Batch(mnist_slice))
    assert ("gp" in logs) == (name == "wgan-gp")  # the penalty stays WGAN-GP's


def test_loss_choices_match_hand_computations():
    from ganzoo_gan.losses import criterion

    real, fake = torch.tensor([2.0, -0.5, 0.25]), torch.tensor([-1.5, 0.5, 3.0])
    hinge = criterion("hinge")
    d, logs = hinge.discriminator(hinge.score(real), hinge.score(fake))
    expected = (0.0 + 1.5 + 0.75) / 3 + (0.0 + 1.5 + 4.0) / 3
    assert d.item() == pytest.approx(expected)
    assert hinge.generator(hinge.score(fake)).item() == pytest.approx(-2.0 / 3)
    assert logs["d_real"].item() == pytest.approx(1.75 / 3)
    wasserstein = criterion("wasserstein")
    d, logs = wasserstein.discriminator(wasserstein.score(real), wasserstein.score(fake))
    assert d.item() == pytest.approx(2.0 / 3 - 1.75 / 3)
    assert logs["wasserstein"].item() == pytest.approx(-d.item())
    assert wasserstein.generator(wasserstein.score(fake)).item() == pytest.approx(-2.0 / 3)
    bce = criterion("bce")
    d, logs = bce.discriminator(real, fake)
    log_sig = torch.nn.functional.logsigmoid
    torch.testing.assert_close(d, -log_sig(real).mean() - log_sig(-fake).mean())
    torch.testing.assert_close(bce.generator(fake), -log_sig(fake).mean())


@pytest.mark.parametrize("name", MODELS)
def test_an_unknown_loss_is_a_config_error(name):
    cls = ganzoo.model_class(name)
    with pytest.raises(ganzoo.ConfigError, match="'loss'.*one of bce, wasserstein, hinge") as info:
        from_dict(cls.Config, {"loss": "lsgan"})
    assert "\n" not in str(info.value)
    # A config made without from_dict is refused when the model is built.
    with pytest.raises(ganzoo.ConfigError, match="unknown GAN loss 'lsgan'"):
        cls(dataclasses.replace(cls.Config(), loss="lsgan"), SPECS["digits"])


def test_a_gan_subclass_missing_a_piece_fails_before_training():
    from ganzoo_gan.base import ConvGANModel, GANModel

    @dataclasses.dataclass
    class NoLatent:
        loss: str = "bce"
        betas: tuple[float, float] = (0.5, 0.999)

    with pytest.raises(TypeError, match="Config lacks latent_dim"):

        class Broken(GANModel):
            name = "broken"
            Config = NoLatent

    @dataclasses.dataclass
    class ConvConfig:
        latent_dim: int = 8
        loss: str = "bce"
        betas: tuple[float, float] = (0.5, 0.999)

    with pytest.raises(TypeError, match="lacks width, lr_g, lr_d"):

        class NoWidth(ConvGANModel):
            name = "no-width"
            Config = ConvConfig

    class NoDiscriminator(GANModel):
        name = "no-d"
        Config = ConvConfig

        def build_generator(self) -> nn.Module:
            return nn.Linear(8, 64)

        def learning_rates(self) -> tuple[float, float]:
            return 1e-3, 1e-3

    with pytest.raises(TypeError, match="abstract.*build_discriminator"):
        NoDiscriminator(ConvConfig(), SPECS["digits"])
