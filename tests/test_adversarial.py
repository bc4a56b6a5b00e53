"""Adversarial training (FGM, PGD) on a tiny BERT: the perturbation, the summed gradients, every strategy's hook."""

from __future__ import annotations

import json

import pytest
import torch

from tamellm.errors import ConfigError
from tamellm.training.adversarial import FGM, PGD

pytestmark = pytest.mark.usefixtures("quiet_one_thread")


@pytest.fixture()
def classifier(tiny_classifier_dir, bert_tokenizer):
    from transformers import BertForSequenceClassification

    model = BertForSequenceClassification.from_pretrained(tiny_classifier_dir).eval()  # eval: no dropout noise
    batch = dict(bert_tokenizer(["a great film", "Angela Merkel met the president", "bad", "the final match"],
                                padding=True, return_tensors="pt"))
    batch["labels"] = torch.tensor([1, 0, 0, 1])
    return model, batch


def _loss(model, batch):
    return model(**batch).loss


def _grads(model):
    return {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}


def _loss_with(model, adversary, delta, batch):
    adversary.delta = delta
    with adversary._perturbing("embeddings"):
        return float(_loss(model, batch))


def test_fgm_adds_the_gradient_of_a_worse_loss_at_epsilon_from_the_clean_one(classifier):
    model, batch = classifier
    _loss(model, batch).backward()
    clean_grads, clean_loss = _grads(model), float(_loss(model, batch).detach())
    model.zero_grad()
    adversary = FGM(model, epsilon=0.5)
    returned = adversary.step(lambda: _loss(model, batch), accumulation=1)
    assert adversary.mode == "embeddings" and float(returned) == pytest.approx(clean_loss, rel=1e-5)
    delta = adversary.last
    assert delta.shape[:2] == batch["input_ids"].shape
    norms = delta.flatten(1).norm(dim=1)
    assert torch.allclose(norms, torch.full_like(norms, 0.5), atol=1e-5)  # epsilon per example
    summed = _grads(model)
    model.zero_grad()
    adversary.delta = delta
    with adversary._perturbing("embeddings"):
        adversarial_loss = _loss(model, batch)
    adversarial_loss.backward()
    assert float(adversarial_loss) > clean_loss  # the step goes uphill
    for name, grad in _grads(model).items():  # what the optimizer sees: clean + adversarial gradients
        assert torch.allclose(summed[name], clean_grads[name] + grad, atol=1e-6), name
    # r follows the loss's gradient: a random direction of the same size hurts less
    random_delta = torch.randn_like(delta)
    random_delta = 0.5 * random_delta / random_delta.flatten(1).norm(dim=1)[:, None, None]
    assert _loss_with(model, adversary, random_delta, batch) < float(adversarial_loss)


def test_pgd_stays_in_the_ball_trains_only_on_its_last_step_and_beats_fgm(classifier):
    model, batch = classifier
    fgm, pgd = FGM(model, epsilon=0.5), PGD(model, epsilon=0.5, steps=4)
    assert pgd.steps == 4 and fgm.steps == 1
    fgm.step(lambda: _loss(model, batch), 1)
    model.zero_grad()
    pgd.step(lambda: _loss(model, batch), 1)
    after_pgd = _grads(model)
    assert bool((pgd.last.flatten(1).norm(dim=1) <= 0.5 + 1e-5).all())
    fgm_loss, pgd_loss = _loss_with(model, fgm, fgm.last, batch), _loss_with(model, pgd, pgd.last, batch)
    assert pgd_loss >= fgm_loss - 1e-4
    model.zero_grad()
    _loss(model, batch).backward()
    clean = _grads(model)
    model.zero_grad()
    pgd.delta = pgd.last
    with pgd._perturbing("embeddings"):
        _loss(model, batch).backward()
    last = _grads(model)
    for name, grad in after_pgd.items():  # the inner ascent steps left no gradient on the weights
        assert torch.allclose(grad, clean[name] + last[name], atol=1e-6), name


def test_frozen_embeddings_are_perturbed_too(classifier):
    """LoRA, prompt tuning and head-only freeze the embedding table: the gradient is taken w.r.t. r itself."""
    model, batch = classifier
    for param in model.bert.parameters():
        param.requires_grad_(False)
    adversary = FGM(model, epsilon=1.0)
    adversary.step(lambda: _loss(model, batch), 1)
    assert adversary.mode == "embeddings" and adversary.last is not None
    assert model.classifier.weight.grad is not None and model.bert.embeddings.word_embeddings.weight.grad is None


def test_adversarial_training_runs_through_train_and_names_are_checked(tmp_path, tiny_bert_dir):
    import tamellm
    from tests.test_train_core import write_sentiment

    data = write_sentiment(tmp_path / "reviews.csv", n=120)
    run = tamellm.train(data=str(data), model=str(tiny_bert_dir), strategy="full", epochs=4, batch_size=16,
                        learning_rate=5e-3, early_stopping_patience=0, seed=3, output=str(tmp_path / "runs"),
                        adversarial="pgd", epsilon=0.02, adversarial_steps=2)
    params = json.loads((run.run_dir / "params.json").read_text())
    assert (params["adversarial"], params["epsilon"], params["adversarial_steps"]) == ("pgd", 0.02, 2)
    assert tamellm.load(run.model_dir).predict("the film was great").label in ("positive", "negative")
    # (whether it helps is measured on SST-2 by bench/robustness_sst2.py: a tiny random BERT learns this task
    # only at the edge of its budget, so one extra forward pass per step already changes where it ends)
    with pytest.raises(ConfigError, match="adversarial 'fgn' is not known.*fgm"):
        tamellm.train(data=str(data), model=str(tiny_bert_dir), strategy="full", adversarial="fgn",
                      output=str(tmp_path / "runs"))
    with pytest.raises(ConfigError, match="epsilon > 0"):
        tamellm.train(data=str(data), model=str(tiny_bert_dir), strategy="full", adversarial="fgm", epsilon=0,
                      output=str(tmp_path / "runs"))
