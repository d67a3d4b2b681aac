"""The search core shared by validation, inference, the offline/online search
and the app.

- ``repository``: the exported model repository: layout, versions,
  ``preprocessing.json`` beside the network, reading an exported model and
  the files that complete a version.
- ``backends``: where the network runs: onnxruntime in-process (``local``) or
  a KServe-V2 server over gRPC (``triton``), one interface.
- ``snapshotter``: the samples a stream keeps between updates.
- ``stream``: strain through the training preprocessing and the network,
  update by update, with and without injections.
- ``postprocess``: from one network output per kernel to events: causal
  boxcar integration, clustering, peak timing, and the kernel ranges that
  decide the events of chosen spans.
- ``replay``: the outputs and events a job had on a stretch of its stream,
  re-run on the job's kernel grid (the app's inspector).
- ``jobs``: one (background segment, shift) job each: planning, shifted reads,
  the streams and their event files, resumable (infer and the offline search).
- ``online``: a stream fed piece by piece (frames) and its events decided as
  soon as they are certain: the same outputs and events as the offline ones.
- ``testing``: small exported networks and inputs for the tests of the search
  and of its users.
"""

from aframe.search.postprocess import (
    PostprocessError,
    cluster,
    find_events,
    find_window_events,
    integrate,
    kernel_windows,
    peak_centre,
    window_lengths,
    window_samples,
)

__all__ = [
    "PostprocessError",
    "cluster",
    "find_events",
    "find_window_events",
    "integrate",
    "kernel_windows",
    "peak_centre",
    "window_lengths",
    "window_samples",
]
