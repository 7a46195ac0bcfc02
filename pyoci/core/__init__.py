"""The small pieces every command may load: errors, the log, paths, JSON,
/proc (procfs) and the mountinfo parser; none of them imports the rest of
pyoci.
"""
