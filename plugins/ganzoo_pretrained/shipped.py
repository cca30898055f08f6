"""Written by scripts/ship_pretrained.py: name -> (sha256 of model.safetensors, description)."""

SHIPPED: dict[str, tuple[str, str]] = {
    "dcgan-cond-mnist5k": (
        "ae7aed3459f94503b97e6283b0da96a83c648594e20b80bdb0e0b289bf341f92",
        "Class-conditional DCGAN: conditional batch norm in G, projection D (Miyato and Koyama 2018); dcgan with conditional=true.",
    ),
    "dcgan-mnist5k": (
        "62d534d06b1007632ea0a77a0f1ec83e55844df9220b7aefc90a515b3ef209e8",
        "DCGAN: transposed-conv generator and strided-conv discriminator with batch norm.",
    ),
    "ddpm-mnist5k": (
        "db55474a037f1ddb5930b1b20ffbf4efbc9bc43694c8450e59b8afe3c46ce902",
        "DDPM: noise-predicting U-Net, 1000 steps; DDIM or ancestral sampling (NFE set at sampling time).",
    ),
    "gan-mnist5k": (
        "bdc13b92d7e23ae1adf7b08f6ef4a627439a8361a45dca559591d0fc55fc98bb",
        "Reference MLP GAN for MNIST: 256-512-1024 G, 1024-512-256 sigmoid D, BCE, Adam 2e-4.",
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
