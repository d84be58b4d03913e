"""Decoder-only GPT for the reference trainer.

nanoGPT's layout (Karpathy, github.com/karpathy/nanoGPT) with the changes today's small-model baselines
(modded-nanogpt, LLaMA) make to GPT-2: pre-norm RMSNorm (Zhang & Sennrich 2019), rotary position embeddings
(Su et al. 2021) instead of learned positions, a SwiGLU MLP (Shazeer 2020), no biases, input and output
embeddings tied, and causal attention through `F.scaled_dot_product_attention(is_causal=True)`, which runs
the FlashAttention kernel on GPU. Init as GPT-2: N(0, 0.02) everywhere, and the two projections that write
into the residual stream N(0, 0.02 / sqrt(2 * n_layer)), so the stream's variance does not grow with depth.

`flops_per_token` is the PaLM paper's (Chowdhery et al. 2022, appendix B) estimate that nanoGPT's MFU uses:
6 N for the weight matmuls (forward and backward) plus 12 * n_layer * d_model * seq_len for attention.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

INIT_STD = 0.02
VOCAB_MULTIPLE = 64  # nanoGPT pads GPT-2's 50,257 to 50,304: matmuls on multiples of 64 run faster on GPU
FFN_MULTIPLE = 64

# name -> (n_layer, n_head, d_model). "tiny" is for CPU tests and the demo; from "gpt2-124m" on, GPT-2's
# shapes (head dim 64), whose parameter counts SwiGLU keeps (see ffn_dim) and RoPE lowers by the 1,024
# learned positions.
PRESETS: dict[str, tuple[int, int, int]] = {
    "tiny": (2, 4, 128),
    "mini": (4, 4, 256),
    "gpt2-124m": (12, 12, 768),
    "gpt2-350m": (24, 16, 1024),
    "gpt2-774m": (36, 20, 1280),
    "gpt2-1558m": (48, 25, 1600),
}


def padded_vocab_size(vocab_size: int) -> int:
    """`vocab_size` rounded up to a multiple of 64; the padding ids never occur in the data."""
    return VOCAB_MULTIPLE * math.ceil(vocab_size / VOCAB_MULTIPLE)


def ffn_dim(d_model: int) -> int:
    """SwiGLU hidden width: 8/3 d_model rounded up to a multiple of 64, so its three matrices hold as many
    weights as GPT-2's two 4 d_model ones (exactly: 2,048 for d_model 768)."""
    return FFN_MULTIPLE * math.ceil(8 * d_model / 3 / FFN_MULTIPLE)


@dataclass(frozen=True)
class GPTConfig:
    vocab_size: int  # the embedding rows: the tokenizer's vocabulary padded (padded_vocab_size)
    n_layer: int
    n_head: int
    d_model: int
    max_seq_len: int = 1024  # rows of the rotary tables
    rope_base: float = 10_000.0
    norm_eps: float = 1e-6

    def __post_init__(self) -> None:
        if self.d_model % self.n_head or (self.d_model // self.n_head) % 2:
            raise ValueError(f"d_model / n_head must be an even integer (rotary pairs), got "
                             f"{self.d_model=} {self.n_head=}")
        if min(self.vocab_size, self.n_layer, self.n_head, self.max_seq_len) <= 0:
            raise ValueError(f"sizes must be > 0: {self}")


def preset_config(name: str, vocab_size: int, max_seq_len: int, n_layer: int = 0, n_head: int = 0,
                  d_model: int = 0) -> GPTConfig:
    """Preset `name` for a tokenizer of `vocab_size` ids (padded here); a shape argument > 0 overrides."""
    if name not in PRESETS:
        raise ValueError(f"unknown model preset {name!r} (known: {', '.join(PRESETS)})")
    preset_layers, preset_heads, preset_width = PRESETS[name]
    return GPTConfig(vocab_size=padded_vocab_size(vocab_size), n_layer=n_layer or preset_layers,
                     n_head=n_head or preset_heads, d_model=d_model or preset_width, max_seq_len=max_seq_len)


def flops_per_token(config: GPTConfig, n_params: int, seq_len: int) -> int:
    """Training FLOPs per token (forward + backward): 6 N + 12 L d T (PaLM appendix B, nanoGPT's MFU)."""
    return 6 * n_params + 12 * config.n_layer * config.d_model * seq_len


def rotary_tables(head_dim: int, max_seq_len: int, base: float) -> tuple[torch.Tensor, torch.Tensor]:
    """cos and sin of position * base^(-2i / head_dim), each (max_seq_len, head_dim / 2), float32."""
    inv_freq = base ** (-torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim)
    angles = torch.outer(torch.arange(max_seq_len, dtype=torch.float32), inv_freq)
    return angles.cos(), angles.sin()


def apply_rotary(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate the pairs (x[..., i], x[..., i + head_dim/2]) of x (B, T, H, head_dim) by their position's angle
    (the GPT-NeoX / Hugging Face LLaMA layout); cos, sin (T, head_dim / 2)."""
    x1, x2 = x.chunk(2, dim=-1)
    cos, sin = cos[None, :, None, :], sin[None, :, None, :]
    return torch.cat((x1 * cos - x2 * sin, x1 * sin + x2 * cos), dim=-1).type_as(x)


class CausalSelfAttention(nn.Module):
    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.n_head = config.n_head
        self.qkv = nn.Linear(config.d_model, 3 * config.d_model, bias=False)
        self.proj = nn.Linear(config.d_model, config.d_model, bias=False)  # writes into the residual stream

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        batch, seq_len, width = x.shape
        q, k, v = self.qkv(x).view(batch, seq_len, 3, self.n_head, width // self.n_head).unbind(2)  # (B, T, H, hd)
        q, k = apply_rotary(q, cos, sin), apply_rotary(k, cos, sin)
        y = F.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2),
                                           is_causal=True)  # (B, H, T, hd)
        return self.proj(y.transpose(1, 2).reshape(batch, seq_len, width))


class SwiGLU(nn.Module):
    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        hidden = ffn_dim(config.d_model)
        self.gate = nn.Linear(config.d_model, hidden, bias=False)
        self.up = nn.Linear(config.d_model, hidden, bias=False)
        self.down = nn.Linear(hidden, config.d_model, bias=False)  # writes into the residual stream

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down(F.silu(self.gate(x)) * self.up(x))


class Block(nn.Module):
    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.attn_norm = nn.RMSNorm(config.d_model, eps=config.norm_eps)
        self.attn = CausalSelfAttention(config)
        self.mlp_norm = nn.RMSNorm(config.d_model, eps=config.norm_eps)
        self.mlp = SwiGLU(config)

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.attn_norm(x), cos, sin)
        return x + self.mlp(self.mlp_norm(x))


RESIDUAL_PROJECTIONS = ("attn.proj.weight", "mlp.down.weight")


class GPT(nn.Module):
    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.config = config
        self.wte = nn.Embedding(config.vocab_size, config.d_model)
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.n_layer))
        self.norm = nn.RMSNorm(config.d_model, eps=config.norm_eps)
        self.lm_head = nn.Linear(config.d_model, config.vocab_size, bias=False)
        self.lm_head.weight = self.wte.weight  # tied: one (vocab, d_model) matrix reads and writes tokens
        cos, sin = rotary_tables(config.d_model // config.n_head, config.max_seq_len, config.rope_base)
        # not persistent: recomputed from the config, so checkpoints hold only learned weights
        self.register_buffer("rope_cos", cos, persistent=False)
        self.register_buffer("rope_sin", sin, persistent=False)
        self.apply(self._init_weights)
        residual_std = INIT_STD / math.sqrt(2 * config.n_layer)
        for name, param in self.named_parameters():
            if name.endswith(RESIDUAL_PROJECTIONS):
                nn.init.normal_(param, mean=0.0, std=residual_std)

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, mean=0.0, std=INIT_STD)

    def num_params(self) -> int:
        """Learned parameters, the tied embedding counted once."""
        return sum(p.numel() for p in self.parameters())

    def forward(self, idx: torch.Tensor, targets: torch.Tensor | None = None
                ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """idx, targets (B, T) int64 -> logits (B, T, vocab) and the mean cross-entropy over targets."""
        seq_len = idx.shape[1]
        if seq_len > self.config.max_seq_len:
            raise ValueError(f"{seq_len=} > {self.config.max_seq_len=}")
        x = self.wte(idx)  # (B, T, d)
        cos, sin = self.rope_cos[:seq_len], self.rope_sin[:seq_len]
        for block in self.blocks:
            x = block(x, cos, sin)
        logits = self.lm_head(self.norm(x))  # (B, T, vocab)
        if targets is None:
            return logits, None
        # float32 for the softmax: bf16 logits lose the small probabilities the loss is made of
        loss = F.cross_entropy(logits.float().view(-1, logits.shape[-1]), targets.reshape(-1))
        return logits, loss
