"""The GAN family: the reference MLP GAN for MNIST, DCGAN and WGAN-GP.

Torch is imported only when the hook runs, so importing the plugin (which
``ganzoo --help`` does through the entry point) stays cheap.
"""

from ganzoo import hookimpl


@hookimpl
def register_models(register) -> None:
    from .dcgan import DCGAN, ConditionalDCGAN
    from .mlp_gan import MLPGAN
    from .wgan_gp import WGANGP

    register(MLPGAN)
    register(DCGAN)
    register(ConditionalDCGAN)
    register(WGANGP)
