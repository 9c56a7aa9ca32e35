"""The metrics a study knows, one module per family; importing this package registers them all.

Answer metrics (scored from the answers alone): :mod:`.overlap` (BLEU, ROUGE, token-F1, exact
match), :mod:`.bertscore`, :mod:`.length`, :mod:`.chrf`. Metrics the trial recipe produces
(losses, timings, the quiz, the judge, the knowledge probes) are declared in :mod:`.trial`.
The order of the imports is the order in which metrics are listed.
"""

from __future__ import annotations

# isort: off
from objectives.metrics import overlap  # noqa: F401 - each module registers its metrics
from objectives.metrics import bertscore  # noqa: F401
from objectives.metrics import length  # noqa: F401
from objectives.metrics import chrf  # noqa: F401
from objectives.metrics import trial  # noqa: F401
# isort: on
