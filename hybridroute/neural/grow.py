"""Larger policies from trained ones: AAFM layers appended, or the ACVRPTW decoder's window
term added, so that the policy is unchanged.

The shipped policies have L = 3 AAFM layers (the paper: 6). Training a deeper policy from
scratch repeats the whole imitation run; appending layers that start as the identity keeps
everything the trained policy learnt, and lets a fine-tuning run use the extra capacity from
its first step.

Why an appended layer can be the identity: every AAFM block ends in an instance norm, so the
last layer's output is, per channel c, ``w_c · n_c + b_c`` with ``n_c`` normalised over the
nodes (``w``, ``b``: that block's ``norm_out`` affine). A new block first normalises its input
again (``norm_x``), which gives back ``sign(w_c) · n_c``; with ``norm_x`` affine
(``|w|``, ``b``) it rebuilds the input exactly (up to the norm's eps). The attention and
feed-forward branches are added to it through ``norm_m`` and ``ff2``; set to zero, they add
nothing, and ``norm_z`` / ``norm_out`` with the same affine pass the input on. Gradients
still reach both zeroed tensors (their inputs are not zero), so the branches grow from the
first step, much as in ReZero-style initialisation. The other tensors of a new layer are
copied from the last trained layer: a trained starting point, not a random one.

The window term (:class:`~hybridroute.neural.decoder.WindowTerm`) is added to the logit scores
through an output layer that starts at zero: the same policy, whose first fine-tuning steps
move that layer (its hidden layer is drawn at random, its gradient reaches it after the
output layer has left zero).
"""

from __future__ import annotations

import dataclasses

import torch

from .policy import RRNCOPolicy

__all__ = ["grow_layers", "add_window_term"]

_BLOCKS = ("row", "col")


@torch.no_grad()
def grow_layers(policy: RRNCOPolicy, num_layers: int) -> RRNCOPolicy:
    """A copy of ``policy`` with ``num_layers`` AAFM layers, computing the same function.

    Parameters
    ----------
    policy
        A trained policy with L layers.
    num_layers
        The new depth, larger than L.

    Returns
    -------
    RRNCOPolicy
        The deeper policy (eval mode): layers 0..L-1 and the rest of the model are
        ``policy``'s tensors; layers L..num_layers-1 start as the identity (module docstring).

    Raises
    ------
    ValueError
        When ``num_layers`` is not larger than the policy's depth.
    """
    old = policy.config.num_layers
    if num_layers <= old:
        raise ValueError(f"num_layers must be larger than the policy's {old} layers, got {num_layers}")
    config = dataclasses.replace(policy.config, num_layers=num_layers)
    grown = RRNCOPolicy(config)
    state = grown.state_dict()
    source = policy.state_dict()
    for key, tensor in source.items():
        state[key] = tensor.clone()
    last = f"encoder.layers.{old - 1}."
    for i in range(old, num_layers):
        new = f"encoder.layers.{i}."
        for key, tensor in source.items():
            if key.startswith(last):
                state[new + key[len(last):]] = tensor.clone()
        for block in _BLOCKS:
            prefix = f"{new}{block}."
            weight = source[f"{last}{block}.norm_out.weight"]
            bias = source[f"{last}{block}.norm_out.bias"]
            for norm in ("norm_x", "norm_z", "norm_out"):
                state[f"{prefix}{norm}.weight"] = weight.abs().clone()
                state[f"{prefix}{norm}.bias"] = bias.clone()
            for zeroed in ("norm_m.weight", "norm_m.bias", "ff2.weight", "ff2.bias"):
                state[prefix + zeroed] = torch.zeros_like(state[prefix + zeroed])
    grown.load_state_dict(state, strict=True)
    return grown.eval()


@torch.no_grad()
def add_window_term(policy: RRNCOPolicy, hidden: int, seed: int = 0) -> RRNCOPolicy:
    """A copy of an ACVRPTW ``policy`` with a decoder window term of ``hidden`` units that
    computes the same function (the term's output layer is zero).

    Parameters
    ----------
    policy
        A trained ACVRPTW policy without a window term.
    hidden
        The term's hidden width.
    seed
        Seeds the hidden layer's random initialisation (reproducible growth).

    Raises
    ------
    ValueError
        When the policy is not ACVRPTW or already has a window term.
    """
    if policy.config.window_hidden is not None:
        raise ValueError(f"the policy already has a window term ({policy.config.window_hidden} units)")
    config = dataclasses.replace(policy.config, window_hidden=hidden)  # checks the kind
    with torch.random.fork_rng(devices=[]):  # the caller's random state is left as it was
        torch.manual_seed(seed)
        grown = RRNCOPolicy(config)
    state = grown.state_dict()
    for key, tensor in policy.state_dict().items():
        state[key] = tensor.clone()
    grown.load_state_dict(state, strict=True)
    return grown.eval()
