"""``python -m tamellm.training --config cfg.yaml [--run-dir D] [--resume]`` (also the torchrun entry)."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    """Train from a YAML config; prints the result as one JSON line (rank 0)."""
    parser = argparse.ArgumentParser(prog="python -m tamellm.training", description=__doc__)
    parser.add_argument("--config", required=True, type=Path, help="YAML config file")
    parser.add_argument("--run-dir", type=Path, default=None, help="run folder (default: a new one in output)")
    parser.add_argument("--resume", action="store_true", help="continue from run-dir/checkpoints/last")
    parser.add_argument("--budget", default=None, help="wall-clock budget, e.g. 90s, 10m")
    parser.add_argument("--params", default=None, help="JSON object of training params overriding the config")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s",
                        stream=sys.stderr)
    from tamellm.config import load_config, parse_budget
    from tamellm.errors import TamellmError
    from tamellm.training import distributed
    from tamellm.training.run import train_model

    try:
        config = load_config(args.config)
        result = train_model(config, run_dir=args.run_dir, resume=args.resume, budget_s=parse_budget(args.budget),
                             params=json.loads(args.params) if args.params else None)
    except TamellmError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    dist = distributed.setup()
    if dist.main:
        sys.stdout.write(json.dumps({"run_dir": str(result.run_dir), "model_dir": str(result.model_dir),
                                     "best_step": result.best_step, "stopped_early": result.stopped_early}) + "\n")
    distributed.teardown(dist)
    return 0


if __name__ == "__main__":
    sys.exit(main())
