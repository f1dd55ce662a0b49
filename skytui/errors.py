"""Typed errors a user can cause or must act on; each renders as one line with the fix."""

from __future__ import annotations


class SkytuiError(Exception):
    """An error meant for the user: one line that names the place and the fix."""

    exit_code = 2

    def __init__(self, message: str, fix: str | None = None) -> None:
        self.problem = message
        self.fix = fix
        super().__init__(f"{message}; {fix}" if fix else message)


class SpecError(SkytuiError):
    """A bad value in a YAML file: rendered as `FILE:LINE:COL: field: problem; fix`."""

    def __init__(
        self,
        problem: str,
        fix: str | None = None,
        *,
        file: str = "<input>",
        line: int = 1,
        col: int = 1,
        field: str = "",
    ) -> None:
        self.file, self.line, self.col, self.field = file, line, col, field
        where = f"{file}:{line}:{col}: "
        what = f"{field}: " if field else ""
        super().__init__(f"{where}{what}{problem}", fix)
        self.problem = problem


class TaskError(SpecError):
    """A task YAML file does not describe a runnable task."""


class TaskErrors(TaskError):
    """Several problems in one task file, reported together: one `FILE:LINE:COL` line each."""

    MAX_SHOWN = 20  # a file with more is likely not a task file at all

    def __init__(self, errors: list[TaskError]) -> None:
        first = errors[0]
        super().__init__(first.problem, first.fix, file=first.file, line=first.line,
                         col=first.col, field=first.field)
        self.errors = errors
        lines = [str(e) for e in errors[: self.MAX_SHOWN]]
        if len(errors) > self.MAX_SHOWN:
            lines.append(f"... and {len(errors) - self.MAX_SHOWN} more problems in {first.file}")
        self.args = ("\n".join(lines),)

    def __str__(self) -> str:
        return str(self.args[0])


class ConfigError(SpecError):
    """The config file is not valid."""


class NameError_(SkytuiError):
    """A cluster or job name that we refuse before anything runs."""


class StateError(SkytuiError):
    """The local state store cannot be used as it is."""


class NotFound(SkytuiError):
    """A cluster, job or node the user named does not exist."""


class NoOffering(SkytuiError):
    """Nothing in the catalog can satisfy the requested resources."""


class CapacityError(SkytuiError):
    """A provider has no capacity (or quota) for the request in that zone."""

    def __init__(self, message: str, *, cloud: str, region: str, zone: str | None = None) -> None:
        self.cloud, self.region, self.zone = cloud, region, zone
        super().__init__(message)


class ProviderError(SkytuiError):
    """A cloud or the local cloud failed in a way the user should hear about."""


class RemoteError(SkytuiError):
    """A node could not be reached or a command on it could not be run."""


class NotAvailableYet(SkytuiError):
    """A command whose feature has not landed yet."""

    exit_code = 3
