"""Written by scripts/ship_pretrained.py: name -> (sha256 of model.safetensors, description)."""

SHIPPED: dict[str, tuple[str, str]] = {
    "dcgan-mnist5k": (
        "62d534d06b1007632ea0a77a0f1ec83e55844df9220b7aefc90a515b3ef209e8",
        "DCGAN: transposed-conv generator and strided-conv discriminator with batch norm.",
    ),
    "transformer-mnist5k": (
        "d6e2e4e2e39f7bf35cf6d23d989d24e554c391fbdf2a8a51bdea679305a9411c",
        "ImageGPT-style Transformer over quantized patch tokens (default 2x2 grey, 1x1 colour), KV-cached sampling.",
    ),
    "vae-mnist5k": (
        "36d2a514c25cd8d048f27527ccbac045b0d8440e9ab40a9aff8eeeb0d126b2cd",
        "Convolutional VAE with a discretized-logistic decoder (ELBO in bits/dim).",
    ),
    "wgan-gp-mnist5k": (
        "a54f3c60fce600c0568b8e24101ac1529274bb84eb9b22d5051b521d83cdbb5b",
        "WGAN-GP: DCGAN generator, layer-norm critic with gradient penalty, n_critic critic steps per G step.",
    ),
}
