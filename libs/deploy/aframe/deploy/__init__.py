"""Fan-out of independent jobs on Ray (local cluster by default)."""
