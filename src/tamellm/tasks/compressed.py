"""Tasks on "compressed" model folders (int8, low-rank, structurally pruned; see models/compressed_loader).

Once loaded, a compressed folder is an ordinary torch transformers model, so the
classes that serve plain transformers folders for its task serve it too.
"""

from __future__ import annotations

from tamellm.tasks import ner, text_classification  # noqa: F401 - registers the classes aliased below
from tamellm.tasks.base import TASKS, register

for _task in ("classify", "ner"):
    register(_task, kinds=("compressed",))(TASKS[_task]["transformers"])
