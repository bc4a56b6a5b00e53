"""Robustness of a classifier or an NER model: CheckList-style tests built from the user's own texts, and
an adversarial search.

``perturbations.py`` holds the tests (``PERTURBATIONS``: small seeded functions, each with
an expectation), ``runner.py`` runs them over a labelled file, ``attack.py`` is the greedy
attribution-guided word-substitution attack, ``ner.py`` the NER tests, runner and attack
(registered in ``runner.TASK_RUNNERS``), ``report.py`` writes JSON and HTML, and
``lexicon.py`` gives synonyms (WordNet, or the model's embedding neighbours).
"""

from tamellm.robust import perturbations  # noqa: F401 - registers the built-in tests
from tamellm.robust.attack import AttackResult, greedy_attack
from tamellm.robust.ner import NER_PERTURBATIONS, run_ner_robustness  # registers the NER runner
from tamellm.robust.perturbations import PERTURBATIONS, Perturbation, PerturbContext, perturbation
from tamellm.robust.report import render_html, write_report
from tamellm.robust.runner import TASK_RUNNERS, RobustnessResult, TestResult, run_robustness

__all__ = ["NER_PERTURBATIONS", "PERTURBATIONS", "TASK_RUNNERS", "AttackResult", "PerturbContext", "Perturbation",
           "RobustnessResult", "TestResult", "greedy_attack", "perturbation", "render_html", "run_ner_robustness",
           "run_robustness", "write_report"]
