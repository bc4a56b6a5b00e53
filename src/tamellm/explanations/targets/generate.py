"""Target for a causal LM: which prompt words drove each generated token.

The answer is generated once (greedy); then, with the generated prefix fixed, output
``i + 1`` is the log-probability of generated token ``i`` and output 0 is the
log-probability of the whole answer (their sum). Only the words of the user's prompt
are attributed, not the chat template around them.
"""

from __future__ import annotations

import torch

from tamellm.explanations.target import ATTENTION, GRADIENTS, PERTURB, Target, check_length, register_target
from tamellm.explanations.targets.common import attention_fn, embedding_layer, removal_ids
from tamellm.explanations.words import words_from_encoding

MAX_NEW_TOKENS = 8


@register_target("generate")
def generator_target(task_model, text: str, max_new_tokens: int = MAX_NEW_TOKENS, **_: object) -> Target:
    """Outputs: the whole answer, then each generated token."""
    model, tokenizer = task_model.model, task_model.tokenizer
    model.eval()
    messages = [{"role": "user", "content": text}]
    templated = (tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
                 if getattr(tokenizer, "chat_template", None) else text)
    enc = tokenizer(templated, return_offsets_mapping=True, add_special_tokens=False)
    prompt = torch.tensor([enc["input_ids"]])
    where = templated.rfind(text)
    words = words_from_encoding(templated, [tuple(o) for o in enc["offset_mapping"]], enc.word_ids(),
                                (where, where + len(text)))
    for w in words:  # offsets are in the templated string: shift them back into ``text``
        w.start, w.end = w.start - where, w.end - where
    _, max_new_tokens = task_model._prepare(messages, max_new_tokens)
    context = task_model._context_size() or 2048
    check_length(prompt.shape[1] + max_new_tokens, context, task_model.name)
    with torch.no_grad():
        out = model.generate(input_ids=prompt, attention_mask=torch.ones_like(prompt),
                             **task_model._generate_kwargs(max_new_tokens, 0.0, 1.0, 0))
    generated = out[0, prompt.shape[1]:]
    eos = task_model._eos_ids()
    if len(generated) and int(generated[-1]) in eos:
        generated = generated[:-1]
    if len(generated) == 0:
        generated = out[0, prompt.shape[1]:prompt.shape[1] + 1]  # explain the end-of-answer token itself
    ids = torch.cat([prompt[0], generated]).unsqueeze(0)
    p, g = prompt.shape[1], len(generated)

    def forward_ids(batch: torch.Tensor) -> torch.Tensor:
        logits = model(input_ids=batch, attention_mask=torch.ones_like(batch)).logits[:, p - 1:p + g - 1].float()
        logp = logits.log_softmax(-1).gather(-1, generated.expand(batch.shape[0], -1).unsqueeze(-1)).squeeze(-1)
        return torch.cat([logp.sum(-1, keepdim=True), logp], dim=-1)

    answer = tokenizer.decode(generated, skip_special_tokens=True).strip() or tokenizer.decode(generated)
    pieces = [f"#{i + 1} {tokenizer.decode([int(t)])!r}" for i, t in enumerate(generated)]
    pad, mask = removal_ids(tokenizer)
    with torch.no_grad():
        scores = forward_ids(ids)[0].tolist()
    target = Target(text, "generate", words, [answer, *pieces], 0, {GRADIENTS, ATTENTION, PERTURB}, ids,
                    pad, mask, embedding_layer(model), forward_ids, attention_fn(model),
                    rollout_queries=list(range(p - 1, p + g - 1)), probabilities=scores, batch_size=16)
    target.extra["generated"] = answer
    return target
