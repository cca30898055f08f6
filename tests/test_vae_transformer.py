"""The VAE and Transformer families: shapes, likelihood maths, tokenisation, KV cache, real-data steps."""

from __future__ import annotations

import math

import pytest
import torch

import ganzoo
from ganzoo import Batch, DatasetSpec, SpecError
from ganzoo.config import from_dict
from ganzoo.errors import ConfigError

SPECS = {
    "mnist": DatasetSpec(1, 28, 28, 10),
    "cifar": DatasetSpec(3, 32, 32, 10),
    "digits": DatasetSpec(1, 8, 8, 10),
}
# Tiny networks keep the structural tests fast; the defaults get one real-data check each.
SMALL = {
    "vae": {"latent_dim": 4, "base_channels": 4},
    "transformer": {"d_model": 16, "n_layers": 2, "n_heads": 2, "mlp_ratio": 2},
}


def quantized_batch(spec: DatasetSpec, n: int = 4, seed: int = 0) -> Batch:
    """Random 8-bit images as the data pipeline delivers them (bin centres in value_range)."""
    g = torch.Generator().manual_seed(seed)
    u8 = torch.randint(0, 256, (n, spec.channels, spec.height, spec.width), generator=g)
    low, high = spec.value_range
    return Batch(u8.float() * ((high - low) / 255.0) + low)


@pytest.fixture(scope="module")
def mnist_slice() -> torch.Tensor:
    data = ganzoo.load_dataset("mnist5k", "train")
    return data.to_float(data.images[::40][:128])  # all ten digits, 128 images


def test_registered_with_family_and_metadata():
    vae, tf = ganzoo.model_class("vae"), ganzoo.model_class("transformer")
    assert (vae.family, tf.family) == ("vae", "autoregressive")
    assert vae.ema_modules == ("decoder",) and not vae.ema_by_default
    for cls in (vae, tf):
        assert cls.description and "\n" not in cls.description
        assert cls.default_batch_size > 0


@pytest.mark.parametrize("name", ["vae", "transformer"])
@pytest.mark.parametrize("spec_name", list(SPECS))
def test_builds_trains_and_samples_in_range(name, spec_name):
    spec = SPECS[spec_name]
    # Colour defaults to one token per pixel (1024 for 32x32); 2x2 patches keep this test fast.
    overrides = (
        {"patch_size": 2, "levels": 2} if (name, spec_name) == ("transformer", "cifar") else {}
    )
    model = ganzoo.build_model(name, spec, SMALL[name], **overrides)
    loss, logs = model.phases()[0].loss(quantized_batch(spec))
    assert loss.dim() == 0 and torch.isfinite(loss)
    loss.backward()
    assert all(p.grad is not None for p in model.parameters() if p.requires_grad)
    assert all(math.isfinite(float(v)) for v in logs.values())
    model.train()
    g = torch.Generator().manual_seed(0)
    images = model.sample(2, generator=g)
    assert images.shape == (2, spec.channels, spec.height, spec.width)
    assert images.dtype == torch.float32
    assert images.min() >= -1.0 and images.max() <= 1.0
    assert model.training, "sample must restore training mode"
    again = model.sample(2, generator=torch.Generator().manual_seed(0))
    assert torch.equal(images, again), "the same generator seed must give the same images"


@pytest.mark.parametrize("name", ["vae", "transformer"])
def test_sample_respects_other_value_ranges(name):
    spec = DatasetSpec(1, 8, 8, None, value_range=(0.0, 1.0))
    model = ganzoo.build_model(name, spec, SMALL[name])
    images = model.sample(3, generator=torch.Generator().manual_seed(1))
    assert images.min() >= 0.0 and images.max() <= 1.0
    bpd = model.bits_per_dim(quantized_batch(spec))
    assert bpd.shape == (4,) and torch.isfinite(bpd).all()


@pytest.mark.parametrize(
    ("name", "spec", "overrides", "match"),
    [
        ("vae", DatasetSpec(1, 30, 30), {}, "multiples of 4"),
        ("vae", DatasetSpec(3, 4, 4), {}, "multiples of 4 between 8"),
        ("vae", DatasetSpec(1, 128, 128), {}, "between 8 and 64"),
        ("transformer", DatasetSpec(3, 32, 32), {"patch_size": 2, "levels": 8}, "token ids"),
        ("transformer", DatasetSpec(3, 32, 32), {"patch_size": 4}, "fewer than 2 levels"),
        ("transformer", DatasetSpec(1, 256, 256), {}, "use a larger"),
    ],
)
def test_unsupported_spec_raises_spec_error(name, spec, overrides, match):
    with pytest.raises(SpecError, match=match):
        ganzoo.build_model(name, spec, SMALL[name], **overrides)


def test_bad_hyperparameters_are_config_errors():
    with pytest.raises(ConfigError, match="divisible"):
        from_dict(ganzoo.model_class("transformer").Config, {"d_model": 30, "n_heads": 4})
    with pytest.raises(ConfigError, match="latent_dim"):
        from_dict(ganzoo.model_class("vae").Config, {"latent_dim": 0})


# ---------------------------------------------------------------- VAE likelihood


def test_discretized_logistic_is_a_distribution_over_256_values():
    from ganzoo_vae.likelihood import discretized_logistic_log_prob

    values = torch.arange(256, dtype=torch.float32) * (2 / 255) - 1  # bin centres
    g = torch.Generator().manual_seed(0)
    mean = torch.cat([torch.randn(6, generator=g) * 1.5, torch.tensor([-1.0, 1.0, 0.3, 3.0])])
    log_scale = torch.cat([torch.randn(6, generator=g) - 2, torch.tensor([-7.0, -7.0, 2.0, -3.0])])
    logp = discretized_logistic_log_prob(
        values.unsqueeze(1), mean.unsqueeze(0), log_scale.unsqueeze(0)
    )
    assert torch.isfinite(logp).all()
    total = logp.double().exp().sum(0)
    assert torch.allclose(total, torch.ones_like(total), atol=1e-4), total
    # A sharp logistic on a bin centre puts nearly all mass on that bin.
    sharp = discretized_logistic_log_prob(values[100:101], values[100:101], torch.tensor([-7.0]))
    assert sharp.exp().item() > 0.9


def test_vae_elbo_and_bits_per_dim_agree():
    spec = SPECS["mnist"]
    model = ganzoo.build_model("vae", spec, SMALL["vae"])
    batch = quantized_batch(spec, n=5)
    with torch.no_grad():
        torch.manual_seed(3)
        recon, kl = model.terms(batch)
        torch.manual_seed(3)
        bpd = model.bits_per_dim(batch)
    assert bpd.shape == (5,) and torch.isfinite(bpd).all() and (kl >= 0).all()
    torch.testing.assert_close(bpd, (recon + kl) / (math.log(2) * spec.dims))
    torch.manual_seed(3)
    loss, logs = model.phases()[0].loss(batch)
    assert float(logs["elbo_nats"]) == pytest.approx(-float((recon + kl).mean()), rel=1e-5)
    assert float(logs["bpd"]) == pytest.approx(
        -float(logs["elbo_nats"]) / (math.log(2) * spec.dims), rel=1e-5
    )
    assert float(loss.detach()) == pytest.approx(float((recon + kl).mean()) / spec.dims, rel=1e-5)


# ----------------------------------------------------------- transformer tokens


@pytest.mark.parametrize(
    ("channels", "height", "width", "patch", "levels"),
    [(1, 28, 28, 2, 4), (3, 8, 8, 1, 8), (1, 7, 9, 2, 3), (2, 6, 6, 3, 2)],
)
def test_tokenise_detokenise_round_trips_quantized_images(channels, height, width, patch, levels):
    from ganzoo_transformer.tokens import PatchTokenizer

    tok = PatchTokenizer(channels, height, width, patch, levels)
    g = torch.Generator().manual_seed(0)
    q = torch.randint(0, levels, (3, channels, height, width), generator=g)
    images = tok.dequantize(q)
    tokens = tok.encode(images)
    assert tokens.shape == (3, tok.num_tokens)
    assert tokens.min() >= 0 and tokens.max() < tok.vocab_size
    assert torch.equal(tok.decode(tokens), images)
    assert torch.equal(tok.encode(tok.decode(tokens)), tokens)
    # Through uint8, as a saved sample would go.
    u8 = ganzoo.to_uint8(images)
    assert torch.equal(tok.encode(u8.float() * (2 / 255) - 1), tokens)


def test_default_tokenisation_fits_mnist_in_196_tokens():
    model = ganzoo.build_model("transformer", SPECS["mnist"], SMALL["transformer"])
    assert (model.tokenizer.patch, model.tokenizer.levels) == (2, 4)
    assert model.tokenizer.vocab_size == 256 and model.tokenizer.num_tokens == 196
    cifar = ganzoo.build_model("transformer", SPECS["cifar"], SMALL["transformer"])
    assert (cifar.tokenizer.patch, cifar.tokenizer.levels, cifar.tokenizer.vocab_size) == (
        1,
        8,
        512,
    )


def test_quantization_keeps_black_and_white():
    from ganzoo_transformer.tokens import PatchTokenizer

    tok = PatchTokenizer(1, 2, 2, 2, 4)
    x = torch.tensor([[[[-1.0, 1.0], [-0.34, 0.34]]]])
    assert tok.quantize(x).flatten().tolist() == [0, 3, 1, 2]
    assert tok.decode(tok.encode(x))[0, 0, 0].tolist() == [-1.0, 1.0]


# ------------------------------------------------------------ transformer maths


def test_transformer_is_causal():
    model = ganzoo.build_model("transformer", SPECS["digits"], SMALL["transformer"]).eval()
    vocab, steps = model.tokenizer.vocab_size, model.tokenizer.num_tokens
    g = torch.Generator().manual_seed(0)
    tokens = torch.randint(0, vocab, (2, steps), generator=g)
    k = 6
    changed = tokens.clone()
    changed[:, k] = (changed[:, k] + 1) % vocab
    with torch.no_grad():
        before, after = model.logits(tokens), model.logits(changed)
    torch.testing.assert_close(before[:, : k + 1], after[:, : k + 1], rtol=0, atol=1e-6)
    assert (before[:, k + 1] - after[:, k + 1]).abs().max() > 1e-4, "token k must inform k+1"


def test_kv_cache_matches_full_forward():
    model = ganzoo.build_model("transformer", SPECS["digits"], SMALL["transformer"]).eval()
    vocab, steps = model.tokenizer.vocab_size, model.tokenizer.num_tokens
    tokens = torch.randint(0, vocab, (3, steps), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        full = model.logits(tokens)
        start = torch.full((3, 1), vocab)
        inputs = torch.cat([start, tokens[:, :-1]], dim=1)
        cache = model.net.new_cache(3, model.net.pos_emb)
        # A prefix of 5 at once, then one token at a time, as sampling does.
        parts = [model.net(inputs[:, :5], cache)]
        parts += [model.net(inputs[:, t : t + 1], cache) for t in range(5, steps)]
    torch.testing.assert_close(torch.cat(parts, dim=1), full, rtol=0, atol=1e-5)


def test_cached_and_uncached_sampling_give_identical_tokens():
    model = ganzoo.build_model("transformer", SPECS["digits"], SMALL["transformer"])
    kwargs = {"temperature": 0.8}
    cached = model.sample_tokens(4, torch.Generator().manual_seed(5), use_cache=True, **kwargs)
    plain = model.sample_tokens(4, torch.Generator().manual_seed(5), use_cache=False, **kwargs)
    assert torch.equal(cached, plain)
    other = model.sample_tokens(4, torch.Generator().manual_seed(6), **kwargs)
    assert not torch.equal(cached, other)


def test_transformer_bits_per_dim_is_the_token_nll():
    spec = SPECS["digits"]
    model = ganzoo.build_model("transformer", spec, SMALL["transformer"]).eval()
    batch = quantized_batch(spec, n=3)
    tokens = model.tokenizer.encode(batch.x)
    with torch.no_grad():
        logp = torch.log_softmax(model.logits(tokens), -1).gather(-1, tokens.unsqueeze(-1))
        bpd = model.bits_per_dim(batch)
    torch.testing.assert_close(bpd, -logp.sum((1, 2)) / (math.log(2) * spec.dims))


def test_temperature_sharpens_samples():
    model = ganzoo.build_model("transformer", SPECS["digits"], SMALL["transformer"])
    with torch.no_grad():
        model.net.head.bias.zero_()
        model.net.head.bias[-1] = 3.0
    cold = model.sample_tokens(8, torch.Generator().manual_seed(0), temperature=0.05)
    hot = model.sample_tokens(8, torch.Generator().manual_seed(0), temperature=5.0)
    top = model.tokenizer.vocab_size - 1
    assert (cold == top).float().mean() > 0.9 > (hot == top).float().mean()


# ----------------------------------------------------------------- real data


def _train(
    model: ganzoo.Model, x: torch.Tensor, steps: int, batch_size: int
) -> tuple[float, float]:
    """Loss on a fixed held batch before and after ``steps`` manual optimizer steps."""
    optimizer = next(iter(model.configure_optimizers().values()))
    phase = model.phases()[0]
    held = Batch(x[:32])

    def held_loss() -> float:
        torch.manual_seed(123)
        with torch.no_grad():
            return float(phase.loss(held)[0])

    before = held_loss()
    torch.manual_seed(0)
    for _ in range(steps):
        idx = torch.randint(0, x.shape[0], (batch_size,))
        loss, _ = phase.loss(Batch(x[idx]))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return before, held_loss()


@pytest.mark.slow
def test_vae_learns_on_mnist5k(mnist_slice):
    torch.manual_seed(0)
    model = ganzoo.build_model("vae", SPECS["mnist"], SMALL["vae"], latent_dim=8, base_channels=8)
    before, after = _train(model, mnist_slice, steps=40, batch_size=32)
    assert after < 0.8 * before, (before, after)


@pytest.mark.slow
def test_transformer_learns_on_mnist5k(mnist_slice):
    torch.manual_seed(0)
    model = ganzoo.build_model(
        "transformer", SPECS["mnist"], SMALL["transformer"], warmup_steps=5, lr=3e-3
    )
    before, after = _train(model, mnist_slice, steps=30, batch_size=16)
    assert after < 0.6 * before, (before, after)
