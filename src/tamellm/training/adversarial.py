"""Adversarial training on the embedding layer: FGM (Miyato et al., 2017) and PGD (Madry et al., 2018).

Each training batch runs clean, then again with a perturbation ``r`` added to the output
of the model's input embeddings, in the direction that raises the loss; the gradients of
both passes add up before the optimizer step. ``r`` is per example, with L2 norm at most
``epsilon`` over the example's whole sequence of embeddings. FGM takes one step of size
``epsilon`` along the normalised gradient; PGD takes ``adversarial_steps`` smaller steps,
projecting back into the ``epsilon`` ball, and only the last one trains the model.

The perturbation is a forward hook on ``get_input_embeddings()``, so it works for every
strategy: LoRA and prompt tuning (the hooked embeddings sit inside the peft wrapper) and
full fine-tuning alike; a frozen embedding table is no obstacle, because the gradient is
taken with respect to the added ``r``, not the table. When the encoder never runs (head-only
over cached sentence embeddings) the classifier's input is perturbed instead.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator

import torch

from tamellm.errors import ConfigError
from tamellm.registry import Registry
from tamellm.training.distributed import unwrap

logger = logging.getLogger(__name__)


class EmbeddingAdversary:
    """Runs one batch clean and adversarially; subclasses say how ``r`` starts (``_first``)."""

    steps = 1

    def __init__(self, model: torch.nn.Module, epsilon: float, steps: int = 3) -> None:
        if epsilon <= 0:
            raise ConfigError(f"epsilon must be positive, got {epsilon}", "e.g. --epsilon 1.0")
        self.epsilon = float(epsilon)
        self.steps = max(1, int(steps)) if type(self).steps > 1 else 1
        inner = unwrap(model)
        getter = getattr(inner, "get_input_embeddings", None)
        self.targets = {"embeddings": getter() if getter is not None else None,
                        "classifier": getattr(inner, "classifier", None)}
        self.mode: str | None = None  # found on the first batch: where the hook fires
        self.delta: torch.Tensor | None = None  # the perturbation of the current adversarial pass
        self.seen: torch.Tensor | None = None  # the clean pass's zero perturbation: its gradient leads
        self.last: torch.Tensor | None = None

    def _add(self, output: torch.Tensor) -> torch.Tensor:
        if self.delta is None:
            self.seen = torch.zeros_like(output, requires_grad=True)
            return output + self.seen
        return output + self.delta

    @contextlib.contextmanager
    def _perturbing(self, mode: str) -> Iterator[None]:
        module = self.targets[mode]
        if mode == "embeddings":
            handle = module.register_forward_hook(lambda m, args, out: self._add(out))
        else:
            handle = module.register_forward_pre_hook(lambda m, args: (self._add(args[0]), *args[1:]))
        try:
            yield
        finally:
            handle.remove()

    def _norm(self, x: torch.Tensor) -> torch.Tensor:
        dims = tuple(range(1, x.dim()))
        return x.norm(dim=dims, keepdim=True) if dims else x.norm()

    def _normalised(self, grad: torch.Tensor) -> torch.Tensor:
        return grad / self._norm(grad).clamp(min=1e-12)

    def _project(self, delta: torch.Tensor) -> torch.Tensor:
        return delta * (self.epsilon / self._norm(delta).clamp(min=self.epsilon))

    @property
    def alpha(self) -> float:
        """PGD's step size: two steps reach the ball's edge."""
        return self.epsilon / 2

    def _clean(self, loss_fn: Callable[[], torch.Tensor]) -> torch.Tensor:
        """The clean pass, hooked where the model reads its inputs (found on the first batch)."""
        self.delta = self.seen = None
        modes = [self.mode] if self.mode else [m for m, module in self.targets.items() if module is not None]
        for mode in modes:
            if mode == "none":
                break
            with self._perturbing(mode):
                loss = loss_fn()
            if self.seen is not None:
                self.mode = mode
                return loss
        if self.mode is None:
            logger.warning("adversarial training: the model has no input embeddings or classifier to perturb; "
                           "training without it")
            self.mode = "none"
        return loss_fn()

    def step(self, loss_fn: Callable[[], torch.Tensor], accumulation: int) -> torch.Tensor:
        """Clean and adversarial forward/backward passes of one batch; returns the clean loss (detached)."""
        loss = self._clean(loss_fn)
        (loss / accumulation).backward()
        if self.seen is None or self.seen.grad is None:
            return loss.detach()
        self.delta = self._first(self.seen.grad.detach())
        for _ in range(self.steps - 1):  # PGD's inner steps train nothing: the gradient is taken w.r.t. delta only
            self.delta = self.delta.detach().requires_grad_(True)
            with self._perturbing(self.mode):
                inner = loss_fn()
            (grad,) = torch.autograd.grad(inner, self.delta)
            self.delta = self._project(self.delta.detach() + self.alpha * self._normalised(grad))
        self.delta = self.delta.detach()
        with self._perturbing(self.mode):
            adversarial = loss_fn()
        (adversarial / accumulation).backward()
        self.last, self.delta = self.delta, None  # ``last``: the perturbation this batch trained on
        return loss.detach()

    def _first(self, grad: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError


ADVERSARIES: Registry[type[EmbeddingAdversary]] = Registry("adversaries", "adversarial training method")


@ADVERSARIES.register("fgm")
class FGM(EmbeddingAdversary):
    """Fast gradient method: ``r = epsilon * g / ||g||``, one adversarial pass."""

    def _first(self, grad: torch.Tensor) -> torch.Tensor:
        return self.epsilon * self._normalised(grad)


@ADVERSARIES.register("pgd")
class PGD(EmbeddingAdversary):
    """Projected gradient descent: ``adversarial_steps`` ascent steps of size epsilon/2 inside the epsilon ball."""

    steps = 3

    def _first(self, grad: torch.Tensor) -> torch.Tensor:
        return self._project(self.alpha * self._normalised(grad))


def make_adversary(model: torch.nn.Module, params: object) -> EmbeddingAdversary | None:
    """The run's adversary from ``params.adversarial`` ("none": None)."""
    name = getattr(params, "adversarial", "none")
    if name == "none":
        return None
    return ADVERSARIES[name](model, float(getattr(params, "epsilon", 1.0)),
                             int(getattr(params, "adversarial_steps", 3)))
