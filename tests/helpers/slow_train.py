"""`python -m seqlab.train`, with every optimizer step slowed by SEQLAB_TEST_STEP_DELAY
seconds, and every checkpoint save held open (its ``.partial`` file written, not yet renamed)
for SEQLAB_TEST_SAVE_DELAY seconds, for tests that kill or signal a run part way. The sleeps
change no number."""

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from seqlab.objectives.base import SeqlabObjective

_optimize = SeqlabObjective.optimize
DELAY = float(os.environ.get("SEQLAB_TEST_STEP_DELAY", "0.1"))


def slowed(self: SeqlabObjective, loss):  # type: ignore[no-untyped-def]
    time.sleep(DELAY)
    return _optimize(self, loss)


SeqlabObjective.optimize = slowed  # type: ignore[method-assign]

SAVE_DELAY = float(os.environ.get("SEQLAB_TEST_SAVE_DELAY", "0"))
if SAVE_DELAY:
    import torch

    _save = torch.save

    def slow_save(obj, target, *args, **kwargs):  # type: ignore[no-untyped-def]
        _save(obj, target, *args, **kwargs)
        if str(getattr(target, "name", "")).endswith(".partial"):
            target.flush()
            time.sleep(SAVE_DELAY)

    torch.save = slow_save

if __name__ == "__main__":
    from seqlab.cli.train import main

    main()
