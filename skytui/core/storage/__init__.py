"""Storage mounts: buckets behind `file_mounts` (local://, s3://, gs://), planned, attached
to nodes at launch, and deleted only when skytui created them and the task said
`persistent: false`.

- `local`: the local store, a directory per bucket under the data dir, outside any node's disk.
- `records`: which buckets skytui created (the store's `buckets` table): the proof of ownership.
- `commands`: the shell commands that mount or copy a bucket on a node (all shlex-quoted).
- `attach`: the hooks the planner, the launch flow, `down` and the watcher call.
"""
