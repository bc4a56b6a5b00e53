"""Training: one loop for every task and strategy, checkpoints and resume, tracking, distributed.

Entry point: :func:`tamellm.training.run.train_model` (``python -m tamellm.training`` from a shell or torchrun).
"""
