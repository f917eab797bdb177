"""What an output folder of ``nanoreverse analyze`` holds, named once: the command line
writes it, and ``report`` and ``export`` read it."""

#: The default store of a folder's finished analyses (``--store`` names another).
STORE = "analyses.sqlite"
#: One JSON line per failed attempt, for people to read.
FAILURES = "failures.jsonl"
#: The storyboard's folder (``--report``, ``nanoreverse report``).
REPORT = "report"
#: The per-video exports' folder (``nanoreverse export`` without ``--to``).
EXPORTS = "exports"
