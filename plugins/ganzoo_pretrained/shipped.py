"""Written by scripts/ship_pretrained.py: name -> (sha256 of model.safetensors, description)."""

SHIPPED: dict[str, tuple[str, str]] = {}
