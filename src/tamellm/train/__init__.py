"""Training: one loop for every task and strategy, checkpoints and resume, tracking, distributed.

Entry point: :func:`tamellm.train.run.train_model` (``python -m tamellm.train`` from a shell or torchrun).
"""
