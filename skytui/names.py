"""Cluster and job names: validated before anything runs, so they are safe everywhere."""

from __future__ import annotations

import re

from skytui.errors import NameError_

NAME_RE = re.compile(r"^[a-z][a-z0-9-]{0,62}\Z")


def validate_name(name: str, what: str = "cluster name") -> str:
    """Return `name` if it is a valid name, else raise a one-line error with the rule."""
    if not isinstance(name, str) or not NAME_RE.fullmatch(name):
        shown = repr(name) if isinstance(name, str) else type(name).__name__
        raise NameError_(
            f"invalid {what} {shown}",
            "use 1-63 lowercase letters, digits and '-', starting with a letter",
        )
    return name


# Managed jobs' clusters are `<job-name>-job<id>`; user clusters may not end that way, so a
# job's cluster can never be one the user made (or will make) by hand.
MANAGED_SUFFIX_RE = re.compile(r"-job[0-9]+\Z")


def managed_cluster_name(job_name: str, job_id: int) -> str:
    """The cluster of managed job `job_id`, cut to fit 63 characters with its suffix kept."""
    suffix = f"-job{job_id}"
    return validate_name(job_name[:63 - len(suffix)].rstrip("-") + suffix)


def is_managed_cluster_name(name: str) -> bool:
    return MANAGED_SUFFIX_RE.search(name) is not None


def validate_new_cluster_name(name: str) -> str:
    """A name for a cluster the user creates: valid, and outside the managed jobs' namespace."""
    validate_name(name)
    if is_managed_cluster_name(name):
        raise NameError_(f"cluster name {name!r} is reserved for managed jobs' clusters (NAME-jobID)",
                         "pick a name that does not end in -job<digits>")
    return name


# A POSIX-portable login name (useradd's default rule, 32 characters): it goes into the SSH
# config verbatim, where a space or a newline would break or rewrite every `ssh` of the user.
USER_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,31}")


def validate_user_name(value: object, where: str) -> str:
    """Return `value` if it is a login name, else a one-line error naming where it came from."""
    if not isinstance(value, str) or not USER_NAME_RE.fullmatch(value):
        raise NameError_(f"{where}: {value!r} is not a valid user name",
                         "use letters, digits, '_', '.', '-' (at most 32), starting with a letter or '_'")
    return value
