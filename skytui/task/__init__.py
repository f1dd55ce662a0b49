"""Task files: SkyPilot's task YAML dialect, loaded into typed `Task` objects."""

from typing import Any

from skytui.task.spec import Accelerator, Autostop, JobRecovery, Resources, Task

__all__ = ["Accelerator", "Autostop", "JobRecovery", "Resources", "Task", "load_task", "load_task_text"]


def __getattr__(name: str) -> Any:  # lazy: the loader pulls in yaml
    if name in ("load_task", "load_task_text"):
        from skytui.task import loader

        return getattr(loader, name)
    raise AttributeError(name)
