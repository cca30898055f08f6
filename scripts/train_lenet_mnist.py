"""Train the ``lenet-mnist`` feature extractor on mnist5k's train split and save its weights.

Deterministic on CPU (fixed seed, one thread): rerunning with the same torch
version reproduces the shipped file.  Prints held-out accuracy on mnist5k's
test split and the sha256 to record as ``LENET_SHA256`` in
``plugins/ganzoo_extractors/__init__.py``.

    python scripts/train_lenet_mnist.py [--epochs 20] [--out plugins/ganzoo_extractors/lenet_mnist.pt]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from ganzoo_extractors.lenet import WEIGHTS, LeNet, preprocess

import ganzoo

SEED = 20240601


def shifted(images: torch.Tensor, generator: torch.Generator, max_shift: int = 2) -> torch.Tensor:
    """Random translations by up to ``max_shift`` pixels: cheap augmentation for 4,500 digits."""
    n, _, h, w = images.shape
    padded = F.pad(images, (max_shift,) * 4)
    dx = torch.randint(0, 2 * max_shift + 1, (n,), generator=generator)
    dy = torch.randint(0, 2 * max_shift + 1, (n,), generator=generator)
    out = torch.empty_like(images)
    for i in range(n):
        out[i] = padded[i, :, dy[i] : dy[i] + h, dx[i] : dx[i] + w]
    return out


def accuracy(net: LeNet, images: torch.Tensor, labels: torch.Tensor) -> float:
    net.eval()
    with torch.no_grad():
        rgb = images.expand(-1, 3, -1, -1)
        predicted = torch.cat([net(preprocess(b)).argmax(1) for b in rgb.split(500)])
    return (predicted == labels).float().mean().item()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--out", type=Path, default=WEIGHTS)
    args = parser.parse_args()

    torch.manual_seed(SEED)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    train = ganzoo.load_dataset("mnist5k", "train")
    test = ganzoo.load_dataset("mnist5k", "test")
    images, labels = train.images, train.labels.long()
    generator = torch.Generator().manual_seed(SEED)
    net = LeNet()
    optimizer = torch.optim.Adam(net.parameters(), lr=args.lr)
    steps = args.epochs * ((len(images) + args.batch_size - 1) // args.batch_size)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=args.lr, total_steps=steps)
    start = time.time()
    for epoch in range(args.epochs):
        net.train()
        order = torch.randperm(len(images), generator=generator)
        for batch in order.split(args.batch_size):
            x = preprocess(shifted(images[batch], generator).expand(-1, 3, -1, -1))
            loss = F.cross_entropy(net(x), labels[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
        acc = accuracy(net, test.images, test.labels.long())
        print(f"epoch {epoch + 1}/{args.epochs}  loss {loss.item():.4f}  test accuracy {acc:.4f}")
    state = {k: v.detach().clone().contiguous() for k, v in net.state_dict().items()}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=args.out.parent, suffix=".tmp")
    with os.fdopen(fd, "wb") as fh:
        torch.save(state, fh)
    os.chmod(tmp, 0o644)  # mkstemp creates 0600; the file ships in the package
    os.replace(tmp, args.out)
    digest = hashlib.sha256(args.out.read_bytes()).hexdigest()
    print(f"trained in {time.time() - start:.1f} s")
    print(f"held-out accuracy on mnist5k test (500 images): {acc:.4f}")
    print(f"saved {args.out} ({args.out.stat().st_size} bytes), sha256 {digest}")


if __name__ == "__main__":
    main()
