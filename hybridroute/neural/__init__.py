"""The RRNCO neural policy in plain PyTorch (environments, model, training, checkpoints, inference).

Importing this package does not import torch; its modules do. See ``RRNCO_SPEC.md`` for
the method and :mod:`hybridroute.solvers.rrnco_solver` for the solver backend.
"""
