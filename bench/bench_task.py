"""Time the task loader on a normal task and on hostile input (prints figures, asserts nothing).

    cd /work/main && python bench/bench_task.py
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from skytui.errors import TaskError
from skytui.task.loader import load_task_text

SIZE = 300 * 1024
EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "train-spot.yaml"


def _garbage(seed: int) -> dict[str, str]:
    """Several kinds of 300 KB junk: random bytes, YAML punctuation, valid-but-huge YAML."""
    rng = random.Random(seed)
    return {
        "random bytes": bytes(rng.randrange(256) for _ in range(SIZE)).decode("latin-1"),
        "yaml punctuation": "".join(rng.choice("ab: -[]{}\n,'\"#&*!|>") for _ in range(SIZE)),
        "open brackets": "[" * SIZE,
        "nested dashes": "- " * (SIZE // 2),
        "many unknown keys": "".join(f"k{i}: v{i}\n" for i in range(SIZE // 8))[:SIZE],
        "long list": "resources:\n  ports:\n" + "    - 8080\n" * (SIZE // 11),
        "alias bomb": "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
            f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 9) + "]\n"
            for i in range(9)) + "resources:\n  any_of: *j\n",
        "long run script": "run: |\n" + "  echo hello world\n" * (SIZE // 20),
    }


def _time(text: str, repeat: int) -> tuple[float, str]:
    runs = []
    outcome = ""
    for _ in range(repeat):
        t0 = time.perf_counter()
        try:
            load_task_text(text, "bench.yaml")
            outcome = "loaded"
        except TaskError as e:
            outcome = str(e)[:70]
        runs.append(time.perf_counter() - t0)
    return statistics.median(runs), outcome


def main() -> None:
    import yaml

    from skytui.task import yamlnodes

    print(f"parser: {yamlnodes._PARSER.__name__}")
    run_all()
    if yamlnodes._PARSER is not yaml.SafeLoader:
        print("\nparser: SafeLoader (pure Python, for PyYAML built without libyaml)")
        yamlnodes._PARSER = yaml.SafeLoader
        run_all()


def run_all() -> None:
    normal = EXAMPLE.read_text()
    t, outcome = _time(normal, 200)
    print(f"{'normal task (' + EXAMPLE.name + ')':32s} {len(normal):>8d} B  {t * 1e3:8.3f} ms  "
          f"{outcome}")
    worst = 0.0
    for name, text in _garbage(7).items():
        t, outcome = _time(text, 5)
        worst = max(worst, t)
        print(f"{name:32s} {len(text):>8d} B  {t * 1e3:8.3f} ms  {outcome}")
    print(f"slowest garbage: {worst * 1e3:.1f} ms (target: well under 1000 ms)")


if __name__ == "__main__":
    main()
