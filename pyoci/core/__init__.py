"""The small pieces every command may load: errors, the log, paths, JSON
and the mountinfo parser; none of them imports the rest of pyoci.
"""
