"""The compatibility bench's classifier: a bucket in another cloud's object store is "other
cloud" (out of scope), and skytui refuses such a task in the one line the bench expects."""

from __future__ import annotations

import pytest
import yaml

from bench.bench_compat import FEATURE_WORDS, out_of_scope
from skytui.errors import TaskError
from skytui.task.loader import load_task_text

OTHER = [
    "file_mounts:\n  /ckpt:\n    store: nebius\n    name: ckpt\n",
    "envs:\n  BUCKET: nebius://ckpt\nfile_mounts:\n  /ckpt:\n    source: ${BUCKET}\n",
    "envs:\n  STORE: r2\nfile_mounts:\n  /ckpt:\n    name: ckpt\n    store: $STORE\n",
    "file_mounts:\n  /data: oci://bkt/x\n",
    "file_mounts:\n  /data:\n    source: [https://acct.blob.core.windows.net/c]\n",
]
OURS = [
    "envs:\n  STORE: s3\nfile_mounts:\n  /ckpt:\n    name: ckpt\n    store: $STORE\n",
    "file_mounts:\n  /data: gs://bkt/x\n  /code: ./src\n",
    "file_mounts:\n  /data:\n    source: https://example.com/data\n",
]


@pytest.mark.parametrize("text", OTHER)
def test_another_clouds_store_is_out_of_scope_and_refused_naming_it(text: str) -> None:
    text += "run: 'true'\n"
    assert out_of_scope(list(yaml.safe_load_all(text))) == {"other cloud"}
    with pytest.raises(TaskError) as err:
        load_task_text(text, "t.yaml")
    msg = str(err.value)
    assert "\n" not in msg and FEATURE_WORDS["other cloud"] in msg.lower()
    assert "another cloud's object store" in msg and "run this task with SkyPilot" in msg


@pytest.mark.parametrize("text", OURS)
def test_aws_gcp_and_local_buckets_stay_in_scope(text: str) -> None:
    assert out_of_scope(list(yaml.safe_load_all(text + "run: 'true'\n"))) == set()
