"""The RRNCO neural policy in plain PyTorch (environments, model, training, checkpoints, inference).

Importing this package does not import torch; its modules do. The method is that of
*Neural Combinatorial Optimization for Real-World Routing* (RRNCO, arXiv 2503.16159);
``docs/neural.md`` describes this implementation and its checkpoints, and
:mod:`hybridroute.solvers.rrnco_solver` is the solver backend.
"""
