"""Managed jobs: submitted here, launched and recovered by the watcher, torn down at the end."""

from skytui.core.jobs.logs import attempt_log_path, stream_job_logs
from skytui.core.jobs.secrets import load_secrets, save_secrets
from skytui.core.jobs.service import (
    cluster_name_for,
    get_job,
    job_dict,
    queue_rows,
    request_cancel,
    submit,
)
from skytui.core.jobs.taskjson import task_from_dict, task_from_json, task_to_json
from skytui.store.job_states import ACTIVE

__all__ = [
    "ACTIVE", "attempt_log_path", "cluster_name_for", "get_job", "job_dict", "load_secrets", "queue_rows",
    "request_cancel", "save_secrets", "stream_job_logs", "submit", "task_from_dict", "task_from_json",
    "task_to_json",
]
