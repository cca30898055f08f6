"""A small decoder-only Transformer with a key/value cache for incremental decoding.

Pre-LayerNorm blocks, learned absolute positions.  With a cache, each call
appends the new keys and values and attends over everything cached so far,
so sampling T tokens costs T single-token passes instead of T full ones.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


class LayerCache:
    """Keys and values of one attention layer, preallocated for the whole sequence."""

    def __init__(self, batch: int, heads: int, max_len: int, head_dim: int, like: torch.Tensor):
        shape = (batch, heads, max_len, head_dim)
        self.k = torch.zeros(shape, dtype=like.dtype, device=like.device)
        self.v = torch.zeros(shape, dtype=like.dtype, device=like.device)
        self.length = 0


class CausalSelfAttention(nn.Module):
    def __init__(self, d_model: int, heads: int, dropout: float) -> None:
        super().__init__()
        if d_model % heads:
            raise ValueError(f"d_model {d_model} is not divisible by n_heads {heads}")
        self.heads, self.head_dim = heads, d_model // heads
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)
        self.dropout = dropout

    def forward(self, x: torch.Tensor, cache: LayerCache | None = None) -> torch.Tensor:
        b, t, d = x.shape
        q, k, v = (
            self.qkv(x).view(b, t, 3, self.heads, self.head_dim).permute(2, 0, 3, 1, 4).unbind(0)
        )
        start = 0
        if cache is not None:
            start = cache.length
            if start + t > cache.k.shape[2]:
                raise ValueError(f"cache holds {cache.k.shape[2]} positions, asked for {start + t}")
            cache.k[:, :, start : start + t] = k.to(cache.k.dtype)
            cache.v[:, :, start : start + t] = v.to(cache.v.dtype)
            cache.length = start + t
            k, v = cache.k[:, :, : start + t].to(q.dtype), cache.v[:, :, : start + t].to(q.dtype)
        p = self.dropout if self.training else 0.0
        if start == 0:
            out = F.scaled_dot_product_attention(q, k, v, dropout_p=p, is_causal=True)
        elif t == 1:  # one new query sees every cached key: no mask needed
            out = F.scaled_dot_product_attention(q, k, v, dropout_p=p)
        else:
            # Query i sits at position start + i and may see keys 0 .. start + i.
            rows = torch.arange(t, device=x.device).unsqueeze(1) + start
            mask = torch.arange(start + t, device=x.device).unsqueeze(0) <= rows
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p)
        return self.proj(out.transpose(1, 2).reshape(b, t, d))


class Block(nn.Module):
    def __init__(self, d_model: int, heads: int, mlp_ratio: int, dropout: float) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(d_model)
        self.attn = CausalSelfAttention(d_model, heads, dropout)
        self.ln2 = nn.LayerNorm(d_model)
        self.mlp = nn.Sequential(
            nn.Linear(d_model, mlp_ratio * d_model),
            nn.GELU(),
            nn.Linear(mlp_ratio * d_model, d_model),
        )
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, cache: LayerCache | None = None) -> torch.Tensor:
        x = x + self.drop(self.attn(self.ln1(x), cache))
        return x + self.drop(self.mlp(self.ln2(x)))


class TokenTransformer(nn.Module):
    """Next-token logits over ``vocab_size`` ids; ids from ``vocab_size`` on start a sequence.

    ``start_tokens`` is 1 for an unconditional model (id ``vocab_size``) and the
    number of classes for a class-conditional one (id ``vocab_size + label``):
    the class token at the start of the sequence.
    """

    def __init__(
        self,
        vocab_size: int,
        max_len: int,
        d_model: int,
        n_layers: int,
        n_heads: int,
        mlp_ratio: int,
        dropout: float,
        start_tokens: int = 1,
    ) -> None:
        super().__init__()
        self.vocab_size, self.max_len = vocab_size, max_len
        self.n_heads, self.head_dim = n_heads, d_model // n_heads
        self.tok_emb = nn.Embedding(vocab_size + start_tokens, d_model)
        self.pos_emb = nn.Parameter(torch.zeros(1, max_len, d_model))
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.ModuleList(
            Block(d_model, n_heads, mlp_ratio, dropout) for _ in range(n_layers)
        )
        self.ln_f = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab_size)
        self._init(n_layers)

    def _init(self, n_layers: int) -> None:
        for module in self.modules():
            if isinstance(module, (nn.Linear, nn.Embedding)):
                nn.init.normal_(module.weight, std=0.02)
            if isinstance(module, nn.Linear) and module.bias is not None:
                nn.init.zeros_(module.bias)
        nn.init.normal_(self.pos_emb, std=0.02)
        # Residual branches start small so the stack begins close to the identity.
        for block in self.blocks:
            for proj in (block.attn.proj, block.mlp[2]):
                nn.init.normal_(proj.weight, std=0.02 / math.sqrt(2 * n_layers))

    def new_cache(self, batch: int, like: torch.Tensor) -> list[LayerCache]:
        return [
            LayerCache(batch, self.n_heads, self.max_len, self.head_dim, like) for _ in self.blocks
        ]

    def forward(self, ids: torch.Tensor, cache: list[LayerCache] | None = None) -> torch.Tensor:
        start = cache[0].length if cache else 0
        t = ids.shape[1]
        x = self.drop(self.tok_emb(ids) + self.pos_emb[:, start : start + t])
        for i, block in enumerate(self.blocks):
            x = block(x, cache[i] if cache else None)
        return self.head(self.ln_f(x))
