"""ganzoo's diffusion family (model ``ddpm``).

Only the hook lives here; torch is imported when the hook runs, so that
``ganzoo --help`` never pays for it.
"""

from ganzoo import hookimpl


@hookimpl
def register_models(register) -> None:
    from .model import DDPM

    register(DDPM)
