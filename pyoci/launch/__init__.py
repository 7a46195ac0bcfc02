"""Starting a process in a container: the compiled shim's one boundary
(native), the sync channel with the child (sync), handing descriptors over
(handover), the cgroup warm-up (warmup), the console (terminal) and the
named steps --debug records and the crash tests stop at (steps).
"""
